/**
 * Answers a rule gives: final codes (RFC 4320, the catalogue, required
 * headers), provisional steps (RFC 3261 17.2.1), delays and faults.
 */
import { isCatalogued, lookupCode } from "../../catalog/index.js";
import { toMs } from "../duration.js";
import type { AnswerT, RuleT, StepT } from "../schema.js";
import { type BodyFiles, checkBodyAndHeaders } from "./bodies.js";
import type { Path, Report } from "./problems.js";

/** The methods a rule matches, upper case; undefined when it matches any. */
export function methodsOf(rule: RuleT): string[] | undefined {
  const m = rule.match?.method;
  if (m === undefined) return undefined;
  return (Array.isArray(m) ? m : [m]).map((x) => x.toUpperCase());
}

function onlyInvite(rule: RuleT): boolean {
  const methods = methodsOf(rule);
  return methods?.every((m) => m === "INVITE") ?? false;
}

export function checkSteps(
  steps: readonly StepT[],
  path: Path,
  rule: RuleT,
  report: Report,
  bodies: BodyFiles,
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
      checkBodyAndHeaders(step, here, report, bodies, step.send);
    }
    if ("respond" in step) {
      finalAt = k;
      checkAnswer(step, here, rule, report, bodies);
    }
  });
}

export function checkAnswer(a: AnswerT, path: Path, rule: RuleT, report: Report, bodies: BodyFiles): void {
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
  checkRemovedHeaders(a, path, report);
  if (a.delay !== undefined && typeof a.delay === "object" && toMs(a.delay.min) > toMs(a.delay.max)) {
    report([...path, "delay"], "delay min is larger than max", "swap them");
  }
  if (a.fault) checkFault(rule, a.fault, [...path, "fault"], report);
  checkBodyAndHeaders(a, path, report, bodies, code);
}

/** removeHeaders: must not remove what the catalogue requires in this response. */
function checkRemovedHeaders(a: AnswerT, path: Path, report: Report): void {
  const code = a.respond;
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
}

export function checkFault(
  rule: RuleT,
  fault: NonNullable<RuleT["fault"]>,
  path: Path,
  report: Report,
): void {
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
