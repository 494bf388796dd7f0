/**
 * What a scenario decides for a request. The engine sees facts about the
 * request and returns a plan; it never touches sockets or transactions.
 */
export interface ResponsePlan {
  readonly status: number;
  readonly reason?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly removeHeaders?: readonly string[];
  /** Inline body, or "sdp" for the generated SDP answer (or offer, when the request had none). */
  readonly body?: { readonly contentType: string; readonly content: string } | "sdp";
}

export type PlanStep = { readonly send: ResponsePlan } | { readonly waitMs: number };

export type Decision =
  /** Answer with these steps and this final response. No final: keep ringing until CANCEL or ringTimeoutMs. */
  | {
      readonly kind: "respond";
      readonly rule: string;
      readonly steps: readonly PlanStep[];
      readonly final?: ResponsePlan;
    }
  /** Let the UAS's built-in behaviour for the method answer (call, registrar, OPTIONS...). */
  | { readonly kind: "default"; readonly rule: string };

/** What a rule can look at; built once per request by the UAS. */
export interface RequestFacts {
  readonly method: string;
  readonly requestUser?: string;
  readonly requestHost?: string;
  readonly transport: string;
  readonly sourceAddress: string;
  readonly hasBody: boolean;
}

export interface Scenario {
  readonly name: string;
  decide(facts: RequestFacts): Decision;
  /** Human description for the start-up banner. */
  describe(): string[];
}
