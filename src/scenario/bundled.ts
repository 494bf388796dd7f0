/**
 * The scenarios shipped in the package (scenarios/*.yaml), by name: what
 * `--scenario busy`, `startSipMock({ scenario: "busy" })` and `sipmock
 * scenarios` use. A path that exists always wins over a bundled name.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** scenarios/, shipped in the package next to dist/ and src/. */
export const BUNDLED_SCENARIO_DIR = fileURLToPath(new URL("../../scenarios/", import.meta.url));

export interface BundledScenario {
  /** The file's base name without `.yaml`: what `--scenario NAME` takes. */
  readonly name: string;
  /** Absolute path of the file in the installed package. */
  readonly file: string;
  /** The file's `description:` on one line. */
  readonly description: string;
}

/** Every bundled scenario, sorted by name. */
export function bundledScenarios(): BundledScenario[] {
  return readdirSync(BUNDLED_SCENARIO_DIR)
    .filter((f) => extname(f) === ".yaml")
    .sort()
    .map((f) => {
      const file = join(BUNDLED_SCENARIO_DIR, f);
      return { name: basename(f, ".yaml"), file, description: describe(file) };
    });
}

function describe(file: string): string {
  const data = parse(readFileSync(file, "utf8")) as { description?: unknown } | null;
  return typeof data?.description === "string" ? data.description.replace(/\s+/g, " ").trim() : "";
}

/** The bundled file named `name` (`busy`, `busy.yaml`), or undefined. */
export function bundledScenarioFile(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return undefined;
  const file = join(BUNDLED_SCENARIO_DIR, name.endsWith(".yaml") ? name : `${name}.yaml`);
  return isFile(file) ? file : undefined;
}

/** A name, not a path: no directory part and no extension (`busy`, not `./busy` or `busy.yml`). */
export function looksLikeName(spec: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(spec);
}

/**
 * Where `--scenario SPEC` reads from: SPEC itself when it is a file, else
 * the bundled scenario of that name, else SPEC (reading it then fails with
 * the usual problem).
 */
export function resolveScenarioPath(spec: string): string {
  if (isFile(spec)) return spec;
  return bundledScenarioFile(spec) ?? spec;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
