/**
 * The scenario engine: ordered rules, first match wins (WireMock's stubs),
 * with `times`, `probability`, scenario state (requireState / setState) and
 * answer sequences per scope. It turns a request into a Decision and never
 * touches sockets or transactions.
 */

import { BoundedMap } from "../sip/bounded-map.js";
import { isSipUri } from "../sip/uri.js";
import { Registrar } from "../ua/registrar.js";
import { codeForUser, planForCode } from "./dial-a-code.js";
import { toMs } from "./duration.js";
import type { ScenarioSource } from "./load.js";
import { compileMatch, type Predicate } from "./matcher.js";
import { compileMedia } from "./media.js";
import type {
  AnswerT,
  AuthT,
  BodyT,
  DelayT,
  ExpectationT,
  FaultT,
  FollowUpT,
  RuleT,
  StepT,
} from "./schema.js";
import { compileTemplate, type Template, type TemplateContext, templateContext, toWire } from "./template.js";
import type {
  Decision,
  FollowUp,
  Mailbox,
  MediaDirective,
  PlanStep,
  RequestFacts,
  ResponsePlan,
  Scenario,
  WireFault,
} from "./types.js";

export const DEFAULT_STATE = "Started";
/** The rule name of a "default" decision made because no rule matched. */
export const NO_MATCH_RULE = "built-in (no rule matched)";

/** The decision when no rule matched (decisions are read only: one object serves every request). */
const NO_MATCH: Decision = { kind: "default", rule: NO_MATCH_RULE };
/** Sequence positions kept per rule before the oldest scope key is forgotten. */
const MAX_SCOPE_KEYS = 10_000;

interface CompiledAnswer {
  readonly status: number;
  readonly reason?: string;
  readonly headers: ReadonlyArray<readonly [string, Template]>;
  readonly removeHeaders: readonly string[];
  readonly body?: "sdp" | { readonly contentType: string; readonly template: Template };
  readonly delay?: { readonly min: number; readonly max: number };
  readonly drop?: number;
  readonly wire?: WireFault;
}

type CompiledStep = { readonly send: CompiledAnswer } | { readonly wait: { min: number; max: number } };

type Action =
  | { readonly kind: "answer"; readonly answer: CompiledAnswer }
  | { readonly kind: "steps"; readonly steps: readonly CompiledStep[]; readonly final?: CompiledAnswer }
  | {
      readonly kind: "sequence";
      readonly scope: string;
      readonly after: "stick" | "cycle";
      readonly answers: readonly CompiledAnswer[];
    }
  | { readonly kind: "dialACode"; readonly labelled: WeakMap<Decision, Decision> }
  | { readonly kind: "default"; readonly decision: Decision }
  | { readonly kind: "drop"; readonly probability: number };

interface CompiledRule {
  readonly label: string;
  readonly name?: string;
  readonly matches: Predicate;
  readonly times?: number;
  readonly probability?: number;
  readonly requireState?: string;
  readonly setState?: string;
  readonly action: Action;
  readonly followUps?: readonly FollowUp[];
  readonly media?: MediaDirective;
  readonly summary: string;
}

export interface RuleStatus {
  readonly rule: string;
  readonly applied: number;
  readonly remaining?: number;
}

export interface EngineOptions {
  /** Randomness for probabilities and {{random}}; default: seeded from the file's `seed`, else Math.random. */
  readonly random?: () => number;
  readonly now?: () => Date;
}

/** mulberry32: a small seeded PRNG, so `seed:` makes probabilistic runs repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ScenarioEngine implements Scenario {
  readonly name: string;
  private readonly rules: CompiledRule[];
  /** CI verdicts declared by the scenario files, in order. */
  readonly expectations: readonly ExpectationT[];
  /** Digest authentication asked for by a scenario file (the first that has one). */
  readonly auth?: AuthT;
  readonly messageSummary?: Mailbox;
  readonly reliableProvisionals?: "required" | "supported" | "never";
  readonly eventPackages?: readonly string[];
  readonly mediaPort?: number;
  private readonly initialState: string;
  private readonly random: () => number;
  private readonly now: () => Date;
  private state: string;
  private applied: number[];
  private positions: Array<BoundedMap<string, number>>;

  constructor(sources: readonly ScenarioSource[], options: EngineOptions = {}) {
    const first = sources[0]?.definition;
    this.name = sources.map((s) => s.definition.name ?? s.file).join(" + ") || "empty scenario";
    this.initialState = first?.initialState ?? DEFAULT_STATE;
    const seed = sources.find((s) => s.definition.seed !== undefined)?.definition.seed;
    this.random = options.random ?? (seed !== undefined ? seededRandom(seed) : Math.random);
    this.now = options.now ?? (() => new Date());
    this.rules = sources.flatMap((s) => s.definition.rules.map((r, i) => compileRule(r, i, s)));
    this.expectations = sources.flatMap((s) => s.definition.expectations ?? []);
    const auth = sources.find((s) => s.definition.auth)?.definition.auth;
    if (auth) this.auth = auth;
    const prack = sources.find((s) => s.definition.reliableProvisionals)?.definition.reliableProvisionals;
    if (prack) this.reliableProvisionals = prack;
    const packages = sources.find((s) => s.definition.eventPackages)?.definition.eventPackages;
    if (packages) this.eventPackages = packages;
    const mediaPort = sources.find((s) => s.definition.mediaPort !== undefined)?.definition.mediaPort;
    if (mediaPort !== undefined) this.mediaPort = mediaPort;
    const mwi = sources.find((s) => s.definition.messageSummary)?.definition.messageSummary;
    if (mwi) {
      const { messagesWaiting, ...counts } = mwi;
      this.messageSummary = { waiting: messagesWaiting, ...counts };
    }
    this.state = this.initialState;
    this.applied = this.rules.map(() => 0);
    this.positions = this.rules.map(() => new BoundedMap(MAX_SCOPE_KEYS));
  }

  decide(facts: RequestFacts): Decision {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (rule.times !== undefined && this.applied[i]! >= rule.times) continue;
      if (rule.requireState !== undefined && rule.requireState !== this.state) continue;
      if (!rule.matches(facts)) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      const action = rule.action;
      if (action.kind === "dialACode" && codeForUser(facts.requestUser) === undefined) continue;
      if (action.kind === "drop" && this.random() >= action.probability) continue;
      this.applied[i]! += 1;
      if (rule.setState !== undefined) this.state = rule.setState;
      const decision = this.decision(rule, i, facts);
      // Copied only when the rule adds something: most decisions are returned as built.
      if (decision.kind === "drop" || (!rule.followUps && !rule.media)) return decision;
      return {
        ...decision,
        ...(rule.followUps ? { followUps: rule.followUps } : {}),
        ...(rule.media ? { media: rule.media } : {}),
      };
    }
    return NO_MATCH;
  }

  private decision(rule: CompiledRule, i: number, facts: RequestFacts): Decision {
    const action = rule.action;
    switch (action.kind) {
      case "default":
        return action.decision;
      case "drop":
        return { kind: "drop", rule: rule.label };
      case "dialACode": {
        const d = planForCode(codeForUser(facts.requestUser)!, facts.method);
        if (d.kind !== "respond") return d;
        // Labelled once per (shared) plan: decisions are read only.
        const known = action.labelled.get(d);
        if (known) return known;
        const labelled: Decision = { ...d, rule: rule.label };
        action.labelled.set(d, labelled);
        return labelled;
      }
      case "answer":
        return this.answerDecision(rule.label, action.answer, [], facts, this.contextOf(facts, i));
      case "sequence": {
        const key = scopeKey(action.scope, facts);
        const positions = this.positions[i]!;
        const n = positions.get(key) ?? 0;
        positions.delete(key);
        positions.set(key, n + 1);
        const idx =
          action.after === "cycle" ? n % action.answers.length : Math.min(n, action.answers.length - 1);
        const ctx = this.contextOf(facts, i);
        return this.answerDecision(`${rule.label} answer ${idx + 1}`, action.answers[idx]!, [], facts, ctx);
      }
      case "steps": {
        const ctx = this.contextOf(facts, i);
        const steps: PlanStep[] = [];
        for (const s of action.steps) {
          if ("wait" in s) steps.push({ waitMs: this.pick(s.wait) });
          else steps.push({ send: render(s.send, facts, ctx) });
        }
        if (!action.final) return { kind: "respond", rule: rule.label, steps };
        return this.answerDecision(rule.label, action.final, steps, facts, ctx);
      }
    }
  }

  /** The template context of rule i's answer, built only when a template asks for it. */
  private contextOf(facts: RequestFacts, i: number): () => TemplateContext {
    return () => templateContext(facts, this.applied[i]!, this.random, this.now);
  }

  private answerDecision(
    label: string,
    answer: CompiledAnswer,
    before: PlanStep[],
    facts: RequestFacts,
    ctx: () => TemplateContext,
  ): Decision {
    if (answer.drop !== undefined && this.random() < answer.drop) return { kind: "drop", rule: label };
    const steps = [...before];
    if (answer.delay) steps.push({ waitMs: this.pick(answer.delay) });
    const plan = render(answer, facts, ctx);
    const wire = answer.wire ? { fault: answer.wire } : {};
    // A provisional "final" answer to INVITE: send it and ring until CANCEL.
    if (answer.status < 200)
      return { kind: "respond", rule: label, steps: [...steps, { send: plan }], ...wire };
    return { kind: "respond", rule: label, steps, final: plan, ...wire };
  }

  private pick(d: { min: number; max: number }): number {
    return d.min === d.max ? d.min : Math.round(d.min + this.random() * (d.max - d.min));
  }

  /** The current scenario state (WireMock's scenario state). */
  getState(): string {
    return this.state;
  }

  setState(state: string): void {
    this.state = state;
  }

  /** Back to the initial state; `times`, counters and sequences start again. */
  reset(): void {
    this.state = this.initialState;
    this.applied = this.rules.map(() => 0);
    this.positions = this.rules.map(() => new BoundedMap(MAX_SCOPE_KEYS));
  }

  status(): RuleStatus[] {
    return this.rules.map((r, i) => ({
      rule: r.label,
      applied: this.applied[i]!,
      ...(r.times !== undefined ? { remaining: Math.max(0, r.times - this.applied[i]!) } : {}),
    }));
  }

  describe(): string[] {
    return [
      `scenario: ${this.name}`,
      // Numbered once across merged files (the journal's labels keep each file's own numbers).
      ...this.rules.map((r, i) => `  ${i + 1}${r.summary}`),
      "  anything else: built-in behaviour",
    ];
  }
}

function scopeKey(scope: string, f: RequestFacts): string {
  const r = f.request;
  switch (scope) {
    case "call":
      return r.core.callId;
    case "from": {
      const u = r.core.from.uri;
      return isSipUri(u) ? `${u.user ?? ""}@${u.host.toLowerCase()}` : u.raw;
    }
    case "aor":
      return Registrar.aorOf(r.core.to.uri);
    case "source":
      return f.sourceAddress;
    default:
      return "";
  }
}

function render(a: CompiledAnswer, f: RequestFacts, ctx: () => TemplateContext): ResponsePlan {
  let c: TemplateContext | undefined;
  const get = () => {
    c ??= ctx();
    return c;
  };
  const headers = a.headers.map(([n, t]) => [n, t.render(get())] as const);
  let body: ResponsePlan["body"];
  if (a.body === "sdp") body = "sdp";
  else if (a.body) body = { contentType: a.body.contentType, content: a.body.template.render(get()) };
  else if (f.method === "INVITE" && (a.status === 183 || (a.status >= 200 && a.status < 300))) body = "sdp";
  return {
    status: a.status,
    ...(a.reason !== undefined ? { reason: toWire(a.reason) } : {}),
    ...(headers.length > 0 ? { headers } : {}),
    ...(a.removeHeaders.length > 0 ? { removeHeaders: a.removeHeaders } : {}),
    ...(body !== undefined ? { body } : {}),
  };
}

function delayOf(d: DelayT | undefined): { min: number; max: number } | undefined {
  if (d === undefined) return undefined;
  if (typeof d === "object") return { min: toMs(d.min), max: toMs(d.max) };
  const ms = toMs(d);
  return { min: ms, max: ms };
}

function wireFault(f: FaultT | undefined): WireFault | undefined {
  if (!f) return undefined;
  const { drop: _drop, omitHeaders: _omit, ...wire } = f;
  return Object.keys(wire).length > 0 ? wire : undefined;
}

function dropOf(f: FaultT | undefined): number | undefined {
  if (f?.drop === undefined || f.drop === false) return undefined;
  return f.drop === true ? 1 : f.drop;
}

function compileBody(body: BodyT | undefined, source: ScenarioSource): CompiledAnswer["body"] {
  if (body === undefined) return undefined;
  if (body === "sdp") return "sdp";
  if (typeof body === "string") return { contentType: "text/plain", template: compileTemplate(body) };
  const text = body.content ?? source.files.get(body.file!) ?? "";
  return { contentType: body.contentType ?? "text/plain", template: compileTemplate(text) };
}

type AnswerLike = Partial<AnswerT> & { respond?: number; send?: number };

function compileAnswer(a: AnswerLike, source: ScenarioSource): CompiledAnswer {
  const delay = delayOf(a.delay);
  const wire = wireFault(a.fault);
  const drop = dropOf(a.fault);
  return {
    status: (a.respond ?? a.send)!,
    ...(a.reason !== undefined ? { reason: a.reason } : {}),
    headers: Object.entries(a.headers ?? {}).map(([n, v]) => [n, compileTemplate(String(v))] as const),
    removeHeaders: [...(a.removeHeaders ?? []), ...(a.fault?.omitHeaders ?? [])],
    ...(a.body !== undefined ? { body: compileBody(a.body, source)! } : {}),
    ...(delay ? { delay } : {}),
    ...(drop !== undefined ? { drop } : {}),
    ...(wire ? { wire } : {}),
  };
}

function compileRule(rule: RuleT, index: number, source: ScenarioSource): CompiledRule {
  const label = `${source.definition.name ?? source.file} rule ${index + 1}${rule.name ? ` "${rule.name}"` : ""}`;
  let action: Action;
  if (rule.respond !== undefined) action = { kind: "answer", answer: compileAnswer(rule, source) };
  else if (rule.steps) {
    const steps: CompiledStep[] = [];
    let final: CompiledAnswer | undefined;
    for (const s of rule.steps as StepT[]) {
      if ("wait" in s) steps.push({ wait: delayOf(s.wait)! });
      else if ("send" in s) steps.push({ send: compileAnswer(s, source) });
      else final = compileAnswer(s, source);
    }
    action = { kind: "steps", steps, ...(final ? { final } : {}) };
  } else if (rule.sequence) {
    const seq = rule.sequence;
    const answers = (Array.isArray(seq) ? seq : seq.answers).map((a) => compileAnswer(a, source));
    action = {
      kind: "sequence",
      scope: Array.isArray(seq) ? "global" : (seq.scope ?? "global"),
      after: Array.isArray(seq) ? "stick" : (seq.after ?? "stick"),
      answers,
    };
  } else if (rule.dialACode) action = { kind: "dialACode", labelled: new WeakMap() };
  else if (rule.default) action = { kind: "default", decision: { kind: "default", rule: label } };
  else action = { kind: "drop", probability: dropOf(rule.fault) ?? 1 };
  return {
    label,
    ...(rule.name ? { name: rule.name } : {}),
    matches: compileMatch(rule.match),
    ...(rule.times !== undefined ? { times: rule.times } : {}),
    ...(rule.probability !== undefined ? { probability: rule.probability } : {}),
    ...(rule.requireState !== undefined ? { requireState: rule.requireState } : {}),
    ...(rule.setState !== undefined ? { setState: rule.setState } : {}),
    action,
    ...(rule.then ? { followUps: rule.then.map(compileFollowUp) } : {}),
    ...(rule.media ? { media: compileMedia(rule.media, source) } : {}),
    summary: summarize(rule),
  };
}

function compileFollowUp(f: FollowUpT): FollowUp {
  const afterMs = f.after === undefined ? 0 : toMs(f.after);
  switch (f.send) {
    case "BYE":
    case "UPDATE":
      return { send: f.send, afterMs };
    case "re-INVITE":
      return {
        send: f.send,
        afterMs,
        direction: f.direction ?? "sendrecv",
        ...(f.codecs ? { codecs: f.codecs } : {}),
      };
    case "INVITE":
      return {
        send: f.send,
        afterMs,
        ...(f.from !== undefined ? { from: f.from } : {}),
        ...(f.cancelAfter !== undefined ? { cancelAfterMs: toMs(f.cancelAfter) } : {}),
        ...(f.hangUpAfter !== undefined ? { hangUpAfterMs: toMs(f.hangUpAfter) } : {}),
      };
    case "NOTIFY":
      return {
        send: f.send,
        afterMs,
        messagesWaiting: f.messagesWaiting ?? true,
        ...(f.newMessages !== undefined ? { newMessages: f.newMessages } : {}),
        ...(f.oldMessages !== undefined ? { oldMessages: f.oldMessages } : {}),
      };
    case "OPTIONS":
      return { send: f.send, afterMs };
    case "DTMF":
      return { send: f.send, afterMs, digits: f.digits ?? "" };
  }
}

/** " name: what -> does (extra)", to follow the rule's number in the banner. */
function summarize(rule: RuleT): string {
  const m = rule.match;
  const what = [
    m?.method ? (Array.isArray(m.method) ? m.method.join("/") : m.method) : "any request",
    m?.requestUri?.user !== undefined ? `to user ${JSON.stringify(m.requestUri.user)}` : "",
    m?.dtmf !== undefined ? `on DTMF ${JSON.stringify(m.dtmf)}` : "",
    rule.requireState ? `in state ${rule.requireState}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  let does: string;
  if (rule.respond !== undefined) does = `${rule.respond}${rule.reason ? ` ${rule.reason}` : ""}`;
  else if (rule.steps)
    does = rule.steps
      .map((s) => ("send" in s ? s.send : "wait" in s ? `wait ${s.wait}` : s.respond))
      .join(", ");
  else if (rule.sequence) {
    const answers = Array.isArray(rule.sequence) ? rule.sequence : rule.sequence.answers;
    does = `sequence ${answers.map((a) => a.respond).join(", ")}`;
  } else if (rule.dialACode) does = "the code named by the Request-URI user";
  else if (rule.default) does = "built-in behaviour";
  else does = `drop${typeof rule.fault?.drop === "number" ? ` (${rule.fault.drop * 100}%)` : ""}`;
  const extra = [
    rule.times !== undefined ? `${rule.times} time(s)` : "",
    rule.probability !== undefined ? `${rule.probability * 100}% of the time` : "",
    rule.fault ? "with faults" : "",
    rule.media
      ? `media ${typeof rule.media === "string" ? rule.media : Object.keys(rule.media).join("/")}`
      : "",
    rule.then
      ? `then ${rule.then.map((f) => `${f.send}${f.after !== undefined ? ` after ${f.after}` : ""}`).join(", ")}`
      : "",
  ]
    .filter(Boolean)
    .join(", ");
  return `${rule.name ? ` ${rule.name}` : ""}: ${what} -> ${does}${extra ? ` (${extra})` : ""}`;
}
