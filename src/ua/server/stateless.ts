/**
 * Answers outside any transaction (8.2.6, like a stateless UAS): the 503
 * with Retry-After of an overloaded or shutting-down mock, so it keeps no
 * transaction for a request it will not serve.
 */
import type { ParsedRequest } from "../../sip/message.js";
import { ITEM_OVERHEAD } from "../../transaction/budget.js";
import { statelessTag } from "../../transaction/transaction-layer.js";
import type { Flow } from "../../transport/types.js";
import { buildResponse } from "../response-builder.js";
import type { ServerCore } from "./core.js";

/** Issue 10 item 4: true when the overload detector refused the request (answered 503). */
export function refuseOverloaded(core: ServerCore, request: ParsedRequest, flow: Flow): boolean {
  const overload = core.options.overload;
  if (!overload) return false;
  const initial = !request.core.to.tag;
  const store =
    initial && request.method === "INVITE"
      ? "dialogs"
      : initial && request.method === "SUBSCRIBE"
        ? "subscriptions"
        : undefined;
  const cost = store ? ITEM_OVERHEAD[store] + request.body.length : 0;
  const reason = overload.check(store, cost);
  if (!reason) return false;
  sendUnavailable(
    core,
    request,
    flow,
    `overloaded (${reason === "event-loop-lag" ? "event-loop lag" : `${reason} budget spent`})`,
  );
  overload.refused(reason);
  return true;
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
