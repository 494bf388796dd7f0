/**
 * A SIP message summarised for logs and events (one line), and for the
 * journal (its fields), from what the SIP parser read: no second reader.
 */
import type { WireFault } from "../scenario/types.js";
import { parseNameAddr } from "../sip/headers/name-addr.js";
import { parseCSeq } from "../sip/headers/scalars.js";
import { parseViaValue } from "../sip/headers/via.js";
import { Headers } from "../sip/message.js";
import { type ParseResult, parseDatagram, parseMessage, parseStartLine } from "../sip/parser.js";
import { isToken } from "../sip/tokens.js";
import type { JournalEntry } from "./journal.js";

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

/** The fields of a journal entry read from a message (the rest say where and when it went). */
export type MessageFields = Pick<
  JournalEntry,
  "kind" | "method" | "status" | "reason" | "callId" | "cseq" | "from" | "to" | "transaction" | "dialog"
>;

/**
 * A message's journal fields from what the parser made of it: the parsed
 * message, or, for one it refused, the start line and the headers it could
 * still read (a broken message is journaled with what it says). Header
 * values are the first field row as received (folding unfolded).
 */
export function describeParsed(result: ParseResult, text: string): MessageFields {
  if (result.ok) {
    const m = result.message;
    const via = m.core.via[0];
    const common = commonFields(m.headers, via?.branch, m.core.cseq.method, m.core.from.tag, m.core.to.tag);
    return m.kind === "response"
      ? { kind: "response", status: m.status, reason: m.reason, ...common }
      : { kind: "request", method: m.method, ...common };
  }
  const headers = result.error.partial?.headers ?? headersAfterStartLine(text);
  const cseq = headers.get("CSeq");
  const common = commonFields(
    headers,
    attempt(() => parseViaValue(headers.getAll("Via")[0] ?? "")[0]?.branch),
    cseq ? attempt(() => parseCSeq(cseq).method) : undefined,
    attempt(() => parseNameAddr("From", headers.get("From") ?? "").tag),
    attempt(() => parseNameAddr("To", headers.get("To") ?? "").tag),
  );
  const nl = text.indexOf("\r\n");
  const startLine = nl < 0 ? text : text.slice(0, nl);
  const start = parseStartLine(startLine);
  if (typeof start !== "string" && start.kind === "response")
    return { kind: "response", status: start.status, reason: start.reason, ...common };
  const method = typeof start !== "string" ? start.method : requestLineMethod(startLine);
  return method !== undefined ? { kind: "request", method, ...common } : { kind: "unparsable", ...common };
}

/**
 * The journal fields of message bytes (those the mock sends), parsed once
 * with the SIP parser; `text`: the bytes as latin1, when already decoded.
 */
export function describeMessage(message: Buffer | string, text?: string): MessageFields {
  const bytes = typeof message === "string" ? Buffer.from(message, "latin1") : message;
  return describeParsed(parseDatagram(bytes), text ?? bytes.toString("latin1"));
}

function commonFields(
  headers: Headers,
  branch: string | undefined,
  cseqMethod: string | undefined,
  fromTag: string | undefined,
  toTag: string | undefined,
): Omit<MessageFields, "kind" | "method" | "status" | "reason"> {
  const callId = headers.get("Call-ID") || undefined;
  const cseq = headers.get("CSeq") || undefined;
  const from = headers.get("From") || undefined;
  const to = headers.get("To") || undefined;
  return {
    ...(callId ? { callId } : {}),
    ...(cseq ? { cseq } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    // RFC 3261 17.2.3: the ACK for a non-2xx response belongs to the INVITE transaction.
    ...(branch && cseqMethod
      ? { transaction: `${branch}/${cseqMethod === "ACK" ? "INVITE" : cseqMethod}` }
      : {}),
    ...(callId && fromTag && toTag ? { dialog: `${callId};${fromTag};${toTag}` } : {}),
  };
}

/** A value read from a header that may be broken; undefined when it is. */
function attempt<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * The headers of a message whose start line the parser refused (it keeps
 * none then): the same header reader, behind a placeholder start line.
 */
function headersAfterStartLine(text: string): Headers {
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const nl = head.indexOf("\r\n");
  if (nl < 0) return new Headers();
  const r = parseMessage(`SIP/2.0 100 -${head.slice(nl)}`, () => EMPTY);
  return r.ok ? r.message.headers : (r.error.partial?.headers ?? new Headers());
}

const EMPTY = Buffer.alloc(0);

/**
 * Method SP Request-URI SP SIP-Version with a Request-URI the parser refused:
 * still a request, journaled with its method.
 */
function requestLineMethod(line: string): string | undefined {
  const parts = line.split(" ");
  if (parts.length !== 3 || parts[1] === "") return undefined;
  const [method, , version] = parts as [string, string, string];
  const digit = (i: number) => version.charCodeAt(i) >= 0x30 && version.charCodeAt(i) <= 0x39;
  const isVersion =
    version.length === 7 && version.startsWith("SIP/") && digit(4) && version[5] === "." && digit(6);
  return isToken(method) && isVersion ? method : undefined;
}
