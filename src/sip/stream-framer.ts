/**
 * Message framing on stream transports (RFC 3261 section 18.3): the head ends
 * at the first empty line and the body is exactly Content-Length octets.
 * CRLFs between messages are skipped (section 7.5); a CRLFCRLF "ping" is
 * reported so the transport can answer the CRLF "pong" (RFC 5626 3.5.1).
 */
import { parseContentLength } from "./headers/scalars.js";
import { findHeadBoundary, type ParseResult, parseMessage } from "./parser.js";

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
  private buffer: Buffer = Buffer.alloc(0);
  private dead = false;

  constructor(private readonly options: StreamFramerOptions) {}

  /** Feeds bytes; returns the frames now complete. */
  push(chunk: Buffer): Frame[] {
    if (this.dead) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.next();
      if (!frame) break;
      frames.push(frame);
      if (frame.type === "fatal") {
        this.dead = true;
        this.buffer = Buffer.alloc(0);
        break;
      }
    }
    return frames;
  }

  private next(): Frame | undefined {
    let i = 0;
    while (i < this.buffer.length && (this.buffer[i] === 0x0d || this.buffer[i] === 0x0a)) i++;
    if (i > 0) {
      const ping = this.buffer.subarray(0, i).includes("\r\n\r\n");
      this.buffer = this.buffer.subarray(i);
      if (ping) return { type: "ping" };
    }
    if (this.buffer.length === 0) return undefined;
    const boundary = findHeadBoundary(this.buffer);
    if (!boundary) {
      if (this.buffer.length > this.options.maxMessageSize) {
        return { type: "fatal", status: 513, detail: "message head is larger than the server accepts" };
      }
      return undefined;
    }
    const head = this.buffer.toString("latin1", 0, boundary.headEnd);
    const declared = contentLengthOf(head);
    if (typeof declared === "string") {
      const result = parseMessage(head, () => declared);
      return { type: "fatal", status: 400, detail: declared, result };
    }
    // RFC 3261 18.3: on a stream, a missing Content-Length means no body
    // (the header "MUST be used with stream oriented transports").
    const length = declared ?? 0;
    const total = boundary.bodyStart + length;
    if (total > this.options.maxMessageSize) {
      const detail = `message of ${total} octets is larger than the ${this.options.maxMessageSize} the server accepts`;
      const result = parseMessage(head, () => ({ status: 513, detail }));
      return { type: "fatal", status: 513, detail, result };
    }
    if (this.buffer.length < total) return undefined;
    const bytes = this.buffer.subarray(0, total);
    const body = Buffer.from(this.buffer.subarray(boundary.bodyStart, total));
    this.buffer = this.buffer.subarray(total);
    return { type: "message", result: parseMessage(head, () => body), bytes: Buffer.from(bytes) };
  }
}

/** Content-Length (or its compact form "l") from a raw head; undefined when absent. */
function contentLengthOf(head: string): number | string | undefined {
  const values: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    const m = /^(content-length|l)[ \t]*:(.*)$/i.exec(line);
    if (m) values.push(m[2]!);
  }
  if (values.length === 0) return undefined;
  if (values.length > 1) return "multiple Content-Length header fields";
  try {
    return parseContentLength(values[0]!);
  } catch (e) {
    return (e as Error).message;
  }
}
