/**
 * The answer plan: a decision's steps (responses, waits) and its final
 * response, timed on the scheduler; the SDP they carry is computed once
 * before the first (RFC 3264: one answer per offer).
 */
import type { TimerHandle } from "../../transaction/scheduler.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { PlanStep, ResponsePlan, WireFault } from "../ports.js";
import type { ResponseSpec } from "../response-builder.js";
import type { PendingPlan } from "./context.js";
import type { ServerCore } from "./core.js";
import { acceptsSdp, isWebRtc, SessionBody, sessionDescription } from "./sdp-answer.js";

export function runPlan(
  core: ServerCore,
  tx: ServerTransaction,
  steps: readonly PlanStep[],
  final: ResponsePlan | undefined,
  fault?: WireFault,
): void {
  // RFC 3264: one answer per offer, computed before any response so that a
  // 183 and the 2xx carry the same answer, and an unacceptable offer gets
  // 488 at once (13.3.1.3) instead of ringing first.
  const callId = tx.request.core.callId;
  const wantsSdp = final?.body === "sdp" || stepsWantSdp(steps);
  // (The port first: once allocated, the offer is not read again to see whether it is WebRTC.)
  if (wantsSdp && core.mediaOn() && core.media.portOf(callId) === undefined && !isWebRtc(tx)) {
    prepareMediaThenRun(core, tx, () => runPlan(core, tx, steps, final, fault));
    return;
  }
  let sdp: SessionBody | undefined;
  if (wantsSdp) {
    // RFC 3261 21.4.7 / RFC 4475 3.3.15: when Accept rules out SDP, the
    // answer cannot be formulated: 406 with a Warning saying why.
    if (!acceptsSdp(tx.request.headers)) {
      core.send(tx, {
        status: 406,
        warning: "Accept does not include application/sdp; cannot send the session answer",
      });
      return;
    }
    const made = sessionDescription(core, tx, final?.body === "sdp");
    if (!(made instanceof SessionBody)) {
      core.send(tx, made);
      return;
    }
    sdp = made;
  }
  schedulePlan(core, tx, steps, final, sdp, fault);
}

/** Whether a response the steps send carries the SDP. */
function stepsWantSdp(steps: readonly PlanStep[]): boolean {
  for (const step of steps) if ("send" in step && step.send.body === "sdp") return true;
  return false;
}

/** Whether no step waits (a loop: no closure per request). */
function nothingWaits(steps: readonly PlanStep[]): boolean {
  for (const step of steps) if ("waitMs" in step && step.waitMs > 0) return false;
  return true;
}

/** The SDP names the real port: allocate the call's RTP/RTCP pair first, then run the plan. */
function prepareMediaThenRun(core: ServerCore, tx: ServerTransaction, run: () => void): void {
  const callId = tx.request.core.callId;
  core.media.prepare(callId, core.rtpBindAddress(tx.flow)).then(
    () => {
      // Answered meanwhile (CANCEL's 487, shutdown's 503): the port is not needed.
      const answered = tx.lastResponse !== undefined && tx.lastResponse.status >= 200;
      if (tx.state === "terminated" || answered) {
        if (!tx.request.core.to.tag) core.endMedia(callId);
        return;
      }
      run();
    },
    (e: Error) => {
      core.events.note?.(`${callId}: no RTP port: ${e.message}`);
      core.send(tx, { status: 503, headers: [["Retry-After", "5"]], warning: "no RTP port free" });
    },
  );
}

/** The steps and the final response on the scheduler; with no final, it rings until CANCEL or the ring timeout. */
function schedulePlan(
  core: ServerCore,
  tx: ServerTransaction,
  steps: readonly PlanStep[],
  final: ResponsePlan | undefined,
  sdp: SessionBody | undefined,
  fault: WireFault | undefined,
): void {
  if (final && nothingWaits(steps)) {
    // Nothing waits: all sent now, in order, and no plan (context, timers,
    // closures) is kept for the transaction's remaining 64*T1.
    for (const step of steps) if ("send" in step) sendPlan(core, tx, step.send, sdp);
    const known = core.contexts.get(tx);
    if (known) known.pending = undefined;
    sendPlan(core, tx, final, sdp, fault);
    return;
  }
  const ctx = core.contexts.of(tx);
  const timers: TimerHandle[] = [];
  const entry: PendingPlan = { timers };
  ctx.pending = entry;
  const scheduler = core.options.scheduler;
  let delay = 0;
  const at = (ms: number, fn: () => void) => {
    if (ms === 0) fn();
    else timers.push(scheduler.schedule(ms, fn));
  };
  for (const step of steps) {
    if ("waitMs" in step) delay += step.waitMs;
    else {
      const plan = step.send;
      at(delay, () => sendPlan(core, tx, plan, sdp));
    }
  }
  const finish = final
    ? () => {
        ctx.pending = undefined;
        sendPlan(core, tx, final, sdp, fault);
      }
    : () => {
        // No final answer: ring until CANCEL, then give up with 480.
        entry.ringing = true;
        timers.push(
          scheduler.schedule(core.options.ringTimeoutMs, () => {
            ctx.pending = undefined;
            core.send(tx, { status: 480, warning: "no answer: ring timeout" });
          }),
        );
      };
  at(delay, finish);
}

/** One planned response: its body (the SDP, or the rule's), then the media it negotiates. */
export function sendPlan(
  core: ServerCore,
  tx: ServerTransaction,
  plan: ResponsePlan,
  sdp: SessionBody | undefined,
  fault?: WireFault,
): void {
  if (tx.state === "terminated") return;
  // RFC 3261 13.2.1 / RFC 6337 2.1: with no offer in the INVITE, the offer
  // goes in the 2xx, never in an unreliable provisional response.
  const offerInInvite = tx.request.body.length > 0;
  let mediaSdp: SessionBody | undefined;
  let body: ResponseSpec["body"];
  if (plan.body === "sdp" && sdp && (plan.status >= 200 || offerInInvite)) {
    body = { contentType: "application/sdp", data: sdp.data, origin: sdp.origin };
    mediaSdp = sdp;
  } else if (plan.body && plan.body !== "sdp") {
    // Template output is already octets (see scenario/template.ts toWire).
    body = { contentType: plan.body.contentType, data: Buffer.from(plan.body.content, "latin1") };
  }
  // One shape whatever the plan has (absent parts undefined): no spreads.
  const spec: ResponseSpec = {
    status: plan.status,
    reason: plan.reason,
    headers: plan.headers,
    removeHeaders: plan.removeHeaders,
    body,
  };
  // Read before sending: once its 2xx is sent, the transaction lets the request's body go.
  const media = mediaSdp !== undefined && plan.status < 300 && core.mediaOn();
  const offer = media && offerInInvite && sdp ? sdp.offer : undefined;
  const callId = tx.request.core.callId;
  core.send(tx, spec, tx.toTag, fault);
  if (media && mediaSdp) {
    const local = mediaSdp.text;
    if (offer !== undefined) core.media.negotiated(callId, local, offer, true, plan.status >= 200);
    else core.media.offered(callId, local);
  }
}
