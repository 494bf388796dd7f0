/** A one-line summary of a SIP message, for logs and events. */
import type { WireFault } from "../scenario/types.js";
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

/**
 * Summary of bytes we wrote, from their latin1 text: the status line (or
 * the method) and the Call-ID the journal entry already found.
 */
export function summarizeOutgoing(text: string, callId: string | undefined): MessageSummary {
  const nl = text.indexOf("\r\n");
  const start = nl < 0 ? text : text.slice(0, nl);
  const what = start.startsWith("SIP/2.0 ") ? start.slice(8) : (start.split(" ")[0] ?? "?");
  return { what, ...(callId ? { callId } : {}) };
}

/**
 * What a scenario's `fault:` did to a response, for the log line that
 * labels it a fault (the TCP close is logged when it happens).
 */
export function faultLabels(fault: WireFault, status: number): string[] {
  const labels: string[] = [];
  if (fault.afterRetransmissions !== undefined)
    labels.push(`afterRetransmissions (answered after ${fault.afterRetransmissions} retransmissions)`);
  if (fault.garbage !== undefined)
    labels.push(`garbage (${fault.garbage} random octets instead of the ${status})`);
  if (fault.contentLength !== undefined)
    labels.push(`contentLength (Content-Length: ${fault.contentLength})`);
  if (fault.malformed !== undefined) labels.push(`malformed (the ${status}'s ${fault.malformed} broken)`);
  if (fault.truncate !== undefined)
    labels.push(`truncate (the ${status} cut after ${fault.truncate} octets)`);
  if (fault.duplicate) labels.push(`duplicate (the ${status} sent ${fault.duplicate} more time(s))`);
  if (fault.noRetransmit) labels.push(`noRetransmit (the ${status} never retransmitted)`);
  if (fault.fromOtherPort) labels.push(`fromOtherPort (the ${status} sent from another port)`);
  return labels;
}
