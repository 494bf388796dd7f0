#!/usr/bin/env node
/**
 * Bundles the browser UI (ui/src, TypeScript) into dist/ui/app.js and
 * dist/ui/app.css, minified, no network: the admin listener serves them and
 * `sipmock report` inlines them. Run by `npm run build`.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// `node scripts/build-ui.mjs [OUTDIR]`: dist/ui by default (tests build elsewhere).
const out = process.argv[2] ? resolve(process.argv[2]) : join(root, "dist", "ui");
mkdirSync(out, { recursive: true });

await build({
  absWorkingDir: root,
  entryPoints: { app: "ui/src/main.ts" },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  platform: "browser",
  legalComments: "none",
  logLevel: "warning",
});
await build({
  absWorkingDir: root,
  entryPoints: { app: "ui/src/app.css" },
  outdir: out,
  bundle: true,
  minify: true,
  logLevel: "warning",
});

// The report inlines both files in <script> and <style>: a closing tag inside would end them early.
for (const [file, tag] of [
  ["app.js", "</script"],
  ["app.css", "</style"],
]) {
  const text = readFileSync(join(out, file), "utf8");
  if (text.toLowerCase().includes(tag))
    throw new Error(`${join(out, file)} contains "${tag}": it cannot be inlined`);
  if (file === "app.js" && /\beval\(|new Function\(/.test(text))
    throw new Error("app.js uses eval: the Content-Security-Policy forbids it");
}
