/**
 * The scenario answering now, swapped atomically: the rules behind the
 * overrides, and the digest authenticator that goes with them (from the
 * options, else from the scenario's `auth:`).
 */
import type { ScenarioLimits } from "../../scenario/bounds.js";
import {
  builtinUasSource,
  defaultScenarioSource,
  type RespondOptions,
  respondScenarioSource,
} from "../../scenario/builtin.js";
import { toMs } from "../../scenario/duration.js";
import { ScenarioEngine } from "../../scenario/engine.js";
import { loadScenarioFiles, parseScenario, ScenarioLoadError } from "../../scenario/load.js";
import type { ExpectationT } from "../../scenario/schema.js";
import type { Scenario } from "../../scenario/types.js";
import { Authenticator } from "../../ua/auth/authenticator.js";
import type { Overrides } from "../overrides.js";
import type { SipMockOptions } from "./options.js";

/** What the slot needs of the options. */
export type ScenarioOptions = Pick<
  SipMockOptions,
  "scenario" | "respond" | "scenarioLimits" | "auth" | "realm"
>;

export class ScenarioSlot {
  private scenario: Scenario;
  private auth: Authenticator | undefined;
  /** What the UA asks: the overrides first, then the current scenario. */
  readonly view: Scenario;

  constructor(
    private readonly options: ScenarioOptions,
    overrides: Overrides,
    private readonly wallNow: () => number,
  ) {
    this.scenario = buildScenario(options.scenario, options.respond, options.scenarioLimits ?? {});
    this.auth = this.authFor(this.scenario);
    this.view = overridesFirst(overrides, () => this.scenario);
  }

  get current(): Scenario {
    return this.scenario;
  }

  get authenticator(): Authenticator | undefined {
    return this.auth;
  }

  /** File path(s) or bundled names, YAML text (containing a newline) or a Scenario object; throws when invalid. */
  set(next: string | readonly string[] | Scenario): Scenario {
    const limits = this.options.scenarioLimits ?? {};
    this.scenario =
      typeof next === "string" && next.includes("\n")
        ? scenarioFromYaml(next, "inline", {}, limits)
        : buildScenario(next, this.options.respond, limits);
    this.auth = this.authFor(this.scenario);
    return this.scenario;
  }

  /** Scenario state, rule counters and sequences back to their start. */
  reset(): void {
    if (this.scenario instanceof ScenarioEngine) this.scenario.reset();
  }

  get expectations(): readonly ExpectationT[] {
    return this.scenario instanceof ScenarioEngine ? this.scenario.expectations : [];
  }

  /** From the options, else from the scenario; rebuilt when the scenario changes. */
  private authFor(s: Scenario): Authenticator | undefined {
    const { auth, realm } = this.options;
    if (auth) return new Authenticator(auth, this.wallNow);
    const a = s instanceof ScenarioEngine ? s.auth : undefined;
    if (!a) return undefined;
    return new Authenticator(
      {
        realm: a.realm ?? realm ?? "sipmock",
        users: a.users,
        ...(a.algorithms ? { algorithms: a.algorithms } : {}),
        ...(a.qop ? { qop: a.qop } : {}),
        ...(a.methods ? { methods: a.methods } : {}),
        ...(a.proxy !== undefined ? { proxy: a.proxy } : {}),
        ...(a.nonceTtl !== undefined ? { nonceTtlMs: toMs(a.nonceTtl) } : {}),
        ...(a.wrongPassword ? { wrongPassword: a.wrongPassword } : {}),
      },
      this.wallNow,
    );
  }
}

/** A scenario that asks the overrides first and reads everything else from the current scenario. */
function overridesFirst(overrides: Overrides, current: () => Scenario): Scenario {
  return {
    get name() {
      return current().name;
    },
    decide: (facts) => overrides.decide(facts, current()),
    describe: () => current().describe(),
    get messageSummary() {
      return current().messageSummary;
    },
    get reliableProvisionals() {
      return current().reliableProvisionals;
    },
    get eventPackages() {
      return current().eventPackages;
    },
    get mediaPort() {
      return current().mediaPort;
    },
  };
}

/**
 * Files (validated, merged in order), a Scenario object, or the embedded
 * default; `respond` goes first, and without files it stands in front of
 * the built-in UAS alone: dial-a-code is not part of `respond`.
 */
function buildScenario(
  spec: SipMockOptions["scenario"],
  respond?: RespondOptions,
  limits: ScenarioLimits = {},
): Scenario {
  if (spec !== undefined && typeof spec !== "string" && !Array.isArray(spec)) {
    if (respond) throw new Error("respond and a Scenario object cannot be combined");
    return spec as Scenario;
  }
  const files = spec === undefined ? [] : typeof spec === "string" ? [spec] : (spec as readonly string[]);
  const sources =
    files.length > 0
      ? loadScenarioFiles(files, process.env, limits)
      : respond
        ? [builtinUasSource()]
        : [defaultScenarioSource()];
  return new ScenarioEngine(respond ? [respondScenarioSource(respond), ...sources] : sources);
}

/**
 * A scenario from YAML text (an admin call, a test): validated like a file
 * named "inline", but without the process environment (unless given) and
 * without body files, so a remote caller learns nothing of the host.
 */
export function scenarioFromYaml(
  text: string,
  name = "inline",
  env: NodeJS.ProcessEnv = {},
  limits: ScenarioLimits = {},
): ScenarioEngine {
  const r = parseScenario(text, name, env, { ...limits, allowFiles: false });
  if (!r.ok) throw new ScenarioLoadError(r.problems);
  return new ScenarioEngine([r.source]);
}
