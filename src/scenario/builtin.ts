/**
 * The scenarios sipmock ships: the embedded default (scenarios/default.yaml,
 * dial-a-code) and `sipmock respond CODE`: one rule in front of the built-in
 * UAS alone (no dial-a-code), or in front of the user's scenario files.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { BUNDLED_SCENARIO_DIR } from "./bundled.js";
import { ScenarioEngine } from "./engine.js";
import { formatProblem, parseScenario, ScenarioLoadError, type ScenarioSource } from "./load.js";
import type { RuleT, ScenarioFileT } from "./schema.js";

/** scenarios/default.yaml, shipped in the package. */
export const DEFAULT_SCENARIO_FILE = join(BUNDLED_SCENARIO_DIR, "default.yaml");

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
  /** RTP of the calls it answers: echo, silence, or a tone preset (ringback, busy, 1khz). */
  readonly media?: "echo" | "silence" | "ringback" | "busy" | "1khz";
}

/** The "file" of problems in `sipmock respond`'s flags: they have no position. */
export const RESPOND_SOURCE = "sipmock respond";

/**
 * What `sipmock respond` answers the rest with when no scenario file is
 * given: the built-in UAS (an answered call, a registrar, OPTIONS
 * capabilities...), without dial-a-code: `respond 486` means 486, and an
 * OPTIONS to sip:503@ is not a 503.
 */
export function builtinUasSource(): ScenarioSource {
  const def: ScenarioFileT = {
    name: "built-in UAS",
    rules: [{ name: "built-in UAS", default: true }],
  };
  const r = parseScenario(stringify(def), RESPOND_SOURCE, {});
  if (!r.ok) throw new ScenarioLoadError(r.problems);
  return r.source;
}

/** The one-rule scenario `sipmock respond` stands for, validated like a file. */
export function respondScenarioSource(o: RespondOptions): ScenarioSource {
  const methods = (o.methods ?? ["INVITE"]).map((m) => m.toUpperCase());
  const rule: RuleT = {
    name: `respond ${o.code}`,
    match: { method: methods.length === 1 ? methods[0]! : methods },
    respond: o.code,
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.headers?.length ? { headers: Object.fromEntries(o.headers.map(([n, v]) => [n, v])) } : {}),
    ...(o.media ? { media: o.media === "echo" || o.media === "silence" ? o.media : { tone: o.media } } : {}),
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
