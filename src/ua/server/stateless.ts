/**
 * The 503s with Retry-After of an overloaded or shutting-down mock: outside
 * any transaction (8.2.6, like a stateless UAS) when there is no room for
 * one or the mock is shutting down; through the request's transaction for
 * the other overloads.
 */
import type { ParsedRequest } from "../../sip/message.js";
import { ITEM_OVERHEAD } from "../../transaction/budget.js";
import { isLoad, type OverloadReason } from "../../transaction/overload.js";
import { statelessTag } from "../../transaction/transaction-layer.js";
import type { Flow } from "../../transport/types.js";
import { buildResponse, type ResponseSpec } from "../response-builder.js";
import type { ServerCore } from "./core.js";

/**
 * Issue 10 item 4: true when there is no room for the request's transaction
 * (the transactions budget is spent): answered 503 statelessly, as nothing
 * can be kept for it.
 */
export function refuseOverloaded(core: ServerCore, request: ParsedRequest, flow: Flow): boolean {
  const overload = core.options.overload;
  if (!overload?.noRoomForTransaction()) return false;
  sendUnavailable(core, request, flow, `overloaded (${whyOverloaded("transactions")})`);
  overload.refused("transactions");
  return true;
}

/**
 * The 503 with Retry-After of a request refused for any other overload
 * (load, a full store), answered through its transaction: its
 * retransmissions get the same 503 from the transaction instead of being
 * taken as new, and accepted, once the load has fallen (a client that has
 * its 503 would never ACK that call's 200). Undefined: not refused.
 */
export function overloadAnswer(core: ServerCore, request: ParsedRequest): ResponseSpec | undefined {
  const overload = core.options.overload;
  if (!overload) return undefined;
  const initial = !request.core.to.tag;
  const store =
    initial && request.method === "INVITE"
      ? "dialogs"
      : initial && request.method === "SUBSCRIBE"
        ? "subscriptions"
        : undefined;
  const cost = store ? ITEM_OVERHEAD[store] + request.body.length : 0;
  const reason = overload.check(store, cost);
  if (!reason || (isLoad(reason) && !initial && inHeldDialog(core, request))) return undefined;
  overload.refused(reason);
  return {
    status: 503,
    headers: [["Retry-After", String(overload.retryAfterS)]],
    warning: `overloaded (${whyOverloaded(reason)})`,
  };
}

/**
 * A request within a call the mock holds (a BYE, a re-INVITE) is not refused
 * for load: a BYE ends the call and the media it sends, which a 503 would
 * leave running; new work is what an overloaded mock turns away. A To tag
 * alone does not make a request part of a call.
 */
function inHeldDialog(core: ServerCore, request: ParsedRequest): boolean {
  return core.dialogs.find(request.core.callId, request.core.to.tag, request.core.from.tag) !== undefined;
}

/** The Warning's words for an overload reason. */
function whyOverloaded(reason: OverloadReason): string {
  if (reason === "event-loop-lag") return "event-loop lag";
  if (reason === "udp-receive-queue") return "requests wait in the UDP receive queue";
  return `${reason} budget spent`;
}

/** Shutting down: a new request gets the stateless 503; ACK is never answered (17.1.1.3). */
export function refuseWhileDraining(core: ServerCore, request: ParsedRequest, flow: Flow): void {
  if (request.method === "ACK") return;
  sendUnavailable(core, request, flow, "sipmock is shutting down");
}

/** A 503 with Retry-After outside any transaction; the To tag per 8.2.7 (statelessTag). */
function sendUnavailable(core: ServerCore, request: ParsedRequest, flow: Flow, warning: string): void {
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
      toTag: request.core.to.tag || statelessTag(request),
      realm: options.realm,
      nonce: () => "",
      opaque: core.opaque,
    },
  );
  options.wire.send(flow, built.bytes);
}
