/**
 * Loading scenario files: YAML (with source positions) -> environment
 * variables -> schema (zod) -> semantic checks -> a compiled scenario.
 * Every problem is reported as `file:line:col: message (hint)`, all at once.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type Scalar, visit } from "yaml";
import type { z } from "zod";
import { isCatalogued, lookupCode } from "../catalog/index.js";
import {
  checkBounds,
  DEFAULT_MAX_SCENARIO_BYTES,
  MAX_ALIAS_COUNT,
  type ScenarioLimits,
  tooManyRules,
} from "./bounds.js";
import { bundledScenarios, looksLikeName, resolveScenarioPath } from "./bundled.js";
import { toMs } from "./duration.js";
import { compileMatch, compileSource } from "./matcher.js";
import {
  type AnswerT,
  type BodyT,
  type FollowUpT,
  IN_DIALOG_REQUESTS,
  Rule,
  type RuleT,
  ScenarioFile,
  type ScenarioFileT,
  type StepT,
} from "./schema.js";
import { compileTemplate, TEMPLATE_VARIABLES, TemplateError } from "./template.js";

export interface ScenarioProblem {
  readonly file: string;
  /** 1-based; 0 when the problem has no position (an unreadable file, a flag). */
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly hint?: string;
}

export function formatProblem(p: ScenarioProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  return `${where}: ${p.message}${p.hint ? `; fix: ${p.hint}` : ""}`;
}

export class ScenarioLoadError extends Error {
  constructor(readonly problems: readonly ScenarioProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ScenarioLoadError";
  }
}

/** A validated scenario file, with what the engine needs resolved (bodies read, env expanded). */
export interface ScenarioSource {
  readonly file: string;
  readonly definition: ScenarioFileT;
  /** Bodies given as `file:`, read at load time, by the path as written. */
  readonly files: ReadonlyMap<string, string>;
  /** `media: { play: FILE }` and `record: FILE`: the path as written -> the absolute path (relative to the scenario file). */
  readonly mediaFiles?: ReadonlyMap<string, string>;
}

type Path = ReadonlyArray<string | number>;

/** Largest body file a scenario may name. */
const MAX_BODY_FILE = 1024 * 1024;

/** Where a path of the document starts; the nearest existing ancestor when the path does not exist. */
class Positions {
  constructor(
    private readonly root: Node | null,
    private readonly lines: LineCounter,
  ) {}

  at(path: Path, key = false): { line: number; col: number } {
    let node: unknown = this.root;
    let best: { range?: [number, number, number] | null } | undefined = this.root ?? undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && key && pair.key && isScalar(pair.key)) {
          best = pair.key;
          break;
        }
        node = pair.value;
        best = (pair.value as Node | null) ?? (pair.key as Node);
      } else if (isSeq(node) && typeof seg === "number") {
        node = node.items[seg];
        if (!node) break;
        best = node as Node;
      } else break;
    }
    const offset = best?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { line: pos.line, col: pos.col };
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length]![b.length]!;
}

export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const dd = distance(word.toLowerCase(), c.toLowerCase());
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** The keys allowed at each kind of place, for did-you-mean. */
const KEYS: Record<string, readonly string[]> = {
  file: [
    "$schema",
    "name",
    "description",
    "seed",
    "initialState",
    "auth",
    "messageSummary",
    "reliableProvisionals",
    "eventPackages",
    "mediaPort",
    "rules",
    "expectations",
  ],
  messageSummary: ["messagesWaiting", "newMessages", "oldMessages", "urgentNew", "urgentOld"],
  auth: ["realm", "users", "algorithms", "qop", "methods", "proxy", "nonceTtl", "wrongPassword"],
  expectation: ["name", "match", "times", "atLeast", "atMost", "within"],
  rule: [
    "name",
    "match",
    "times",
    "probability",
    "requireState",
    "setState",
    "respond",
    "reason",
    "headers",
    "removeHeaders",
    "body",
    "delay",
    "fault",
    "steps",
    "sequence",
    "dialACode",
    "default",
    "then",
  ],
  // biome-ignore lint/suspicious/noThenProperty: the YAML key "then:", plain data, never awaited
  then: [
    "after",
    "send",
    "direction",
    "codecs",
    "from",
    "cancelAfter",
    "hangUpAfter",
    "messagesWaiting",
    "newMessages",
    "oldMessages",
  ],
  match: ["method", "requestUri", "to", "from", "headers", "body", "transport", "source"],
  address: ["user", "host", "uri", "displayName"],
  stringMatch: ["equals", "equalsIgnoreCase", "contains", "regex", "absent", "present"],
  bodyMatch: ["contains", "regex", "sdpCodec", "empty"],
  answer: ["respond", "reason", "headers", "removeHeaders", "body", "delay", "fault"],
  step: ["send", "wait", "respond", "reason", "headers", "removeHeaders", "body", "delay", "fault"],
  sequence: ["scope", "after", "answers"],
  fault: [
    "drop",
    "afterRetransmissions",
    "duplicate",
    "noRetransmit",
    "contentLength",
    "malformed",
    "truncate",
    "garbage",
    "tcp",
    "fromOtherPort",
    "omitHeaders",
  ],
  body: ["content", "file", "contentType"],
  delay: ["min", "max"],
};

function keysFor(path: Path): readonly string[] {
  const names = path.filter((p): p is string => typeof p === "string");
  const last = names[names.length - 1];
  if (path.length === 0) return KEYS.file!;
  if (last === "rules") return KEYS.rule!;
  if (last === "expectations") return KEYS.expectation!;
  if (last === "then") return KEYS.then!;
  if (last === "auth") return KEYS.auth!;
  if (last === "messageSummary") return KEYS.messageSummary!;
  if (last === "match") return KEYS.match!;
  if (last === "requestUri" || last === "to" || last === "from") return KEYS.address!;
  if (last === "fault") return KEYS.fault!;
  if (last === "steps") return KEYS.step!;
  if (last === "sequence") return [...KEYS.sequence!, ...KEYS.answer!];
  if (last === "answers") return KEYS.answer!;
  if (last === "delay" || last === "wait") return KEYS.delay!;
  if (last === "body") return names.includes("match") ? KEYS.bodyMatch! : KEYS.body!;
  return [...KEYS.stringMatch!, ...KEYS.address!];
}

/** ${NAME} or ${NAME:-default}; a default may hold {{template}} variables. */
const ENV = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:\{\{[^{}]*\}\}|[^{}])*))?\}/g;

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
): { ok: true; source: ScenarioSource } | { ok: false; problems: ScenarioProblem[] } {
  const lines = new LineCounter();
  const problems: ScenarioProblem[] = [];
  const at = (pos: { line: number; col: number }, message: string, hint?: string) =>
    problems.push({ file, line: pos.line, col: pos.col, message, ...(hint ? { hint } : {}) });
  const bounded = checkBounds(text, options);
  if (bounded) {
    at(bounded.pos, bounded.message, bounded.hint);
    return { ok: false, problems };
  }
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });

  // Only the first syntax error: the parser's later ones follow from it.
  const syntax = doc.errors[0];
  if (syntax) {
    const p = syntax.linePos?.[0] ?? lines.linePos(syntax.pos[0]);
    const hint = /flow-map-start|flow-seq-start/.test(syntax.message)
      ? `quote a value that holds { or [, e.g. "$\{VAR:-2}"`
      : "check indentation, quotes and colons";
    at(p, `YAML: ${syntax.message.split("\n")[0]}`, hint);
  }
  if (problems.length > 0) return { ok: false, problems };

  // ${VAR} and ${VAR:-default} in values (issue: composition with the environment).
  visit(doc, {
    Scalar(_key, node: Scalar) {
      if (typeof node.value !== "string" || !node.value.includes("${")) return;
      const raw = node.value;
      let missing: string | undefined;
      const expanded = raw.replace(ENV, (_m, name: string, fallback: string | undefined) => {
        const v = env[name];
        if (v !== undefined && v !== "") return v;
        if (fallback !== undefined) return fallback;
        missing ??= name;
        return "";
      });
      if (missing !== undefined) {
        const pos = lines.linePos(node.range?.[0] ?? 0);
        at(
          pos,
          `environment variable ${missing} is not set`,
          `set it, or give a default: \${${missing}:-value}`,
        );
        return;
      }
      // A value that is only a variable and looks like a number is a number (respond: ${CODE:-486}).
      const onlyVariable = raw.replace(ENV, "") === "" && (raw.match(ENV)?.length ?? 0) === 1;
      node.value = onlyVariable && /^-?\d+(\.\d+)?$/.test(expanded) ? Number(expanded) : expanded;
    },
  });
  if (problems.length > 0) return { ok: false, problems };

  const positions = new Positions(doc.contents as Node | null, lines);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    // The yaml library refuses an alias that expands too much ("billion laughs").
    at(
      { line: 1, col: 1 },
      `YAML: ${(e as Error).message}`,
      "use fewer aliases (*name), or write the values out",
    );
    return { ok: false, problems };
  }
  const ruleCount = (data as { rules?: unknown }).rules;
  const many = Array.isArray(ruleCount) ? tooManyRules(ruleCount.length, options) : undefined;
  if (many) {
    at(positions.at(["rules"], true), many, "split the scenario, or raise --max-rules");
    return { ok: false, problems };
  }
  const parsed = ScenarioFile.safeParse(data, { reportInput: true });
  const files = new Map<string, string>();
  const report: Report = (path, message, hint, key) => at(positions.at(path, key), message, hint);
  if (!parsed.success) {
    for (const issue of flattenIssues(parsed.error.issues)) {
      const path = issue.path as Path;
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const suggestion = didYouMean(key, keysFor(path));
          at(
            positions.at([...path, key], true),
            `unknown key "${key}"`,
            suggestion ? `did you mean "${suggestion}"?` : `allowed here: ${keysFor(path).join(", ")}`,
          );
        }
      } else {
        at(positions.at(path), describeIssue(issue, path), hintFor(issue, path));
      }
    }
    // The rules that are well-formed still get their semantic checks, so one run shows every problem.
    const raw = (data as { rules?: unknown }).rules;
    if (Array.isArray(raw)) {
      const rules = raw.map((r) => {
        const one = Rule.safeParse(r);
        return one.success ? one.data : undefined;
      });
      checkSemantics(rules, file, report, files, options.allowFiles === true);
    }
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, problems };
  }
  const def = parsed.data;
  checkSemantics(def.rules, file, report, files, options.allowFiles === true);
  const mediaFiles = new Map<string, string>();
  checkMedia(def.rules, file, report, mediaFiles, options.allowFiles === true);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, source: { file, definition: def, files, mediaFiles } };
}

type Issue = z.core.$ZodIssue;

/** Union failures: report the branch that got furthest (the longest paths), not "invalid input". */
function flattenIssues(issues: readonly Issue[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const depth = (errs: readonly Issue[]) => Math.max(...errs.map((e) => e.path.length));
      const typeOnly = (errs: readonly Issue[]) =>
        errs.every((e) => e.code === "invalid_type" && e.path.length === 0);
      const branches = issue.errors.filter((b) => !typeOnly(b));
      if (branches.length === 0) {
        out.push(issue);
        continue;
      }
      const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      out.push(...flattenIssues(best.map((e) => ({ ...e, path: [...issue.path, ...e.path] }) as Issue)));
    } else out.push(issue);
  }
  return out;
}

function describeIssue(issue: Issue, path: Path): string {
  const where = path.length > 0 ? `"${path[path.length - 1]}"` : "the file";
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? `missing ${where}`
        : `${where} must be ${article(issue.expected)}, not ${kindOf(issue.input)}`;
    case "invalid_union":
      return `${where} has the wrong shape`;
    case "too_small":
    case "too_big":
    case "invalid_format":
    case "invalid_value":
      return issue.code === "invalid_value" && issue.input === undefined
        ? `missing ${where}`
        : `${where}: ${issue.message}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

function hintFor(issue: Issue, path: Path): string | undefined {
  const last = path[path.length - 1];
  if (last === "send" && path.includes("then"))
    return "send: BYE, re-INVITE, UPDATE, DTMF (in the call) or INVITE, NOTIFY, OPTIONS (to the registered client)";
  if (last === "after" || last === "cancelAfter" || last === "hangUpAfter")
    return 'milliseconds or "500ms", "2s"';
  if (last === "respond" || last === "send") return "a status code 100..699, e.g. respond: 486";
  if (last === "method") return "a method or a list: method: [INVITE, OPTIONS]";
  if (last === "delay" || last === "wait")
    return 'milliseconds or "500ms", "2s"; random: { min: 1s, max: 3s }';
  if (issue.code === "invalid_type" && issue.input === undefined && last === "rules") return "rules: [ ... ]";
  return undefined;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

type Report = (path: Path, message: string, hint?: string, key?: boolean) => void;

const ACTIONS = ["respond", "steps", "sequence", "dialACode", "default"] as const;
const ANSWER_ONLY = ["reason", "headers", "removeHeaders", "body", "delay"] as const;

function methodsOf(rule: RuleT): string[] | undefined {
  const m = rule.match?.method;
  if (m === undefined) return undefined;
  return (Array.isArray(m) ? m : [m]).map((x) => x.toUpperCase());
}

function onlyInvite(rule: RuleT): boolean {
  const methods = methodsOf(rule);
  return methods?.every((m) => m === "INVITE") ?? false;
}

/** What the schema cannot say: one action per rule, RFC constraints, reachability, templates, files. */
function checkSemantics(
  rules: ReadonlyArray<RuleT | undefined>,
  file: string,
  report: Report,
  files: Map<string, string>,
  allowFiles: boolean,
): void {
  const baseDir = allowFiles ? dirname(resolve(file)) : undefined;
  const shadows = shadowingRules(rules);
  rules.forEach((rule, i) => {
    if (!rule) return;
    const here: Path = ["rules", i];
    const actions = ACTIONS.filter((a) => rule[a] !== undefined);
    const dropOnly = actions.length === 0 && rule.fault?.drop !== undefined;
    if (actions.length === 0 && !dropOnly) {
      report(
        here,
        `rule ${label(rule, i)} has no action`,
        "add respond: CODE, steps:, sequence:, dialACode: true or default: true",
      );
    }
    if (actions.length > 1) {
      report(
        [...here, actions[1]!],
        `rule ${label(rule, i)} has both "${actions[0]}" and "${actions[1]}"`,
        "a rule takes exactly one action",
        true,
      );
    }
    if (rule.respond === undefined) {
      for (const k of ANSWER_ONLY) {
        if (rule[k] !== undefined)
          report(
            [...here, k],
            `"${k}" belongs to an answer, but this rule has no "respond"`,
            "put it next to respond:, or inside a step or sequence answer",
            true,
          );
      }
    }
    if (rule.respond !== undefined) {
      checkAnswer(rule as AnswerT, [...here], rule, report, baseDir, files, "final");
    }
    if (rule.fault !== undefined && rule.respond === undefined && actions.length > 0) {
      report(
        [...here, "fault"],
        `"fault" next to "${actions[0]}" would not act on anything`,
        actions[0] === "steps" || actions[0] === "sequence"
          ? `put it in the answer it breaks (the final respond: step, or a sequence answer)`
          : "a rule-level fault goes with respond:, or alone (drop)",
        true,
      );
    }
    if (rule.steps) checkSteps(rule.steps, [...here, "steps"], rule, report, baseDir, files);
    if (rule.sequence) {
      const answers = Array.isArray(rule.sequence) ? rule.sequence : rule.sequence.answers;
      const base: Path = Array.isArray(rule.sequence)
        ? [...here, "sequence"]
        : [...here, "sequence", "answers"];
      answers.forEach((a, j) => {
        checkAnswer(a, [...base, j], rule, report, baseDir, files, "final");
      });
    }
    if (rule.fault) checkFault(rule, rule.fault, [...here, "fault"], report);
    for (const [j, f] of (rule.then ?? []).entries()) checkFollowUp(rule, f, [...here, "then", j], report);
    try {
      compileMatch(rule.match);
    } catch (e) {
      report(
        [...here, "match"],
        `rule ${label(rule, i)}: ${(e as Error).message}`,
        "regular expressions use RE2 syntax (linear time): no backreferences like \\1, no lookaround like (?=...)",
      );
    }
    if (rule.match?.source !== undefined) {
      try {
        compileSource(Array.isArray(rule.match.source) ? rule.match.source : [rule.match.source]);
      } catch (e) {
        report(
          [...here, "match", "source"],
          (e as Error).message,
          "an address (10.0.0.1, ::1) or CIDR (10.0.0.0/8)",
        );
      }
    }
    const shadow = shadows[i];
    if (shadow !== undefined) {
      const s = rules[shadow]!;
      report(
        here,
        `rule ${label(rule, i)} is unreachable: rule ${label(s, shadow)} above it matches every request it matches and always applies`,
        `move it above rule ${shadow + 1}, narrow rule ${shadow + 1}'s match, or give that rule times:, probability: or requireState:`,
      );
    }
  });
}

/** Which `then:` options belong to which request. */
const FOLLOW_UP_OPTIONS: Record<string, readonly string[]> = {
  direction: ["re-INVITE"],
  codecs: ["re-INVITE"],
  from: ["INVITE"],
  cancelAfter: ["INVITE"],
  hangUpAfter: ["INVITE"],
  messagesWaiting: ["NOTIFY"],
  newMessages: ["NOTIFY"],
  oldMessages: ["NOTIFY"],
  digits: ["DTMF"],
};

function checkFollowUp(rule: RuleT, f: FollowUpT, path: Path, report: Report): void {
  for (const [key, sends] of Object.entries(FOLLOW_UP_OPTIONS)) {
    if (f[key as keyof FollowUpT] !== undefined && !sends.includes(f.send)) {
      report(
        [...path, key],
        `"${key}" does not apply to send: ${f.send}`,
        `it goes with send: ${sends.join(" or ")}`,
        true,
      );
    }
  }
  if (f.send === "DTMF" && f.digits === undefined)
    report([...path, "send"], "send: DTMF needs digits:", 'send: DTMF, digits: "123#"');
  // BYE, re-INVITE and UPDATE need the dialog a 2xx to INVITE creates.
  const methods = methodsOf(rule);
  if ((IN_DIALOG_REQUESTS as readonly string[]).includes(f.send) && methods && !methods.includes("INVITE")) {
    report(
      [...path, "send"],
      `send: ${f.send} needs the dialog a 2xx to INVITE creates, but this rule matches ${methods.join(", ")}`,
      "put it on a rule that answers INVITE with 2xx, or send INVITE, NOTIFY or OPTIONS to the registered client",
      true,
    );
  }
  const final =
    rule.respond ?? (rule.steps ? (rule.steps.at(-1) as { respond?: number }).respond : undefined);
  if (
    (IN_DIALOG_REQUESTS as readonly string[]).includes(f.send) &&
    final !== undefined &&
    (final < 200 || final >= 300)
  ) {
    report(
      [...path, "send"],
      `send: ${f.send} needs a dialog, but this rule answers ${final} (only a 2xx to INVITE makes one)`,
      "answer 200, or drop this then: entry",
      true,
    );
  }
}

function label(rule: RuleT, i: number): string {
  return rule.name ? `${i + 1} ("${rule.name}")` : `${i + 1}`;
}

/** An earlier rule that always applies (no times, probability, state, fall-through) with a match at least as broad. */
/**
 * For each rule, the first rule above it that takes every request it would
 * (no match block, or the same one) and always applies. One pass: the
 * first unconditional rule of each match block is remembered, so a file of
 * n rules costs O(n), not O(n^2).
 */
function shadowingRules(rules: ReadonlyArray<RuleT | undefined>): Array<number | undefined> {
  const firstByMatch = new Map<string, number>();
  let firstCatchAll: number | undefined;
  return rules.map((rule, i) => {
    if (!rule) return undefined;
    const key = JSON.stringify(rule.match ?? null);
    const same = firstByMatch.get(key);
    const shadow =
      firstCatchAll === undefined ? same : same === undefined ? firstCatchAll : Math.min(same, firstCatchAll);
    const conditional =
      rule.times !== undefined ||
      rule.probability !== undefined ||
      rule.requireState !== undefined ||
      rule.dialACode !== undefined ||
      // Only a rule whose one action is a probabilistic drop lets the rest through.
      (ACTIONS.every((a) => rule[a] === undefined) &&
        typeof rule.fault?.drop === "number" &&
        rule.fault.drop < 1);
    if (!conditional) {
      if (rule.match === undefined) firstCatchAll ??= i;
      if (!firstByMatch.has(key)) firstByMatch.set(key, i);
    }
    return shadow;
  });
}

function checkSteps(
  steps: readonly StepT[],
  path: Path,
  rule: RuleT,
  report: Report,
  baseDir: string | undefined,
  files: Map<string, string>,
): void {
  let finalAt: number | undefined;
  steps.forEach((step, k) => {
    const here: Path = [...path, k];
    if (finalAt !== undefined) {
      report(
        here,
        `step ${k + 1} comes after the final answer (step ${finalAt + 1})`,
        "the final response ends the transaction (RFC 3261 17.2.1); remove the step or move it up",
      );
    }
    if ("send" in step) {
      if (step.send >= 200 || step.send === 100) {
        report(
          [...here, "send"],
          `send: ${step.send} is not a provisional response a step can send`,
          step.send === 100
            ? "100 Trying is sent automatically"
            : "use respond: for the final answer; send: takes 101..199",
        );
      }
      if (!onlyInvite(rule)) {
        report(
          [...here, "send"],
          "provisional responses are for INVITE",
          "add match: { method: INVITE } (RFC 4320: no provisional responses to non-INVITE requests)",
        );
      }
      checkBodyAndHeaders(step, here, report, baseDir, files, step.send);
    }
    if ("respond" in step) {
      finalAt = k;
      checkAnswer(step, here, rule, report, baseDir, files, "final");
    }
  });
}

function checkAnswer(
  a: AnswerT,
  path: Path,
  rule: RuleT,
  report: Report,
  baseDir: string | undefined,
  files: Map<string, string>,
  _role: "final",
): void {
  const code = a.respond;
  if (code < 200 && !onlyInvite(rule)) {
    report(
      [...path, "respond"],
      `respond: ${code} is provisional, but this rule can match non-INVITE requests`,
      "RFC 4320: a non-INVITE request needs a final answer; use a final code or match: { method: INVITE }",
    );
  }
  if (code < 200 && a.fault) {
    const wire = Object.keys(a.fault).filter((k) => k !== "drop" && k !== "afterRetransmissions");
    if (wire.length > 0) {
      report(
        [...path, "fault"],
        `fault ${wire.join(", ")} acts on the final response, and respond: ${code} has none (it rings)`,
        "use a final code, or keep only drop / afterRetransmissions",
      );
    }
  }
  if (!isCatalogued(code) && a.reason === undefined) {
    report(
      [...path, "respond"],
      `${code} is not in the catalogue`,
      `give it a reason phrase: reason: "..." (sipmock codes lists the catalogue)`,
    );
  }
  const info = lookupCode(code);
  for (const [k, name] of (a.removeHeaders ?? []).entries()) {
    if (info?.required.some((r) => r.name.toLowerCase() === name.toLowerCase())) {
      report(
        [...path, "removeHeaders", k],
        `${name} is required in a ${code} response (${info.required.find((r) => r.name.toLowerCase() === name.toLowerCase())!.rfc.split(":")[0]})`,
        `to leave it out on purpose, use fault: { omitHeaders: [${name}] }`,
      );
    }
  }
  if (a.delay !== undefined && typeof a.delay === "object" && toMs(a.delay.min) > toMs(a.delay.max)) {
    report([...path, "delay"], "delay min is larger than max", "swap them");
  }
  if (a.fault) checkFault(rule, a.fault, [...path, "fault"], report);
  checkBodyAndHeaders(a, path, report, baseDir, files, code);
}

function checkFault(rule: RuleT, fault: NonNullable<RuleT["fault"]>, path: Path, report: Report): void {
  const transports = rule.match?.transport;
  const only = (t: string) =>
    transports !== undefined && (Array.isArray(transports) ? transports : [transports]).every((x) => x === t);
  if (fault.tcp !== undefined && only("udp"))
    report(
      [...path, "tcp"],
      "fault tcp: applies to TCP, but the rule matches only UDP",
      "match: { transport: tcp }",
    );
  if (fault.fromOtherPort && only("tcp"))
    report(
      [...path, "fromOtherPort"],
      "fault fromOtherPort: applies to UDP, but the rule matches only TCP",
      "match: { transport: udp }",
    );
  if (
    fault.garbage !== undefined &&
    (fault.truncate !== undefined || fault.malformed !== undefined || fault.contentLength !== undefined)
  ) {
    report(
      [...path, "garbage"],
      "garbage: replaces the whole response; truncate/malformed/contentLength would have nothing to act on",
      "keep one of them",
    );
  }
}

function checkBodyAndHeaders(
  a: { headers?: Record<string, string | number> | undefined; body?: BodyT | undefined },
  path: Path,
  report: Report,
  baseDir: string | undefined,
  files: Map<string, string>,
  code: number,
): void {
  for (const [name, value] of Object.entries(a.headers ?? {})) {
    if (!/^[A-Za-z0-9.!%*_+`'~-]+$/.test(name))
      report(
        [...path, "headers", name],
        `"${name}" is not a valid header name`,
        "a token such as X-Test",
        true,
      );
    if (/[\r\n\0]/.test(String(value))) {
      report(
        [...path, "headers", name],
        `the value of ${name} contains a line break`,
        "one line per header; to break a message on purpose, use fault: { malformed: header }",
      );
    }
    checkTemplate(String(value), [...path, "headers", name], report);
  }
  const body = a.body;
  if (body === undefined) return;
  if (body === "sdp") {
    if (code >= 300)
      report(
        [...path, "body"],
        `an SDP answer in a ${code} response means nothing to the client`,
        "SDP goes in 18x or 2xx",
      );
    return;
  }
  if (typeof body === "string") {
    checkTemplate(body, [...path, "body"], report);
    return;
  }
  if ((body.content === undefined) === (body.file === undefined)) {
    report(
      [...path, "body"],
      "a body needs exactly one of content: or file:",
      'body: { file: "answer.sdp", contentType: application/sdp }',
    );
    return;
  }
  if (body.content !== undefined) checkTemplate(body.content, [...path, "body", "content"], report);
  if (body.file !== undefined) {
    if (baseDir === undefined) {
      report(
        [...path, "body", "file"],
        "body files can only be read by scenarios loaded from a file",
        "inline the content: body: { content: ..., contentType: ... }",
      );
      return;
    }
    const full = resolve(baseDir, body.file);
    const stat = existsSync(full) ? statSync(full) : undefined;
    if (stat && (!stat.isFile() || stat.size > MAX_BODY_FILE)) {
      report(
        [...path, "body", "file"],
        `body file ${body.file} is not a regular file of at most ${MAX_BODY_FILE} octets`,
        "point at a small text file",
      );
      return;
    }
    if (!existsSync(full))
      report(
        [...path, "body", "file"],
        `body file ${body.file} does not exist (looked at ${relative(process.cwd(), full) || full})`,
        "paths are relative to the scenario file",
      );
    else {
      const text = readFileSync(full, "utf8");
      files.set(body.file, text);
      checkTemplate(text, [...path, "body", "file"], report);
    }
  }
}

/** `media:` of each rule: play files exist (relative to the scenario file); no files at all in inline scenarios. */
function checkMedia(
  rules: ReadonlyArray<RuleT | undefined>,
  file: string,
  report: Report,
  mediaFiles: Map<string, string>,
  allowFiles: boolean,
): void {
  const baseDir = dirname(resolve(file));
  rules.forEach((rule, i) => {
    const m = rule?.media;
    if (m === undefined || typeof m === "string") return;
    const here: Path = ["rules", i, "media"];
    const plays: Array<[Path, string]> = [];
    if ("play" in m) plays.push([[...here, "play"], m.play]);
    for (const k of ["early", "answered"] as const) {
      const a = "play" in m || "tone" in m ? undefined : m[k];
      if (a && typeof a === "object" && "play" in a) plays.push([[...here, k, "play"], a.play]);
    }
    const record = "play" in m || "tone" in m ? undefined : m.record;
    if (!allowFiles && (plays.length > 0 || record !== undefined)) {
      report(
        plays[0]?.[0] ?? [...here, "record"],
        "media files (play:, record:) can only be used by scenarios loaded from a file",
        "load the scenario from a file (--scenario), or use echo, silence or tone",
      );
      return;
    }
    for (const [path, name] of plays) {
      const full = resolve(baseDir, name);
      if (!existsSync(full) || !statSync(full).isFile())
        report(
          path,
          `WAV file ${name} does not exist (looked at ${relative(process.cwd(), full) || full})`,
          "paths are relative to the scenario file",
        );
      else mediaFiles.set(name, full);
    }
    if (record !== undefined) mediaFiles.set(record, resolve(baseDir, record));
  });
}

function checkTemplate(text: string, path: Path, report: Report): void {
  try {
    compileTemplate(text);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    const suggestion = e.variable ? didYouMean(e.variable, TEMPLATE_VARIABLES) : undefined;
    report(
      path,
      e.message,
      suggestion
        ? `did you mean {{${suggestion}}}?`
        : `known: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(", ")}`,
    );
  }
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
): { ok: true; source: ScenarioSource } | { ok: false; problems: ScenarioProblem[] } {
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
