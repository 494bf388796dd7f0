/**
 * Overrides: rules added at run time (API, admin HTTP, `sipmock ctl`) in
 * front of the scenario, each optionally for N requests. Same shape and
 * validation as a scenario rule.
 */
import { stringify } from "yaml";
import { NO_MATCH_RULE, ScenarioEngine } from "../scenario/engine.js";
import { formatProblem, parseScenario } from "../scenario/load.js";
import type { RuleT } from "../scenario/schema.js";
import type { Decision, RequestFacts, Scenario } from "../scenario/types.js";

export interface OverrideInfo {
  readonly id: string;
  readonly rule: RuleT;
  readonly applied: number;
  /** Requests it will still answer; undefined: no limit. */
  readonly remaining?: number;
  readonly created: string;
}

export class OverrideError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OverrideError";
  }
}

interface Entry {
  readonly id: string;
  readonly rule: RuleT;
  readonly engine: ScenarioEngine;
  applied: number;
  readonly created: string;
}

export class Overrides {
  private list: Entry[] = [];
  private next = 1;

  /**
   * Validates and adds a rule. `action` holds the rule's action keys
   * (respond, headers, steps, sequence, fault...), `match` its match block.
   */
  add(
    match: unknown,
    action: Record<string, unknown>,
    options: { times?: number; name?: string } = {},
  ): OverrideInfo {
    const id = `o${this.next++}`;
    const rule = {
      name: options.name ?? `override ${id}`,
      ...(match !== undefined ? { match } : {}),
      ...action,
      ...(options.times !== undefined ? { times: options.times } : {}),
    };
    const r = parseScenario(
      stringify({ name: "override", rules: [rule] }),
      "override",
      {},
      { allowFiles: false },
    );
    if (!r.ok) {
      throw new OverrideError(
        r.problems
          .map((p) => formatProblem({ ...p, file: "override" }).replace(/^override:\d+:\d+: /, ""))
          .join("; "),
      );
    }
    const entry: Entry = {
      id,
      rule: r.source.definition.rules[0]!,
      engine: new ScenarioEngine([r.source]),
      applied: 0,
      created: new Date().toISOString(),
    };
    this.list.unshift(entry);
    return this.info(entry);
  }

  /** The first override that takes the request, else the scenario. */
  decide(facts: RequestFacts, base: Scenario): Decision {
    const list = this.list;
    if (list.length === 0) return base.decide(facts);
    for (const o of list) {
      const d = o.engine.decide(facts);
      if (d.kind === "default" && d.rule === NO_MATCH_RULE) continue;
      o.applied++;
      if (o.rule.times !== undefined && o.applied >= o.rule.times) this.delete(o.id);
      return d;
    }
    return base.decide(facts);
  }

  all(): OverrideInfo[] {
    return this.list.map((o) => this.info(o));
  }

  delete(id: string): boolean {
    const before = this.list.length;
    this.list = this.list.filter((o) => o.id !== id);
    return this.list.length < before;
  }

  clear(): void {
    this.list = [];
  }

  get size(): number {
    return this.list.length;
  }

  private info(o: Entry): OverrideInfo {
    return {
      id: o.id,
      rule: o.rule,
      applied: o.applied,
      ...(o.rule.times !== undefined ? { remaining: o.rule.times - o.applied } : {}),
      created: o.created,
    };
  }
}
