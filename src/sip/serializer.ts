/**
 * Canonical bytes out: start line, one row per header field with its canonical
 * name, CRLF line ends, an empty line, the body (RFC 3261 section 7).
 * Content-Length is written by the caller (the response builder decides,
 * because a fault may ask for a wrong one).
 */
import { canonicalHeaderName } from "./header-names.js";
import { type HeaderField, Headers } from "./message.js";

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

/**
 * writtenHead(), read once: the Buffer no longer keeps the head (about 300
 * octets of objects) for as long as a transaction or the journal keeps the
 * Buffer; a later reader (a retransmission of it) parses the bytes instead.
 */
export function takeWrittenHead(bytes: Buffer): WrittenHead | undefined {
  const head = (bytes as Marked)[WRITTEN];
  if (head !== undefined) (bytes as Marked)[WRITTEN] = undefined;
  return head;
}

export function serialize(msg: OutgoingMessage, known?: KnownParses): Buffer {
  const h = msg.headers;
  const fields = h instanceof Headers ? h.rows() : Array.isArray(h) ? (h as readonly HeaderField[]) : [...h];
  return serializeFields(msg.startLine, fields, msg.body, known);
}

/**
 * serialize() of rows already in an array: the start line, each row as
 * "name: value" (the name as given), an empty line, the body, in one Buffer
 * of its own, written in place (no string of the whole head first).
 */
export function serializeFields(
  startLine: string,
  fields: readonly HeaderField[],
  body: Buffer,
  known?: KnownParses,
): Buffer {
  let length = startLine.length + 4 + body.length;
  for (let i = 0; i < fields.length; i++) length += fields[i]!.name.length + fields[i]!.value.length + 4;
  // One buffer for head and body (no concat of two), of its own: a small
  // Buffer from the pool is a slice of a shared 8 KiB slab, and the journal
  // and the transactions keep sent messages, which would keep whole slabs
  // (RTP packets come from the same pool) alive.
  const bytes = Buffer.allocUnsafeSlow(length);
  let at = endLine(bytes, put(bytes, startLine, 0));
  for (let i = 0; i < fields.length && at >= 0; i++) {
    const f = fields[i]!;
    at = put(bytes, f.name, at);
    bytes[at] = 0x3a; // ":"
    bytes[at + 1] = 0x20;
    at = putValue(bytes, f.value, at + 2);
    if (at >= 0) at = endLine(bytes, at);
  }
  // A header value never ends the line early (RFC 3261 7.3.1, 25.1): values
  // built from request parts (percent-decoded users) or scenario text could
  // otherwise inject header lines. Deliberately broken messages are made by
  // the fault layer after serialisation, not here.
  if (at < 0) return serializeFields(startLine, fields.map(withoutLineBreaks), body, known);
  at = endLine(bytes, at);
  if (body.length > 0) body.copy(bytes, at);
  mark(bytes, headOf(startLine, fields, known));
  return bytes;
}

/**
 * `text` at `at`, one octet per UTF-16 code unit, its low octet (what
 * Buffer.write does with "latin1"); the offset after it.
 */
function put(bytes: Buffer, text: string, at: number): number {
  for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * put() of a header value; -1 at a code unit whose octet would be CR, LF or
 * NUL (which must not reach the wire): "\n", but also U+010A, whose low
 * octet is written.
 */
function putValue(bytes: Buffer, text: string, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (breaksLine(c)) return -1;
    bytes[at + i] = c;
  }
  return at + text.length;
}

/** Whether the octet written for code unit c is CR, LF or NUL. */
function breaksLine(c: number): boolean {
  const o = c & 0xff;
  return o === 0x0d || o === 0x0a || o === 0;
}

function endLine(bytes: Buffer, at: number): number {
  bytes[at] = 0x0d;
  bytes[at + 1] = 0x0a;
  return at + 2;
}

/** The row with each run of line-breaking code units (breaksLine) made one space. */
function withoutLineBreaks(f: HeaderField): HeaderField {
  let value = "";
  let inRun = false;
  for (let i = 0; i < f.value.length; i++) {
    const c = f.value.charCodeAt(i);
    if (!breaksLine(c)) value += f.value[i];
    else if (!inRun) value += " ";
    inRun = breaksLine(c);
  }
  return { name: f.name, value };
}

/** The journal's record of what was written: the first row of each header it reads, trimmed. */
function headOf(
  startLine: string,
  fields: readonly HeaderField[],
  known: KnownParses | undefined,
): WrittenHead {
  let via: string | undefined;
  let from: string | undefined;
  let to: string | undefined;
  let callId: string | undefined;
  let cseq: string | undefined;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    switch (journaled(f.name)) {
      case VIA:
        via ??= f.value.trim();
        break;
      case FROM:
        from ??= f.value.trim();
        break;
      case TO:
        to ??= f.value.trim();
        break;
      case CALL_ID:
        callId ??= f.value.trim();
        break;
      case CSEQ:
        cseq ??= f.value.trim();
        break;
    }
  }
  return { startLine, via, from, to, callId, cseq, known };
}

const OTHER = 0;
const VIA = 1;
const FROM = 2;
const TO = 3;
const CALL_ID = 4;
const CSEQ = 5;

/** Which header the journal reads a row of `name` as (any spelling: compact, any case). */
function journaled(name: string): number {
  switch (name) {
    case "Via":
      return VIA;
    case "From":
      return FROM;
    case "To":
      return TO;
    case "Call-ID":
      return CALL_ID;
    case "CSeq":
      return CSEQ;
  }
  // Only names of these lengths can be another spelling of one of them (v, f, t, i; "via", "CALL-ID"...).
  const n = name.length;
  if (n !== 1 && n !== 2 && n !== 3 && n !== 4 && n !== 7) return OTHER;
  const canonical = canonicalHeaderName(name);
  return canonical === name ? OTHER : journaled(canonical);
}

/** Not enumerable: the Buffer still compares and inspects as its octets. */
const DESCRIPTOR: PropertyDescriptor = { value: undefined, writable: true, configurable: true };

function mark(bytes: Buffer, head: WrittenHead): void {
  DESCRIPTOR.value = head;
  Object.defineProperty(bytes, WRITTEN, DESCRIPTOR);
  DESCRIPTOR.value = undefined;
}

function isControlOctet(o: number): boolean {
  return o === 0x7f || (o < 0x20 && o !== 0x09);
}

/** reason-phrase allows neither quotes, angle brackets nor control characters (RFC 3261 25.1). */
export function sanitizeReasonPhrase(text: string): string {
  // A code unit beyond latin1 is written as its low octet: one that would be a control octet is replaced too.
  return text
    .replace(/["<>\\^`{|}\x00-\x08\x0a-\x1f\x7f]/g, "'")
    .replace(/[\u0100-\uffff]/g, (ch) => (isControlOctet(ch.charCodeAt(0) & 0xff) ? "'" : ch))
    .trim();
}
