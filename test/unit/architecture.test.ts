/**
 * Issue 11: the folders follow the RFC 3261 layers and imports go one way,
 * catalog, sip -> transport -> transaction -> ua (media beside it) ->
 * scenario -> control -> cli. A lower layer defines the interface it needs
 * (src/ua/ports.ts) and a higher one implements it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = join(ROOT, "src");

/** The layer of each folder; a module may import only its own folder and lower layers. */
const LAYERS: Record<string, number> = {
  catalog: 0,
  sip: 0,
  transport: 1,
  transaction: 2,
  media: 2,
  ua: 3,
  scenario: 4,
  control: 5,
  cli: 6,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Folder (first path segment under src/) of a module; "" for src/index.ts and src/version.ts. */
function folderOf(src: string, path: string): string {
  const rel = relative(src, path).split("\\");
  const parts = rel.join("/").split("/");
  return parts.length > 1 ? parts[0]! : "";
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g)) out.push(m[1]!);
  return out;
}

function violations(src = SRC): string[] {
  const found: string[] = [];
  for (const file of sources(src)) {
    const from = folderOf(src, file);
    if (from === "") continue; // src/index.ts re-exports the public API
    for (const spec of importsOf(file)) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src)) continue;
      const to = folderOf(src, target);
      if (to === "" || to === from) continue; // src/version.ts is a leaf every layer may read
      const ok = LAYERS[to]! < LAYERS[from]!;
      if (!ok) found.push(`${relative(dirname(src), file)} imports ${spec} (${from} -> ${to})`);
    }
  }
  return found;
}

describe("architecture", () => {
  it("every folder under src/ has a layer", () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(folders.filter((f) => LAYERS[f] === undefined)).toEqual([]);
  });

  it("imports go one way: catalog, sip -> transport -> transaction -> ua -> scenario -> control -> cli", () => {
    expect(violations()).toEqual([]);
  });

  it("the check reports a wrong-way import and accepts a right-way one", () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-arch-"));
    try {
      const src = join(dir, "src");
      for (const f of ["ua", "scenario", "sip"]) mkdirSync(join(src, f), { recursive: true });
      writeFileSync(join(src, "sip", "p.ts"), "export const p = 1;\n");
      writeFileSync(join(src, "scenario", "s.ts"), 'import { p } from "../sip/p.js";\nexport const s = p;\n');
      writeFileSync(join(src, "ua", "u.ts"), 'import { s } from "../scenario/s.js";\nexport const u = s;\n');
      expect(violations(src)).toEqual(["src/ua/u.ts imports ../scenario/s.js (ua -> scenario)"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
