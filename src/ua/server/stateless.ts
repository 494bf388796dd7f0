/**
 * The 503s with Retry-After of an overloaded or shutting-down mock, sent
 * outside any transaction, as a stateless UAS does (RFC 3261 8.2.7): an
 * overloaded mock keeps no transaction for what it turns away and sends
 * each 503 once (no Timer G); the transaction layer remembers the refusals
 * made over UDP (RefusedStore).
 */
import type { ParsedRequest } from "../../sip/message.js";
import { ITEM_OVERHEAD } from "../../transaction/budget.js";
import type { OverloadDetector, OverloadReason } from "../../transaction/overload.js";
import { statelessTag } from "../../transaction/transaction-layer.js";
import type { Flow } from "../../transport/types.js";
import { buildResponse } from "../response-builder.js";
import type { ServerCore } from "./core.js";
import { isUnsubscribe } from "./subscribe.js";

/**
 * Issue 10 item 4 and issue 12: a new request the overloaded mock refuses
 * before it has a transaction, answered 503 + Retry-After at once and
 * statelessly (8.2.7, To tag: refusalTag); the transaction layer remembers
 * it over UDP, so its retransmissions get the same 503 (resendRefusal) and
 * are never taken as new once the load has fallen. The reason, or
 * undefined: not refused.
 */
export function refuseOverloaded(
  core: ServerCore,
  request: ParsedRequest,
  flow: Flow,
  cost: number,
): OverloadReason | undefined {
  const overload = core.options.overload;
  const reason = overload ? whyRefused(core, overload, request, cost) : undefined;
  if (reason === undefined) return undefined;
  sendRefusal(core, request, flow, reason, false);
  overload!.refused(reason);
  return reason;
}

/** A retransmission of a refused request: the same 503 (same To tag, same reason), not counted again. */
export function resendRefusal(
  core: ServerCore,
  request: ParsedRequest,
  flow: Flow,
  reason: OverloadReason,
): void {
  sendRefusal(core, request, flow, reason, true);
}

/** The 503 of an overload refusal (the Warning says why). */
function sendRefusal(
  core: ServerCore,
  request: ParsedRequest,
  flow: Flow,
  reason: OverloadReason,
  retransmission: boolean,
): void {
  sendUnavailable(
    core,
    request,
    flow,
    refusalTag(request),
    `overloaded (${whyOverloaded(reason)})`,
    retransmission,
  );
}

/**
 * The To tag of a stateless 503: the request's own within a dialog, else a
 * keyed hash of the request (8.2.7: the same for its retransmissions,
 * whether the refusal is still remembered or not).
 */
function refusalTag(request: ParsedRequest): string {
  return request.core.to.tag || statelessTag(request);
}

/**
 * Why a new request is refused, in order: no room for its transaction
 * (nothing can be kept for it), which spares a BYE ending a call and an
 * unsubscribe ending a subscription the mock holds; load (lag, the receive
 * queue), which spares a request within a call or subscription the mock
 * holds; a full store it would add to (an initial INVITE's dialog, an
 * initial SUBSCRIBE's subscription).
 */
function whyRefused(
  core: ServerCore,
  overload: OverloadDetector,
  request: ParsedRequest,
  cost: number,
): OverloadReason | undefined {
  if (overload.noRoomForTransaction())
    return overload.fitsHeadroom(cost) && (sparedBye(core, request) || sparedUnsubscribe(core, request))
      ? undefined
      : "transactions";
  const initial = !request.core.to.tag;
  const load = overload.load();
  if (load) return initial || !inHeldDialog(core, request) ? load : undefined;
  const store =
    initial && request.method === "INVITE"
      ? "dialogs"
      : initial && request.method === "SUBSCRIBE"
        ? "subscriptions"
        : undefined;
  return store && overload.full(store, ITEM_OVERHEAD[store] + request.body.length) ? store : undefined;
}

/**
 * A request within a call or subscription the mock holds (a BYE, a
 * re-INVITE, a SUBSCRIBE refresh or unsubscribe) is not refused for load: a
 * BYE ends the call and the media it sends, which a 503 would leave
 * running; a 503 to an unsubscribe leaves the subscription and its NOTIFYs
 * running, and one to a refresh lets it run out (RFC 6665 4.1.2.2); new
 * work is what an overloaded mock turns away. A To tag alone does not
 * make a request part of a dialog.
 */
function inHeldDialog(core: ServerCore, request: ParsedRequest): boolean {
  return core.dialogs.of(request) !== undefined || core.subscriptions.heldFor(request) !== undefined;
}

/**
 * A BYE within a call the mock holds gets a transaction even when the
 * transactions budget is spent: a 503 would leave the call and the RTP the
 * mock sends for it running, for a client that takes its call as ended
 * (most do, whatever the final response to their BYE). One at a time per
 * call (until that BYE is answered or its transaction ends: a scenario may
 * delay, drop or refuse it and keep the call), and only within the budget's
 * fixed headroom (checked by whyRefused), so the overshoot is bounded
 * however many calls are held.
 */
function sparedBye(core: ServerCore, request: ParsedRequest): boolean {
  if (request.method !== "BYE") return false;
  const dialog = core.dialogs.of(request);
  if (dialog === undefined || dialog.byeInFlight) return false;
  dialog.spareBye(request.core.cseq.seq);
  return true;
}

/**
 * An unsubscribe (SUBSCRIBE with Expires: 0) of a subscription the mock
 * holds gets a transaction even when the transactions budget is spent, as
 * a BYE does: a 503 would leave the subscription and its NOTIFYs running
 * for a subscriber that has moved on. One at a time per subscription, within
 * the same headroom (checked by whyRefused). A refresh is new work, refused.
 */
function sparedUnsubscribe(core: ServerCore, request: ParsedRequest): boolean {
  if (!isUnsubscribe(request)) return false;
  const sub = core.subscriptions.heldFor(request);
  if (sub === undefined || sub.unsubscribing !== undefined) return false;
  sub.unsubscribing = request.core.cseq.seq;
  return true;
}

/** The Warning's words for an overload reason. */
function whyOverloaded(reason: OverloadReason): string {
  if (reason === "event-loop-lag") return "event-loop lag";
  if (reason === "udp-receive-queue") return "requests wait in the UDP receive queue";
  return `${reason} budget spent`;
}

/** Shutting down: a new request gets the stateless 503 (To tag: refusalTag); ACK is never answered (17.1.1.3). */
export function refuseWhileDraining(core: ServerCore, request: ParsedRequest, flow: Flow): void {
  if (request.method === "ACK") return;
  sendUnavailable(core, request, flow, refusalTag(request), "sipmock is shutting down", false);
}

/** A 503 with Retry-After outside any transaction. */
function sendUnavailable(
  core: ServerCore,
  request: ParsedRequest,
  flow: Flow,
  toTag: string,
  warning: string,
  retransmission: boolean,
): void {
  const options = core.options;
  const built = buildResponse(
    { method: request.method, headers: request.headers, hasToTag: !!request.core.to.tag },
    {
      status: 503,
      headers: [["Retry-After", String(options.overload?.retryAfterS ?? 5)]],
      warning,
    },
    {
      local: core.identityOfFlow(flow),
      capabilities: core.capabilities(),
      ...(options.server ? { server: options.server } : {}),
      toTag,
      realm: options.realm,
      nonce: () => "",
      opaque: core.opaque,
    },
  );
  options.wire.send(flow, built.bytes, retransmission);
}
