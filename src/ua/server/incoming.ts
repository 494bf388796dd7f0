/**
 * A new request through the UAS, in order: CANCEL aside, the checks
 * (8.2, RFC 4028 422, the dialog's rules, digest auth), the scenario's
 * decision, then its answer (now, after retransmissions, or never);
 * and the other events of a server transaction (retransmission, ACK, end).
 */
import { parseDtmfRelay } from "../../media/index.js";
import type { ParsedRequest } from "../../sip/message.js";
import { isSipUri, uriUser } from "../../sip/uri.js";
import type { ServerTransaction, TerminationReason } from "../../transaction/server-transaction.js";
import type { Flow } from "../../transport/types.js";
import type { Decision, RequestFacts } from "../ports.js";
import type { ResponseSpec } from "../response-builder.js";
import { handleCancel } from "./cancel.js";
import type { ServerCore } from "./core.js";
import { builtIn } from "./handlers.js";
import { sessionIntervalTooSmall } from "./session-timer.js";
import { checkDialog, validate } from "./validate.js";

export function onRequest(core: ServerCore, tx: ServerTransaction): void {
  const req = tx.request;
  if (req.method === "CANCEL") {
    handleCancel(core, tx);
    return;
  }
  const rejection = rejectionOf(core, tx);
  if (rejection) {
    core.send(tx, rejection);
    return;
  }
  if (req.method === "INFO") infoDigit(core, req);
  const decision = decideFor(core, req, tx.flow);
  core.events.decided?.(tx, decision);
  if (req.method === "INVITE" && decision.kind !== "drop" && core.mediaOn()) {
    if (!req.core.to.tag) core.invites.set(req.core.callId, req);
    core.media.direct(req.core.callId, decision.media);
  }
  answer(core, tx, decision);
}

/** The first check that refuses the request, before any scenario rule sees it. */
function rejectionOf(core: ServerCore, tx: ServerTransaction): ResponseSpec | undefined {
  const req = tx.request;
  const rejection =
    validate(core, tx) ??
    (req.method === "INVITE" ? sessionIntervalTooSmall(req, core.options.minSE) : undefined) ??
    checkDialog(core, tx);
  if (rejection) return rejection;
  // 22.1: the UAS challenges with 401 (a proxy with 407) until the request
  // carries valid credentials; only then does the scenario see it.
  const auth = core.options.auth?.();
  if (!auth?.appliesTo(req.method)) return undefined;
  const outcome = auth.check(req);
  if (outcome.ok) return undefined;
  if (outcome.failure) core.events.authFailed?.(tx, outcome.failure.username, outcome.failure.reason);
  return outcome.response;
}

/** Carries out the decision: nothing (drop), later (afterRetransmissions), or now. */
function answer(core: ServerCore, tx: ServerTransaction, decision: Decision): void {
  if (decision.kind === "drop") {
    core.contexts.of(tx).dropped = true;
    // Fault: no answer at all. The transaction absorbs the client's
    // retransmissions silently and is freed once the client has given up
    // (Timer B/F = 64*T1, RFC 3261 17.1.1.2 / 17.1.2.2).
    core.abandonLater(tx);
    return;
  }
  if (decision.followUps) core.contexts.of(tx).followUps = decision.followUps;
  const wait = decision.kind === "respond" ? decision.fault?.afterRetransmissions : undefined;
  if (wait) {
    // Fault: the request is ignored until `wait` retransmissions of it arrived.
    core.contexts.of(tx).awaiting = { remaining: wait, answer: () => answerNow(core, tx, decision) };
    core.abandonLater(tx);
    return;
  }
  answerNow(core, tx, decision);
}

/** The 100 (Trying) every INVITE gets at once (a spec is read only: one serves every request). */
const TRYING: ResponseSpec = { status: 100 };

/** The answer itself (no closure unless it waits for retransmissions). */
function answerNow(core: ServerCore, tx: ServerTransaction, decision: Decision): void {
  // 17.2.1: the INVITE server transaction "MUST generate a 100 (Trying)
  // response unless it knows that the TU will generate a provisional or
  // final response within 200 ms". We always send it at once.
  if (tx.request.method === "INVITE") core.send(tx, TRYING);
  if (decision.kind === "default") builtIn(core, tx);
  else if (decision.kind === "respond") core.runPlan(tx, decision.steps, decision.final, decision.fault);
}

export function decideFor(core: ServerCore, req: ParsedRequest, flow: Flow, trigger?: "dtmf"): Decision {
  const uri = req.uri;
  // One object of one shape per request (absent facts are undefined), no spreads.
  const facts: RequestFacts = {
    method: req.method,
    requestUser: uriUser(uri),
    requestHost: isSipUri(uri) ? uri.host : undefined,
    transport: flow.transport,
    sourceAddress: flow.remote.address,
    sourcePort: flow.remote.port,
    hasBody: req.body.length > 0,
    request: req,
    dtmf: digitsOf(core, req.core.callId),
    trigger,
  };
  return core.options.scenario().decide(facts);
}

/** The call's digits so far ("" without any, read without building a string). */
function digitsOf(core: ServerCore, callId: string): string {
  return core.media.digitList(callId).length === 0 ? "" : core.media.digits(callId);
}

/** SIP INFO with application/dtmf-relay (Signal=, Duration=): a digit of the call. */
function infoDigit(core: ServerCore, req: ParsedRequest): void {
  const type = (req.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/dtmf-relay") return;
  const relay = parseDtmfRelay(req.body.toString("latin1"));
  if (relay) core.media.noteInfoDigit(req.core.callId, relay.digit, relay.durationMs);
  else core.events.note?.(`${req.core.callId}: INFO application/dtmf-relay without a valid Signal=`);
}

/**
 * A digit arrived: the rules with `match: { dtmf }` are asked again. While
 * the INVITE is unanswered their answer replaces the pending plan (an IVR:
 * "press 1 for 486"); in an answered call only their `then:` requests run.
 */
export function onDigit(core: ServerCore, callId: string): void {
  if (core.closing) return;
  const pending = core.layer
    ?.pendingInvites()
    .find((t) => t.request.core.callId === callId && !t.request.core.to.tag);
  if (pending) {
    const decision = decideFor(core, pending.request, pending.flow, "dtmf");
    if (decision.kind !== "respond") return;
    core.events.decided?.(pending, decision);
    if (decision.media) core.media.direct(callId, decision.media);
    const ctx = core.contexts.of(pending);
    ctx.cancelPending();
    if (decision.followUps) ctx.followUps = decision.followUps;
    core.runPlan(pending, decision.steps, decision.final, decision.fault);
    return;
  }
  const invite = core.invites.get(callId);
  const dialog = core.dialogs.byCallId(callId)[0];
  if (!invite || !dialog?.peer) return;
  const decision = decideFor(core, invite, dialog.peer.flow, "dtmf");
  if (decision.kind === "drop") return;
  if (decision.media) core.media.direct(callId, decision.media);
  if (decision.followUps) core.runFollowUps(decision.followUps, invite);
}

/** A retransmission: one fewer to wait for when the answer is held back by afterRetransmissions. */
export function onRetransmission(core: ServerCore, tx: ServerTransaction): void {
  core.events.retransmission?.(tx);
  const ctx = core.contexts.get(tx);
  const w = ctx?.awaiting;
  if (!ctx || !w) return;
  w.remaining -= 1;
  if (w.remaining > 0) return;
  ctx.awaiting = undefined;
  ctx.cancelPending();
  w.answer();
}

export function onAck(core: ServerCore, ack: ParsedRequest): void {
  // 13.3.1.4: the ACK for a 2xx stops its retransmissions.
  const dialog = core.dialogs.of(ack);
  if (dialog) {
    core.dialogs.confirm(dialog);
    // 13.2.1: "If the initial offer is in the first reliable non-failure
    // message from the UAS back to the UAC, the answer MUST be in the
    // acknowledgement for that message".
    if (ack.body.length > 0) {
      const sdp = ack.body.toString("latin1");
      dialog.recordRemoteSdp(sdp);
      if (dialog.offeredIn2xx) core.media.remoteAnswer(dialog.callId, sdp);
    } else if (dialog.offeredIn2xx) {
      core.events.note?.(
        `${ack.core.callId}: the ACK carries no SDP answer to the offer in our 2xx (RFC 3261 13.2.1)`,
      );
    }
    dialog.clearExpectedAnswer();
  }
  core.events.ack?.(ack, dialog ? "dialog" : "none");
}

/** The transaction ended: its context is disposed of (every timer, every index entry). */
export function onTerminated(core: ServerCore, tx: ServerTransaction, reason: TerminationReason): void {
  core.contexts.end(tx);
  // A BYE or unsubscribe let through a spent budget ended unanswered (a scenario dropped it): the next may be.
  // (The method first: a stored transaction's request is parsed from its bytes when read.)
  if (tx.method === "BYE") core.dialogs.of(tx.request)?.byeEnded(tx.request.core.cseq.seq);
  else if (tx.method === "SUBSCRIBE") core.subscriptions.unsubscribeEnded(tx.request);
  core.events.terminated?.(tx, reason);
}
