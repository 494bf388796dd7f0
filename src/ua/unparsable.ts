/**
 * The answer to a message the parser refused: a UAS behaviour, so it lives
 * with the UA; the transport layer above only sends the bytes and logs.
 *
 * RFC 3261 21.4.1 (400 Bad Request): "The request could not be understood
 * due to malformed syntax. The Reason-Phrase SHOULD identify the syntax
 * problem in more detail, for example, 'Missing Call-ID header field'."
 * RFC 4475 3.1.2 (invalid messages) expects that 400, 3.1.2.16 a 505 for an
 * unsupported SIP version (21.5.7), and a message over the size we accept
 * gets 513 (21.4.13). The problem is also given in a Warning (20.43, 399).
 */
import { randomBytes } from "node:crypto";
import type { ParseFailure } from "../sip/parser.js";
import type { Flow, ListenerInfo } from "../transport/types.js";
import { type Capabilities, localIdentity } from "./local-context.js";
import { buildResponse } from "./response-builder.js";

/** Who the mock is on the flow the message came in on (Contact, Warning, Server). */
export interface UnparsableContext {
  /** The listener the message arrived on (its address and port go in Contact). */
  readonly listener: ListenerInfo | undefined;
  /** --advertise: the address written in Contact instead of the listener's. */
  readonly advertise?: string;
  readonly capabilities: Capabilities;
  /** Server header value; undefined for none. */
  readonly server?: string;
  readonly realm: string;
}

/**
 * The 400, 505 or 513 for a request the parser could not read, or
 * undefined when nothing may be answered:
 * - a response (invalid or not) is never answered (RFC 3261 17.1.3 has no
 *   reply to a response; RFC 4475 3.1.2 lists only requests to answer);
 * - a request without a Via: an answer could not be routed back, and the
 *   client could not match it to its transaction (8.2.6.2, 17.1.3);
 * - an ACK: it is never answered (17.1.1.3, 17.2.1);
 * - bytes whose start line could not be read at all (garbage).
 */
export function answerUnparsable(
  failure: ParseFailure,
  flow: Flow,
  ctx: UnparsableContext,
): Buffer | undefined {
  const partial = failure.partial;
  if (partial?.kind !== "request" || partial.method === "ACK" || !partial.headers.has("Via"))
    return undefined;
  const { status, detail } = failure;
  const built = buildResponse(
    { ...(partial.method ? { method: partial.method } : {}), headers: partial.headers },
    // 21.4.1: the reason phrase identifies the syntax problem.
    { status, reason: status === 400 ? `Bad Request: ${detail}` : undefined, warning: detail },
    {
      local: localIdentity(flow, ctx.listener, undefined, ctx.advertise),
      capabilities: ctx.capabilities,
      ...(ctx.server ? { server: ctx.server } : {}),
      toTag: randomBytes(6).toString("hex"),
      realm: ctx.realm,
      nonce: () => randomBytes(16).toString("hex"),
      opaque: "",
    },
  );
  return built.bytes;
}
