/**
 * What the schema cannot say about rules: one action per rule, RFC
 * constraints on answers, reachability, matchers that compile, templates,
 * body files. Each rule's problems come in the order of its keys' checks.
 */
import { dirname, resolve } from "node:path";
import { compileMatch, compileSource } from "../matcher.js";
import type { AnswerT, RuleT } from "../schema.js";
import { checkAnswer, checkFault, checkSteps } from "./answers.js";
import type { BodyFiles } from "./bodies.js";
import type { Path, Report } from "./problems.js";
import { checkFollowUp } from "./then.js";

const ACTIONS = ["respond", "steps", "sequence", "dialACode", "default"] as const;
const ANSWER_ONLY = ["reason", "headers", "removeHeaders", "body", "delay"] as const;

type Action = (typeof ACTIONS)[number];

/** Checks every rule (undefined: one the schema refused); body files are read into `files`. */
export function checkSemantics(
  rules: ReadonlyArray<RuleT | undefined>,
  file: string,
  report: Report,
  files: Map<string, string>,
  allowFiles: boolean,
): void {
  const bodies: BodyFiles = { baseDir: allowFiles ? dirname(resolve(file)) : undefined, files };
  const shadows = shadowingRules(rules);
  rules.forEach((rule, i) => {
    if (!rule) return;
    const here: Path = ["rules", i];
    const actions = ACTIONS.filter((a) => rule[a] !== undefined);
    checkActions(rule, i, actions, report);
    checkAnswers(rule, here, actions, report, bodies);
    checkMatch(rule, i, report);
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

/** Exactly one action (or a drop alone), and answer keys only next to respond:. */
function checkActions(rule: RuleT, i: number, actions: readonly Action[], report: Report): void {
  const here: Path = ["rules", i];
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
}

/** The rule's answers (respond:, steps:, sequence:), its fault and its then: list. */
function checkAnswers(
  rule: RuleT,
  here: Path,
  actions: readonly Action[],
  report: Report,
  bodies: BodyFiles,
): void {
  if (rule.respond !== undefined) checkAnswer(rule as AnswerT, [...here], rule, report, bodies);
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
  if (rule.steps) checkSteps(rule.steps, [...here, "steps"], rule, report, bodies);
  if (rule.sequence) {
    const answers = Array.isArray(rule.sequence) ? rule.sequence : rule.sequence.answers;
    const base: Path = Array.isArray(rule.sequence)
      ? [...here, "sequence"]
      : [...here, "sequence", "answers"];
    answers.forEach((a, j) => {
      checkAnswer(a, [...base, j], rule, report, bodies);
    });
  }
  if (rule.fault) checkFault(rule, rule.fault, [...here, "fault"], report);
  for (const [j, f] of (rule.then ?? []).entries()) checkFollowUp(rule, f, [...here, "then", j], report);
}

/** The match: block compiles (RE2 expressions, addresses and CIDRs). */
function checkMatch(rule: RuleT, i: number, report: Report): void {
  const here: Path = ["rules", i];
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
}

function label(rule: RuleT, i: number): string {
  return rule.name ? `${i + 1} ("${rule.name}")` : `${i + 1}`;
}

/**
 * For each rule, the first rule above it that takes every request it would
 * (no match block, or the same one) and always applies (no times,
 * probability, state, fall-through). One pass: the first unconditional rule
 * of each match block is remembered, so a file of n rules costs O(n), not O(n^2).
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
    if (!conditional(rule)) {
      if (rule.match === undefined) firstCatchAll ??= i;
      if (!firstByMatch.has(key)) firstByMatch.set(key, i);
    }
    return shadow;
  });
}

/** Whether a rule may let a request it matches through to the rules below it. */
function conditional(rule: RuleT): boolean {
  return (
    rule.times !== undefined ||
    rule.probability !== undefined ||
    rule.requireState !== undefined ||
    rule.dialACode !== undefined ||
    // Only a rule whose one action is a probabilistic drop lets the rest through.
    (ACTIONS.every((a) => rule[a] === undefined) &&
      typeof rule.fault?.drop === "number" &&
      rule.fault.drop < 1)
  );
}
