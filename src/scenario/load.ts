/**
 * Loading scenario files: YAML (with source positions) -> environment
 * variables -> schema (zod) -> semantic checks -> a compiled scenario.
 * Every problem is reported as `file:line:col: message (hint)`, all at once.
 *
 * The steps live in load/: yaml.ts (bounds, syntax, environment.ts,
 * positions.ts), issues.ts (schema problems; keys.ts reads the allowed keys
 * from the schema), rules.ts, answers.ts, bodies.ts, then.ts and
 * media-files.ts (what the schema cannot say).
 */
import { readFileSync, statSync } from "node:fs";
import { DEFAULT_MAX_SCENARIO_BYTES, type ScenarioLimits, tooManyRules } from "./bounds.js";
import { bundledScenarios, looksLikeName, resolveScenarioPath } from "./bundled.js";
import { reportSchemaIssues } from "./load/issues.js";
import { checkMedia } from "./load/media-files.js";
import {
  type LoadResult,
  type Report,
  ScenarioLoadError,
  type ScenarioProblem,
  type ScenarioSource,
} from "./load/problems.js";
import { checkSemantics } from "./load/rules.js";
import { didYouMean } from "./load/suggest.js";
import { type At, readYaml } from "./load/yaml.js";
import { Rule, type RuleT, ScenarioFile } from "./schema.js";

export {
  formatProblem,
  ScenarioLoadError,
  type ScenarioProblem,
  type ScenarioSource,
} from "./load/problems.js";
export { didYouMean } from "./load/suggest.js";

/** Parses and validates one scenario text. `file` is used in messages and to resolve body files. */
export interface ParseOptions extends ScenarioLimits {
  /**
   * Whether `body: { file }` may read files (relative to the scenario file).
   * Off for scenarios that do not come from a file (admin API, overrides,
   * YAML text): a remote caller must not make the server read its files.
   */
  readonly allowFiles?: boolean;
}

export function parseScenario(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: ParseOptions = { allowFiles: true },
): LoadResult {
  const problems: ScenarioProblem[] = [];
  const at: At = (pos, message, hint) =>
    problems.push({ file, line: pos.line, col: pos.col, message, ...(hint ? { hint } : {}) });
  const doc = readYaml(text, env, options, at);
  if (!doc) return { ok: false, problems };
  const { data, positions } = doc;
  const ruleCount = (data as { rules?: unknown }).rules;
  const many = Array.isArray(ruleCount) ? tooManyRules(ruleCount.length, options) : undefined;
  if (many) {
    at(positions.at(["rules"], true), many, "split the scenario, or raise --max-rules");
    return { ok: false, problems };
  }
  const parsed = ScenarioFile.safeParse(data, { reportInput: true });
  const files = new Map<string, string>();
  const report: Report = (path, message, hint, key) => at(positions.at(path, key), message, hint);
  const allowFiles = options.allowFiles === true;
  if (!parsed.success) {
    reportSchemaIssues(parsed.error.issues, report);
    // The rules that are well-formed still get their semantic checks, so one run shows every problem.
    const rules = wellFormedRules(data);
    if (rules) checkSemantics(rules, file, report, files, allowFiles);
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, problems };
  }
  const def = parsed.data;
  checkSemantics(def.rules, file, report, files, allowFiles);
  const mediaFiles = new Map<string, string>();
  checkMedia(def.rules, file, report, mediaFiles, allowFiles);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, source: { file, definition: def, files, mediaFiles } };
}

/** Each rule of a file the schema refused, or undefined where that rule is itself refused. */
function wellFormedRules(data: unknown): Array<RuleT | undefined> | undefined {
  const raw = (data as { rules?: unknown }).rules;
  if (!Array.isArray(raw)) return undefined;
  return raw.map((r) => {
    const one = Rule.safeParse(r);
    return one.success ? one.data : undefined;
  });
}

/**
 * Reads, parses and validates one file, given by path or by bundled name
 * (`busy`: scenarios/busy.yaml of the package); an unreadable file is a
 * problem like any other.
 */
export function readScenarioFile(
  spec: string,
  env: NodeJS.ProcessEnv = process.env,
  limits: ScenarioLimits = {},
): LoadResult {
  const path = resolveScenarioPath(spec);
  let text: string;
  try {
    // Refused before it is read: a huge file must not be loaded to be measured.
    const max = limits.maxBytes ?? DEFAULT_MAX_SCENARIO_BYTES;
    const size = statSync(path).size;
    if (size > max) {
      const message = `scenario is ${size} octets, more than the ${max} accepted`;
      const hint =
        "split it into several files (--scenario a.yaml --scenario b.yaml), or raise --max-scenario-size";
      return { ok: false, problems: [{ file: path, line: 1, col: 1, message, hint }] };
    }
    text = readFileSync(path, "utf8");
  } catch (e) {
    return { ok: false, problems: [unreadableFile(spec, e)] };
  }
  return parseScenario(text, path, env, { allowFiles: true, ...limits });
}

/**
 * A file that cannot be read: said plainly, with no position (line 0) since
 * there is no text; a missing one that looks like a name lists the bundled ones.
 */
export function unreadableFile(spec: string, e: unknown): ScenarioProblem {
  const code = (e as NodeJS.ErrnoException).code;
  const where = { file: spec, line: 0, col: 0 };
  const names = bundledScenarios().map((b) => b.name);
  const bundled = `bundled scenarios: ${names.join(", ")} (sipmock scenarios)`;
  if (code === "ENOENT" && looksLikeName(spec)) {
    const suggestion = didYouMean(spec, names);
    return {
      ...where,
      message: `no such file, and no bundled scenario named "${spec}"`,
      hint: `${suggestion ? `did you mean "${suggestion}"? ` : ""}${bundled}`,
    };
  }
  const [message, hint] =
    code === "ENOENT"
      ? ["no such file", "check the path"]
      : code === "EISDIR"
        ? ["is a directory, not a scenario file", "name a YAML file in it"]
        : code === "EACCES"
          ? ["permission denied", "make it readable"]
          : [`cannot read: ${code ?? (e as Error).message}`, "check the path"];
  return { ...where, message, hint };
}

/** Reads, parses and validates files; rules of several files are merged in order. */
export function loadScenarioFiles(
  paths: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  limits: ScenarioLimits = {},
): ScenarioSource[] {
  const problems: ScenarioProblem[] = [];
  const sources: ScenarioSource[] = [];
  for (const path of paths) {
    const r = readScenarioFile(path, env, limits);
    if (r.ok) sources.push(r.source);
    else problems.push(...r.problems);
  }
  if (problems.length > 0) throw new ScenarioLoadError(problems);
  return sources;
}
