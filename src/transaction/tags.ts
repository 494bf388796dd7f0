/**
 * To tags the server side chooses: random ones for its transactions, and
 * the keyed hash a stateless answer gives (RFC 3261 8.2.7).
 */
import { createHmac, randomBytes } from "node:crypto";
import type { ParsedRequest } from "../sip/message.js";
import { randomHex } from "./random-pool.js";

/** RFC 3261 19.3: tags need at least 32 bits of randomness. */
export function newTag(): string {
  return randomHex(6);
}

/** Per process: a stateless tag cannot be predicted from outside. */
const STATELESS_SECRET = randomBytes(16);

/**
 * The To tag of a response sent without a transaction (the 503 of an
 * overload or shutdown refusal): RFC 3261 8.2.7 wants a stateless UAS to
 * give the same tag to the same request, so its retransmissions get it
 * too, remembered or not. A keyed hash of the Call-ID, the From tag and the
 * top Via branch.
 */
export function statelessTag(request: ParsedRequest): string {
  return createHmac("sha256", STATELESS_SECRET)
    .update(`${request.core.callId}\n${request.core.from.tag ?? ""}\n${request.core.via[0]?.branch ?? ""}`)
    .digest("hex")
    .slice(0, 12);
}
