/**
 * Canonical bytes out: start line, one row per header field with its canonical
 * name, CRLF line ends, an empty line, the body (RFC 3261 section 7).
 * Content-Length is written by the caller (the response builder decides,
 * because a fault may ask for a wrong one).
 */
import { canonicalHeaderName } from "./header-names.js";
import type { HeaderField } from "./message.js";

export interface OutgoingMessage {
  readonly startLine: string;
  readonly headers: Iterable<HeaderField>;
  readonly body: Buffer;
}

/**
 * The start line and the header values a journal reads (first rows, as
 * written) of a message this serializer made, kept by its bytes: the
 * journal describes what the mock sent without parsing it again. Bytes
 * changed after serialisation (faults) are new Buffers, not found here.
 */
export interface WrittenHead {
  readonly startLine: string;
  readonly via?: string;
  readonly from?: string;
  readonly to?: string;
  readonly callId?: string;
  readonly cseq?: string;
  /** What the writer already knew of those values from a parse (see KnownParses). */
  readonly known?: KnownParses;
}

/**
 * The parse a writer already has of a value it copies (a request's From,
 * its top Via row, its CSeq) or builds (To plus a tag): the value and the
 * one parameter the journal reads of it (tag, branch, CSeq method). Used
 * only while the value written is exactly `value`.
 */
export interface KnownParse {
  readonly value: string;
  readonly param: string | undefined;
}

export interface KnownParses {
  readonly via?: KnownParse;
  readonly from?: KnownParse;
  readonly to?: KnownParse;
  readonly cseq?: KnownParse;
}

/**
 * Where a Buffer keeps what serialize() wrote into it: a property of the
 * Buffer itself (a WeakMap entry cost about 1 µs per message to add, the
 * property a few ns), gone with the Buffer.
 */
const WRITTEN = Symbol("sipmock.writtenHead");
type Marked = Buffer & { [WRITTEN]?: WrittenHead };

/** What serialize() wrote into these bytes, when it made them. */
export function writtenHead(bytes: Buffer): WrittenHead | undefined {
  return (bytes as Marked)[WRITTEN];
}

export function serialize(msg: OutgoingMessage, known?: KnownParses): Buffer {
  let head = `${msg.startLine}\r\n`;
  const seen: { -readonly [K in keyof WrittenHead]: WrittenHead[K] } = { startLine: msg.startLine };
  for (const h of msg.headers) {
    // A header value never ends the line early (RFC 3261 7.3.1, 25.1): values
    // built from request parts (percent-decoded users) or scenario text could
    // otherwise inject header lines. Deliberately broken messages are made by
    // the fault layer after serialisation, not here.
    const value = hasLineBreak(h.value) ? h.value.replace(/[\r\n\0]+/g, " ") : h.value;
    head += `${h.name}: ${value}\r\n`;
    const key = JOURNALED.get(h.name) ?? JOURNALED.get(canonicalHeaderName(h.name));
    if (key !== undefined && seen[key] === undefined) seen[key] = value.trim();
  }
  head += "\r\n";
  // One buffer for head and body (no concat of two), of its own: a small
  // Buffer from the pool is a slice of a shared 8 KiB slab, and the journal
  // and the transactions keep sent messages, which would keep whole slabs
  // (RTP packets come from the same pool) alive.
  const bytes = Buffer.allocUnsafeSlow(head.length + msg.body.length);
  bytes.write(head, 0, "latin1");
  if (msg.body.length > 0) msg.body.copy(bytes, head.length);
  if (known) seen.known = known;
  // Not enumerable: the Buffer still compares and inspects as its octets.
  Object.defineProperty(bytes, WRITTEN, { value: seen, writable: true, configurable: true });
  return bytes;
}

const JOURNALED: ReadonlyMap<string, "via" | "from" | "to" | "callId" | "cseq"> = new Map([
  ["Via", "via"],
  ["From", "from"],
  ["To", "to"],
  ["Call-ID", "callId"],
  ["CSeq", "cseq"],
] as const);

/** CR, LF or NUL in a value (one pass, no regex on the common clean value). */
function hasLineBreak(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) return true;
  }
  return false;
}

/** reason-phrase allows neither quotes, angle brackets nor control characters (RFC 3261 25.1). */
export function sanitizeReasonPhrase(text: string): string {
  return text.replace(/["<>\\^`{|}\x00-\x08\x0a-\x1f\x7f]/g, "'").trim();
}
