/**
 * Byte-level faults on an outgoing response: what a scenario's `fault:` asks
 * to break, broken exactly that way. Pure functions over the serialized bytes.
 */
import type { WireFault } from "./ports.js";

const CRLF = "\r\n";

/** Applies contentLength, malformed, truncate and garbage, in that order. */
export function applyByteFaults(bytes: Buffer, fault: WireFault, random: () => number): Buffer {
  if (fault.garbage !== undefined) {
    const out = Buffer.alloc(fault.garbage);
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
    return out;
  }
  let out = bytes;
  if (fault.contentLength !== undefined) out = rewriteContentLength(out, fault.contentLength);
  if (fault.malformed === "start-line") out = breakStartLine(out);
  else if (fault.malformed === "header") out = breakHeader(out);
  if (fault.truncate !== undefined && fault.truncate < out.length) out = out.subarray(0, fault.truncate);
  return out;
}

function split(bytes: Buffer): { head: string; body: Buffer } {
  const end = bytes.indexOf("\r\n\r\n");
  if (end < 0) return { head: bytes.toString("latin1"), body: Buffer.alloc(0) };
  return { head: bytes.toString("latin1", 0, end), body: bytes.subarray(end + 4) };
}

function join(head: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${head}${CRLF}${CRLF}`, "latin1"), body]);
}

/** A Content-Length that lies (or none at all), the body left as it is. */
export function rewriteContentLength(bytes: Buffer, value: number | "missing"): Buffer {
  const { head, body } = split(bytes);
  const lines = head.split(CRLF).filter((l) => !/^(Content-Length|l)[ \t]*:/i.test(l));
  if (value !== "missing") lines.push(`Content-Length: ${value}`);
  return join(lines.join(CRLF), body);
}

/** "SIP/2.0 486 Busy Here" becomes "SIP/2.0486Busy Here": no SP between the elements. */
function breakStartLine(bytes: Buffer): Buffer {
  const { head, body } = split(bytes);
  const [start = "", ...rest] = head.split(CRLF);
  const broken = start.replace(/^(SIP\/2\.0) (\d{3}) /, "$1$2");
  return join([broken, ...rest].join(CRLF), body);
}

/** The CSeq header loses its colon, so the line is no header at all (RFC 3261 7.3.1). */
function breakHeader(bytes: Buffer): Buffer {
  const { head, body } = split(bytes);
  const lines = head
    .split(CRLF)
    .map((l) => (/^CSeq[ \t]*:/i.test(l) ? l.replace(/^CSeq[ \t]*:[ \t]*/i, "CSeq ") : l));
  return join(lines.join(CRLF), body);
}
