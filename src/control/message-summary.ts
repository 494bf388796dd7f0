/** A one-line summary of a SIP message, for logs and events. */
import type { ParseResult } from "../sip/parser.js";

export interface MessageSummary {
  /** Method for requests, status code for responses, or "?" when unparsable. */
  readonly what: string;
  readonly callId?: string;
  readonly cseq?: string;
}

export function summarizeParse(result: ParseResult): MessageSummary {
  if (result.ok) {
    const m = result.message;
    const base = { callId: m.core.callId, cseq: `${m.core.cseq.seq} ${m.core.cseq.method}` };
    return m.kind === "request" ? { what: m.method, ...base } : { what: `${m.status} ${m.reason}`, ...base };
  }
  const p = result.error.partial;
  const callId = p?.headers.get("Call-ID");
  return { what: p?.method ?? "?", ...(callId ? { callId } : {}) };
}

/** Summary of bytes we wrote: the status line and Call-ID. */
export function summarizeOutgoing(bytes: Buffer): MessageSummary {
  const head = bytes.toString("latin1", 0, Math.min(bytes.length, 2048));
  const nl = head.indexOf("\r\n");
  const start = nl < 0 ? head : head.slice(0, nl);
  const what = start.startsWith("SIP/2.0 ") ? start.slice(8) : (start.split(" ")[0] ?? "?");
  const callId = /\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]*)/i.exec(head)?.[1];
  return { what, ...(callId ? { callId } : {}) };
}
