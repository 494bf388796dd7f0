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
import type { KnownParse, WrittenHead } from "../sip/serializer.js";
import { isToken, splitTopLevel } from "../sip/tokens.js";
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
    const what = m.kind === "request" ? m.method : `${m.status} ${m.reason}`;
    return { what, callId: m.core.callId, cseq: `${m.core.cseq.seq} ${m.core.cseq.method}` };
  }
  const p = result.error.partial;
  const callId = p?.headers.get("Call-ID");
  return { what: p?.method ?? "?", ...(callId ? { callId } : {}) };
}

/**
 * Summary of bytes we wrote, from their journal fields: the status line (or
 * the method) and the Call-ID; bytes the parser refused (a fault) by their
 * first line's text.
 */
export function summarizeOutgoing(fields: MessageFields, bytes: Buffer): MessageSummary {
  const callId = fields.callId;
  let what: string;
  if (fields.kind === "response") what = `${fields.status} ${fields.reason}`;
  else if (fields.kind === "request") what = fields.method ?? "?";
  else {
    const text = bytes.toString("latin1", 0, Math.min(bytes.length, 512));
    const nl = text.indexOf("\r\n");
    const start = nl < 0 ? text : text.slice(0, nl);
    what = start.startsWith("SIP/2.0 ") ? start.slice(8) : (start.split(" ")[0] ?? "?");
  }
  return callId ? { what, callId } : { what };
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
export function describeParsed(result: ParseResult, message: Buffer | string): MessageFields {
  if (result.ok) {
    const m = result.message;
    const { via, cseq, from, to } = m.core;
    const start: Start =
      m.kind === "response"
        ? { kind: "response", status: m.status, reason: m.reason }
        : { kind: "request", method: m.method };
    return withHeaders(start, valuesOf(m.headers), via[0]?.branch, cseq.method, from.tag, to.tag);
  }
  const text = typeof message === "string" ? message : message.toString("latin1");
  const headers = result.error.partial?.headers ?? headersAfterStartLine(text);
  return fromValues(startOf(text), valuesOf(headers), headers.getAll("Via")[0]);
}

/**
 * The journal fields of a message the serializer wrote, from its start line
 * and first header rows as written: what describeMessage would read from
 * the bytes, without parsing them again.
 */
export function describeWritten(head: WrittenHead): MessageFields {
  const k = head.known;
  const same = (p: KnownParse | undefined, value: string | undefined) => p !== undefined && p.value === value;
  if (
    !k ||
    !same(k.via, head.via) ||
    !same(k.from, head.from) ||
    !same(k.to, head.to) ||
    !same(k.cseq, head.cseq)
  ) {
    const via = head.via === undefined ? undefined : splitTopLevel(head.via, ",")[0];
    return fromValues(startOf(head.startLine), head, via);
  }
  // The rows are the ones the writer had parsed (a response copying its request's): no parse again.
  return withHeaders(startOf(head.startLine), head, k.via!.param, k.cseq!.param, k.from!.param, k.to!.param);
}

/** The header values the journal keeps: first rows, as the parser read them. */
function valuesOf(headers: Headers): Omit<WrittenHead, "startLine" | "via"> {
  return {
    callId: headers.get("Call-ID"),
    cseq: headers.get("CSeq"),
    from: headers.get("From"),
    to: headers.get("To"),
  };
}

/** The fields of a message read header by header (one the parser refused, or one we wrote). */
function fromValues(
  start: Start,
  v: Omit<WrittenHead, "startLine" | "via">,
  via: string | undefined,
): MessageFields {
  const { cseq, from, to } = v;
  return withHeaders(
    start,
    v,
    attempt(() => parseViaValue(via ?? "")[0]?.branch),
    // A CSeq the parser refuses (number too large, not a number) still names its method (second word).
    cseq ? (attempt(() => parseCSeq(cseq).method) ?? cseq.trim().split(/\s+/)[1]) : undefined,
    attempt(() => parseNameAddr("From", from ?? "").tag),
    attempt(() => parseNameAddr("To", to ?? "").tag),
  );
}

/**
 * The journal fields of message bytes (those the mock sends), parsed once
 * with the SIP parser; `text`: the bytes as latin1, when already decoded.
 */
export function describeMessage(message: Buffer | string): MessageFields {
  const bytes = typeof message === "string" ? Buffer.from(message, "latin1") : message;
  return describeParsed(parseDatagram(bytes), bytes);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Start = Mutable<Pick<MessageFields, "kind" | "method" | "status" | "reason">>;

/**
 * The start line's fields, then the headers' (built in place, in the
 * order the journal's JSON has always had: a hot path, once per message).
 */
function withHeaders(
  start: Start,
  values: Omit<WrittenHead, "startLine" | "via">,
  branch: string | undefined,
  cseqMethod: string | undefined,
  fromTag: string | undefined,
  toTag: string | undefined,
): MessageFields {
  const f: Mutable<MessageFields> = start;
  const { callId, cseq, from, to } = values;
  if (callId) f.callId = callId;
  if (cseq) f.cseq = cseq;
  if (from) f.from = from;
  if (to) f.to = to;
  // RFC 3261 17.2.3: the ACK for a non-2xx response belongs to the INVITE transaction.
  if (branch && cseqMethod) f.transaction = `${branch}/${cseqMethod === "ACK" ? "INVITE" : cseqMethod}`;
  if (callId && fromTag && toTag) f.dialog = `${callId};${fromTag};${toTag}`;
  return f;
}

/** The start line of a message the parser refused, as far as it reads. */
function startOf(text: string): Start {
  const nl = text.indexOf("\r\n");
  const line = nl < 0 ? text : text.slice(0, nl);
  const start = parseStartLine(line);
  if (typeof start !== "string" && start.kind === "response")
    return { kind: "response", status: start.status, reason: start.reason };
  const method = typeof start !== "string" ? start.method : requestLineMethod(line);
  return method !== undefined ? { kind: "request", method } : { kind: "unparsable" };
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
