/**
 * Canonical bytes out: start line, one row per header field with its canonical
 * name, CRLF line ends, an empty line, the body (RFC 3261 section 7).
 * Content-Length is written by the caller (the response builder decides,
 * because a fault may ask for a wrong one).
 */
import type { HeaderField } from "./message.js";

export interface OutgoingMessage {
  readonly startLine: string;
  readonly headers: Iterable<HeaderField>;
  readonly body: Buffer;
}

export function serialize(msg: OutgoingMessage): Buffer {
  let head = `${msg.startLine}\r\n`;
  // A header value never ends the line early (RFC 3261 7.3.1, 25.1): values
  // built from request parts (percent-decoded users) or scenario text could
  // otherwise inject header lines. Deliberately broken messages are made by
  // the fault layer after serialisation, not here.
  for (const h of msg.headers) head += `${h.name}: ${h.value.replace(/[\r\n\0]+/g, " ")}\r\n`;
  head += "\r\n";
  const headBuf = Buffer.from(head, "latin1");
  return msg.body.length === 0 ? headBuf : Buffer.concat([headBuf, msg.body]);
}

/** reason-phrase allows neither quotes, angle brackets nor control characters (RFC 3261 25.1). */
export function sanitizeReasonPhrase(text: string): string {
  return text.replace(/["<>\\^`{|}\x00-\x08\x0a-\x1f\x7f]/g, "'").trim();
}
