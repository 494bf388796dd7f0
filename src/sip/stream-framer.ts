/**
 * Message framing on stream transports (RFC 3261 section 18.3): the head ends
 * at the first empty line and the body is exactly Content-Length octets.
 * CRLFs between messages are skipped (section 7.5); a CRLFCRLF "ping" is
 * reported so the transport can answer the CRLF "pong" (RFC 5626 3.5.1).
 */
import { parseContentLength } from "./headers/scalars.js";
import { bodyStartAfter, headEndIn, type ParseResult, parseMessage } from "./parser.js";

export type Frame =
  | { readonly type: "message"; readonly result: ParseResult; readonly bytes: Buffer }
  | { readonly type: "ping" }
  /** The stream cannot be resynchronised; the connection should be answered (if possible) and closed. */
  | {
      readonly type: "fatal";
      readonly status: number;
      readonly detail: string;
      readonly result?: ParseResult;
    };

export interface StreamFramerOptions {
  /** Largest accepted message, head and body; above it the stream is fatal (513). */
  readonly maxMessageSize: number;
}

export class StreamFramer {
  /** Received octets not yet framed: storage[start, end). Grows by doubling, so appends are amortised O(1). */
  private storage: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private dead = false;
  /** How far the current head has been scanned for its end, so a slow sender costs O(n), not O(n^2). */
  private scanned = 0;

  constructor(private readonly options: StreamFramerOptions) {}

  /** Octets of a message not complete yet (0 between messages). */
  get buffered(): number {
    return this.end - this.start;
  }

  private get buffer(): Buffer {
    return this.storage.subarray(this.start, this.end);
  }

  /** Drops `n` framed octets from the front. */
  private consume(n: number): void {
    this.start += n;
    this.scanned = 0;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  private append(chunk: Buffer): void {
    const used = this.end - this.start;
    if (this.end + chunk.length > this.storage.length) {
      const next = Buffer.allocUnsafe(Math.max(used + chunk.length, this.storage.length * 2, 4096));
      this.storage.copy(next, 0, this.start, this.end);
      this.storage = next;
      this.start = 0;
      this.end = used;
    }
    chunk.copy(this.storage, this.end);
    this.end += chunk.length;
  }

  /** Feeds bytes; returns the frames now complete. */
  push(chunk: Buffer): Frame[] {
    if (this.dead) return [];
    this.append(chunk);
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.next();
      if (!frame) break;
      frames.push(frame);
      if (frame.type === "fatal") {
        this.dead = true;
        this.storage = Buffer.alloc(0);
        this.start = 0;
        this.end = 0;
        break;
      }
    }
    return frames;
  }

  private next(): Frame | undefined {
    if (this.end === this.start) return undefined; // (all framed: no view of nothing to make)
    const buffer = this.buffer;
    let i = 0;
    while (i < buffer.length && (buffer[i] === 0x0d || buffer[i] === 0x0a)) i++;
    if (i > 0) {
      // RFC 5626 3.5.1: CRLF CRLF is a keep-alive ping; lone CRLFs before a
      // start line are ignored (RFC 3261 7.5).
      const ping = buffer.subarray(0, i).includes("\r\n\r\n");
      if (ping || i === buffer.length) {
        this.consume(i);
        return ping ? { type: "ping" } : undefined;
      }
      this.consume(i);
      return this.next();
    }
    if (buffer.length === 0) return undefined;
    const headEnd = headEndIn(buffer, Math.max(0, this.scanned - 3));
    if (headEnd < 0) {
      this.scanned = buffer.length;
      if (buffer.length > this.options.maxMessageSize) {
        // The complete header lines received so far name the request and its
        // Via, so the 513 can be answered before the close (RFC 3261 21.5.6).
        const detail = `message head is larger than the ${this.options.maxMessageSize} octets the server accepts`;
        const head = buffer.toString("latin1", 0, Math.max(0, buffer.lastIndexOf("\r\n")));
        const parsed = parseMessage(head, () => ({ status: 513, detail }));
        const partial = parsed.ok ? undefined : parsed.error.partial;
        const result: ParseResult = {
          ok: false,
          error: { status: 513, detail, ...(partial ? { partial } : {}) },
        };
        return { type: "fatal", status: 513, detail, result };
      }
      return undefined;
    }
    const head = buffer.toString("latin1", 0, headEnd);
    const bodyStart = bodyStartAfter(buffer, headEnd);
    const declared = contentLengthOf(head);
    if (typeof declared === "string") {
      const result = parseMessage(head, () => declared);
      return { type: "fatal", status: 400, detail: declared, result };
    }
    // RFC 3261 18.3: on a stream, a missing Content-Length means no body
    // (the header "MUST be used with stream oriented transports").
    const length = declared ?? 0;
    const total = bodyStart + length;
    if (total > this.options.maxMessageSize) {
      const detail = `message of ${total} octets is larger than the ${this.options.maxMessageSize} the server accepts`;
      const result = parseMessage(head, () => ({ status: 513, detail }));
      return { type: "fatal", status: 513, detail, result };
    }
    if (buffer.length < total) return undefined;
    // A buffer of its own (not a slice of a pool slab: the journal keeps it),
    // the body a view of it (no second copy).
    const bytes = Buffer.allocUnsafeSlow(total);
    buffer.copy(bytes, 0, 0, total);
    const body = bytes.subarray(bodyStart, total);
    this.consume(total);
    return { type: "message", result: parseMessage(head, () => body), bytes };
  }
}

/**
 * Content-Length (or its compact form "l") from a raw head; undefined when
 * absent. A line is "content-length" or "l" (any case), SP/HTAB, ":" and a
 * value without CR (what /^(content-length|l)[ \t]*:(.*)$/i matched on each
 * line of head.split(/\r?\n/)), read in place.
 */
export function contentLengthOf(head: string): number | string | undefined {
  let value: string | undefined;
  for (let pos = 0; pos <= head.length; ) {
    const nl = head.indexOf("\n", pos);
    const lineEnd = nl < 0 ? head.length : nl > pos && head.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
    const valueStart = contentLengthValueStart(head, pos, lineEnd);
    if (valueStart >= 0) {
      if (value !== undefined) return "multiple Content-Length header fields";
      value = head.slice(valueStart, lineEnd);
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  if (value === undefined) return undefined;
  try {
    return parseContentLength(value);
  } catch (e) {
    return (e as Error).message;
  }
}

const CONTENT_LENGTH = "content-length";

/** With head.slice(from, to) a Content-Length line: where its value starts (after the colon); else -1. */
function contentLengthValueStart(head: string, from: number, to: number): number {
  let i = from;
  if (to - from >= CONTENT_LENGTH.length && isNameAt(head, from, CONTENT_LENGTH)) i += CONTENT_LENGTH.length;
  else if (from < to && (head.charCodeAt(from) | 0x20) === 0x6c) i++;
  else return -1;
  while (i < to && (head.charCodeAt(i) === 0x20 || head.charCodeAt(i) === 0x09)) i++;
  if (i >= to || head.charCodeAt(i) !== 0x3a) return -1;
  // "." matches no CR: a line with a CR of its own is not a header line here.
  for (let j = i + 1; j < to; j++) if (head.charCodeAt(j) === 0x0d) return -1;
  return i + 1;
}

/** Whether head has `lower` (lower-case letters and "-") at `at`, letters in any case. */
function isNameAt(head: string, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    const want = lower.charCodeAt(k);
    const c = head.charCodeAt(at + k);
    if (c !== want && (want === 0x2d || (c | 0x20) !== want)) return false;
  }
  return true;
}
