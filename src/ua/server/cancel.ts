/** CANCEL (RFC 3261 9.2): answered, and a pending INVITE gets 487. */
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { ServerCore } from "./core.js";

export function handleCancel(core: ServerCore, tx: ServerTransaction): void {
  const invite = core.layer.findInviteFor(tx.request);
  if (!invite) {
    // 9.2: "If the UAS did not find a matching transaction for the CANCEL
    // according to the procedure above, it SHOULD respond to the CANCEL
    // with a 481 (Call Leg/Transaction Does Not Exist)."
    core.send(tx, { status: 481 });
    return;
  }
  // 9.2: "the To tag of the response to the CANCEL and the To tag in the
  // response to the original request SHOULD be the same".
  core.send(tx, { status: 200 }, invite.toTag);
  const ctx = core.contexts.get(invite);
  if (ctx?.dropped) return;
  if (ctx) ctx.awaiting = undefined;
  if (invite.state === "proceeding") {
    // 9.2: "If the original request was an INVITE, the UAS SHOULD
    // immediately respond to the INVITE with a 487 (Request Terminated)."
    ctx?.cancelPending();
    core.send(invite, { status: 487 });
  }
  // Otherwise the final response was already sent: "the CANCEL request has
  // no effect on the processing of the original request".
}
