/** A rule's `then:` list: each option belongs to its request; in-dialog requests need a dialog. */
import { type FollowUpT, IN_DIALOG_REQUESTS, type RuleT } from "../schema.js";
import { methodsOf } from "./answers.js";
import type { Path, Report } from "./problems.js";

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

export function checkFollowUp(rule: RuleT, f: FollowUpT, path: Path, report: Report): void {
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
  if ((IN_DIALOG_REQUESTS as readonly string[]).includes(f.send)) checkDialog(rule, f, path, report);
}

/** BYE, re-INVITE and UPDATE need the dialog a 2xx to INVITE creates. */
function checkDialog(rule: RuleT, f: FollowUpT, path: Path, report: Report): void {
  const methods = methodsOf(rule);
  if (methods && !methods.includes("INVITE")) {
    report(
      [...path, "send"],
      `send: ${f.send} needs the dialog a 2xx to INVITE creates, but this rule matches ${methods.join(", ")}`,
      "put it on a rule that answers INVITE with 2xx, or send INVITE, NOTIFY or OPTIONS to the registered client",
      true,
    );
  }
  const final =
    rule.respond ?? (rule.steps ? (rule.steps.at(-1) as { respond?: number }).respond : undefined);
  if (final !== undefined && (final < 200 || final >= 300)) {
    report(
      [...path, "send"],
      `send: ${f.send} needs a dialog, but this rule answers ${final} (only a 2xx to INVITE makes one)`,
      "answer 200, or drop this then: entry",
      true,
    );
  }
}
