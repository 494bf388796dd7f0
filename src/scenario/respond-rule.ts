/** `sipmock respond CODE`: one rule in front of the built-in default. */
import { planForCode } from "./dial-a-code.js";
import type { Decision, RequestFacts, ResponsePlan, Scenario } from "./types.js";

export interface RespondOptions {
  readonly code: number;
  readonly reason?: string;
  /** Methods the rule applies to; default INVITE. */
  readonly methods?: readonly string[];
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

export class RespondScenario implements Scenario {
  readonly name: string;
  private readonly methods: ReadonlySet<string>;

  constructor(
    private readonly options: RespondOptions,
    private readonly fallback: Scenario,
  ) {
    this.methods = new Set((options.methods ?? ["INVITE"]).map((m) => m.toUpperCase()));
    this.name = `respond ${options.code}`;
  }

  decide(facts: RequestFacts): Decision {
    if (!this.methods.has(facts.method)) return this.fallback.decide(facts);
    const base = planForCode(this.options.code, facts.method);
    if (base.kind !== "respond") return base;
    const patch = (plan: ResponsePlan): ResponsePlan => ({
      ...plan,
      ...(this.options.reason !== undefined ? { reason: this.options.reason } : {}),
      ...(this.options.headers ? { headers: this.options.headers } : {}),
    });
    const rule = `respond ${this.options.code}`;
    if (base.final) return { kind: "respond", rule, steps: base.steps, final: patch(base.final) };
    return {
      kind: "respond",
      rule,
      steps: base.steps.map((s) => ("send" in s ? { send: patch(s.send) } : s)),
    };
  }

  describe(): string[] {
    const o = this.options;
    const extra = o.headers?.length ? ` with ${o.headers.map(([n, v]) => `${n}: ${v}`).join("; ")}` : "";
    return [
      `${[...this.methods].join(", ")} -> ${o.code}${o.reason ? ` ${o.reason}` : ""}${extra}`,
      "everything else: the built-in dial-a-code behaviour",
      ...this.fallback.describe().map((l) => `  ${l}`),
    ];
  }
}
