/** REFER (RFC 3515 with RFC 7647): 200 (never 202), then a NOTIFY whose sipfrag reports the outcome. */
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import { entityOf, type Subscription } from "../events.js";
import { localUri } from "../local-context.js";
import { addrSpecOf } from "../uac.js";
import type { ServerCore } from "./core.js";

export function handleRefer(core: ServerCore, tx: ServerTransaction): void {
  const req = tx.request;
  if (req.headers.getRows("Refer-To").length !== 1) {
    core.send(tx, { status: 400, warning: "a REFER needs exactly one Refer-To (RFC 3515 2.4.1)" });
    return;
  }
  core.send(tx, { status: 200, headers: [["Contact", `<${localUri(core.identity(tx), "sipmock")}>`]] });
  const contact = req.headers.get("Contact");
  // In a dialog, the NOTIFY takes the dialog's next local CSeq (12.2.1.1).
  const dialog = core.dialogs.of(req);
  const peer = dialog?.peer;
  const cseq = dialog && peer ? dialog.nextLocalCseq() - 1 : 0;
  const sub: Subscription = {
    key: `refer|${req.core.callId}|${req.core.cseq.seq}`,
    pkg: "refer",
    event: `refer;id=${req.core.cseq.seq}`,
    entity: entityOf(req),
    target: addrSpecOf(contact, req.uri.raw),
    from: req.core.to.tag ? req.headers.get("To")! : `${req.headers.get("To")!};tag=${tx.toTag}`,
    to: req.headers.get("From")!,
    callId: req.core.callId,
    routeSet: peer?.routeSet ?? req.headers.getAll("Record-Route"),
    flow: tx.flow,
    cseq,
    expiresAt: 0,
  };
  // The mock does not place the referred call; it reports success at once.
  void core.subscriptions.notify(sub, "terminated;reason=noresource", {
    type: "message/sipfrag;version=2.0",
    body: "SIP/2.0 200 OK\r\n",
  });
}
