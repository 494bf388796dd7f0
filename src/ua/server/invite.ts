/**
 * INVITE (RFC 3261 13, 14): the built-in answer (ring then 200 with SDP,
 * a re-INVITE answered at once), the dialog a 2xx makes (12.1.1), and the
 * re-INVITEs a dialog's end leaves unanswered (15.1.2).
 */
import type { ParsedRequest } from "../../sip/message.js";
import { InviteServerTransaction } from "../../transaction/invite-server-transaction.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { Dialog } from "../dialogs.js";
import { allowsUpdate } from "../mock-requests.js";
import type { PlanStep, ResponsePlan } from "../ports.js";
import { addrSpecOf } from "../uac.js";
import type { ServerCore } from "./core.js";
import type { SentResponse } from "./pipeline.js";

/** The built-in INVITE: 180 then 200 with the SDP; a re-INVITE gets its 200 at once (14.2). */
export function handleInvite(core: ServerCore, tx: ServerTransaction): void {
  const req = tx.request;
  if (req.core.to.tag) {
    // 14.2: a re-INVITE (hold, resume, new codecs) is answered at once
    // with an SDP answer; one for a dialog we do not know gets 481 (12.2.2).
    if (!core.inDialog(tx)) {
      core.send(tx, { status: 481 });
      return;
    }
    core.runPlan(tx, NO_STEPS, OK_WITH_SDP);
    return;
  }
  core.runPlan(tx, RING, OK_WITH_SDP);
}

// The built-in plans, shared by every INVITE (plans are read only).
const NO_STEPS: readonly PlanStep[] = [];
const RING: readonly PlanStep[] = [{ send: { status: 180 } }];
const OK_WITH_SDP: ResponsePlan = { status: 200, body: "sdp" };

/**
 * 15.1.2: when a dialog ends, a re-INVITE of the peer still pending in it
 * is answered: "It is RECOMMENDED that a 487 (Request Terminated) response
 * be generated to those pending requests."
 */
export function answerPendingReInvites(core: ServerCore, dialog: Dialog): void {
  // At most one: a dialog has one remote INVITE in progress (14.2; a second gets 500).
  const ctx = core.contexts.reInviteOf(dialog);
  if (ctx) {
    const tx = ctx.tx;
    if (tx.lastResponse?.status !== undefined && tx.lastResponse.status >= 200) return;
    ctx.cancelPending();
    ctx.awaiting = undefined;
    ctx.dropped = false;
    ctx.followUps = undefined;
    core.send(tx, { status: 487, warning: "the dialog ended before this re-INVITE was answered" });
  }
}

/** A first 2xx to an INVITE makes (or confirms) the dialog; 13.3.1.4 retransmits it until the ACK. */
export function establishDialog(core: ServerCore, tx: ServerTransaction, sent: SentResponse): void {
  const req = tx.request;
  const { built, bytes, spec, toTag, fault } = sent;
  if (
    req.method !== "INVITE" ||
    built.status < 200 ||
    built.status >= 300 ||
    !sent.firstFinal ||
    !(tx instanceof InviteServerTransaction)
  )
    return;
  // 13.3.1.4: the UAS core retransmits the 2xx until the ACK; the
  // transport is reliable for TCP, where only the give-up timer runs.
  const resend =
    tx.flow.transport === "udp" && !fault?.noRetransmit ? () => tx.respond(built.status, bytes) : undefined;
  const dialog = core.dialogs.accept(
    req.core.callId,
    toTag,
    req.core.from.tag ?? "",
    resend,
    core.unacknowledged,
    dialogOctets(req),
  );
  learnPeer(dialog, tx, toTag);
  core.armSessionTimer(dialog, spec);
  if (req.body.length > 0) dialog.recordRemoteSdp(req.body.toString("latin1"));
  else if (spec.body?.contentType === "application/sdp") dialog.expectAnswerInAck();
  const ctx = core.contexts.get(tx);
  // The o= of the SDP the 2xx carries, else the one the transaction kept (an SDP in a 18x only).
  const origin = spec.body?.origin ?? ctx?.sdpOrigin;
  if (origin && !dialog.sdpOrigin) dialog.recordSdpOrigin(origin);
  const webrtc = ctx?.webrtcId;
  if (webrtc) dialog.ensureWebrtc(() => webrtc);
  if (ctx) {
    ctx.sdpOrigin = undefined;
    ctx.webrtcId = undefined;
  }
  dialog.receiveCseq(req.core.cseq.seq);
}

/** 12.1.1: remote target from Contact, route set from Record-Route. */
function learnPeer(dialog: Dialog, tx: ServerTransaction, toTag: string): void {
  const req = tx.request;
  // No usable Contact, no remote target: the mock cannot send in this dialog.
  const target = addrSpecOf(req.headers.get("Contact"), "");
  if (!target) return;
  if (dialog.peer) dialog.retarget(target);
  else
    dialog.setPeer({
      target,
      from: toWithTag(req, toTag),
      to: req.headers.get("From")!,
      routeSet: req.headers.getAll("Record-Route"),
      flow: tx.flow,
      localCseq: 0,
      allowsUpdate: allowsUpdate(req.headers.getAll("Allow")),
    });
}

/**
 * Our side of a dialog the request makes: its To with our tag. A To that
 * already has a tag names this transaction's tag (the layer reuses it), so
 * it is taken as it is.
 */
export function toWithTag(req: ParsedRequest, toTag: string): string {
  const to = req.headers.get("To")!;
  return req.core.to.tag ? to : `${to};tag=${toTag}`;
}

/** Octets a dialog copies from its INVITE: Contact, From, To, Record-Route and the SDP. */
function dialogOctets(req: ParsedRequest): number {
  let n = req.body.length;
  const rows = req.headers.rows();
  for (let i = 0; i < rows.length; i++) {
    const f = rows[i]!;
    if (f.name === "Contact" || f.name === "From" || f.name === "To" || f.name === "Record-Route")
      n += f.value.length;
  }
  return n;
}
