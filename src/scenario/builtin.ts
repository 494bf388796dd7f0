/**
 * The scenarios sipmock ships: the embedded default (scenarios/default.yaml,
 * dial-a-code) and `sipmock respond CODE`, which is one rule in front of it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { ScenarioEngine } from "./engine.js";
import { formatProblem, parseScenario, ScenarioLoadError, type ScenarioSource } from "./load.js";
import type { RuleT, ScenarioFileT } from "./schema.js";

/** scenarios/default.yaml, shipped in the package next to dist/ and src/. */
export const DEFAULT_SCENARIO_FILE = fileURLToPath(new URL("../../scenarios/default.yaml", import.meta.url));

export function defaultScenarioSource(): ScenarioSource {
  const r = parseScenario(readFileSync(DEFAULT_SCENARIO_FILE, "utf8"), DEFAULT_SCENARIO_FILE);
  if (!r.ok) throw new ScenarioLoadError(r.problems);
  return r.source;
}

export interface RespondOptions {
  readonly code: number;
  readonly reason?: string;
  /** Methods the rule applies to; default INVITE. */
  readonly methods?: readonly string[];
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/** The "file" of problems in `sipmock respond`'s flags: they have no position. */
export const RESPOND_SOURCE = "sipmock respond";

/** The one-rule scenario `sipmock respond` stands for, validated like a file. */
export function respondScenarioSource(o: RespondOptions): ScenarioSource {
  const methods = (o.methods ?? ["INVITE"]).map((m) => m.toUpperCase());
  const rule: RuleT = {
    name: `respond ${o.code}`,
    match: { method: methods.length === 1 ? methods[0]! : methods },
    respond: o.code,
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.headers?.length ? { headers: Object.fromEntries(o.headers.map(([n, v]) => [n, v])) } : {}),
  };
  const def: ScenarioFileT = { name: `respond ${o.code}`, rules: [rule] };
  const r = parseScenario(stringify(def), RESPOND_SOURCE, {});
  if (!r.ok) {
    throw new ScenarioLoadError(r.problems.map((p) => ({ ...p, file: RESPOND_SOURCE, line: 0, col: 0 })));
  }
  return r.source;
}

export function defaultScenario(): ScenarioEngine {
  return new ScenarioEngine([defaultScenarioSource()]);
}

/** Problems one per line; those of `respond`'s flags without the meaningless source name. */
export function describeLoadError(e: ScenarioLoadError): string {
  return e.problems
    .map((p) =>
      p.file === RESPOND_SOURCE ? `${p.message}${p.hint ? `; fix: ${p.hint}` : ""}` : formatProblem(p),
    )
    .join("\n");
}
