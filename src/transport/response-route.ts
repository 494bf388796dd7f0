/**
 * Where a response goes (RFC 3261 18.2.2, RFC 3581 4).
 * - Reliable transport: back on the connection the request came on; if it
 *   closed, a new connection to the source address and the sent-by port.
 * - UDP with "rport": to the source address and port of the request.
 * - UDP without it: to the source address ("received") and the sent-by
 *   port, or 5060 when there is none; unless `forceRport`, which answers
 *   every UDP request as if it carried rport (what NAT-friendly servers call
 *   force_rport).
 */
import type { Via } from "../sip/message.js";
import type { Flow } from "./types.js";

export function responseFlow(flow: Flow, topVia: Via | undefined, forceRport = false): Flow {
  if (!topVia || forceRport) return flow;
  if (flow.transport === "udp" && topVia.params.has("rport")) return flow;
  // RFC 7118 5: over WebSocket there is no other way back than the connection.
  if (flow.transport === "ws" || flow.transport === "wss") return flow;
  const port = topVia.port ?? 5060;
  if (port === flow.remote.port) return flow;
  return { ...flow, replyTo: { address: flow.remote.address, port } };
}
