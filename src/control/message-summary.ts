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
 * values are the first field row as received (folding unfolded). `into`:
 * an object of the same shape to fill instead of a new one (the hot path's
 * scratch, copied by the journal at once).
 */
export function describeParsed(
  result: ParseResult,
  message: Buffer | string,
  into: Fields = blankFields(),
): MessageFields {
  if (result.ok) {
    const m = result.message;
    const { via, cseq, from, to } = m.core;
    if (m.kind === "response") setStart(into, "response", undefined, m.status, m.reason);
    else setStart(into, "request", m.method, undefined, undefined);
    const h = m.headers;
    return withHeaders(
      into,
      h.get("Call-ID"),
      h.get("CSeq"),
      h.get("From"),
      h.get("To"),
      via[0]?.branch,
      cseq.method,
      from.tag,
      to.tag,
    );
  }
  const text = typeof message === "string" ? message : message.toString("latin1");
  const headers = result.error.partial?.headers ?? headersAfterStartLine(text);
  startOf(into, text);
  const h = headers;
  return fromValues(into, h.get("Call-ID"), h.get("CSeq"), h.get("From"), h.get("To"), h.getAll("Via")[0]);
}

/**
 * The journal fields of a message the serializer wrote, from its start line
 * and first header rows as written: what describeMessage would read from
 * the bytes, without parsing them again.
 */
export function describeWritten(head: WrittenHead, into: Fields = blankFields()): MessageFields {
  const k = head.known;
  const f = into;
  startOf(f, head.startLine);
  if (
    !k ||
    !same(k.via, head.via) ||
    !same(k.from, head.from) ||
    !same(k.to, head.to) ||
    !same(k.cseq, head.cseq)
  ) {
    const via = head.via === undefined ? undefined : splitTopLevel(head.via, ",")[0];
    return fromValues(f, head.callId, head.cseq, head.from, head.to, via);
  }
  // The rows are the ones the writer had parsed (a response copying its request's): no parse again.
  return withHeaders(
    f,
    head.callId,
    head.cseq,
    head.from,
    head.to,
    k.via!.param,
    k.cseq!.param,
    k.from!.param,
    k.to!.param,
  );
}

/** Whether the writer's parse is of the value it wrote. */
function same(p: KnownParse | undefined, value: string | undefined): boolean {
  return p !== undefined && p.value === value;
}

/** The fields of a message read header by header (one the parser refused, or one we wrote). */
function fromValues(
  f: Fields,
  callId: string | undefined,
  cseq: string | undefined,
  from: string | undefined,
  to: string | undefined,
  via: string | undefined,
): MessageFields {
  return withHeaders(
    f,
    callId,
    cseq,
    from,
    to,
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

/**
 * Journal fields being filled: every key present (undefined when absent),
 * one object shape; read as MessageFields (an undefined key reads as absent).
 */
export interface Fields {
  kind: MessageFields["kind"];
  method: string | undefined;
  status: number | undefined;
  reason: string | undefined;
  callId: string | undefined;
  cseq: string | undefined;
  from: string | undefined;
  to: string | undefined;
  transaction: string | undefined;
  dialog: string | undefined;
}

/** Fields to fill: every key, in the order the journal's JSON has always had. */
export function blankFields(): Fields {
  return {
    kind: "unparsable",
    method: undefined,
    status: undefined,
    reason: undefined,
    callId: undefined,
    cseq: undefined,
    from: undefined,
    to: undefined,
    transaction: undefined,
    dialog: undefined,
  };
}

function setStart(
  f: Fields,
  kind: MessageFields["kind"],
  method: string | undefined,
  status: number | undefined,
  reason: string | undefined,
): void {
  f.kind = kind;
  f.method = method;
  f.status = status;
  f.reason = reason;
}

/** The headers' fields (absent when empty), the transaction key and the dialog, after the start line's. */
function withHeaders(
  f: Fields,
  callId: string | undefined,
  cseq: string | undefined,
  from: string | undefined,
  to: string | undefined,
  branch: string | undefined,
  cseqMethod: string | undefined,
  fromTag: string | undefined,
  toTag: string | undefined,
): MessageFields {
  f.callId = callId || undefined;
  f.cseq = cseq || undefined;
  f.from = from || undefined;
  f.to = to || undefined;
  f.transaction = branch && cseqMethod ? transactionKey(branch, cseqMethod) : undefined;
  f.dialog = callId && fromTag && toTag ? dialogKey(callId, fromTag, toTag) : undefined;
  return f as MessageFields;
}

/**
 * The last transaction key, dialog and status line reason made, for the
 * next message of the same transaction or dialog (a response right after
 * its request, the ACK after the final response): the same string again,
 * not a new one of the same text (fewer strings, and the journal's lookups
 * find it hashed).
 */
const last = {
  branch: "",
  method: "",
  key: "",
  callId: "",
  fromTag: "",
  toTag: "",
  dialog: "",
  line: "",
  reason: "",
};

/** RFC 3261 17.2.3: the ACK for a non-2xx response belongs to the INVITE transaction. */
function transactionKey(branch: string, cseqMethod: string): string {
  const method = cseqMethod === "ACK" ? "INVITE" : cseqMethod;
  if (branch !== last.branch || method !== last.method) {
    last.branch = branch;
    last.method = method;
    last.key = flat(`${branch}/${method}`);
  }
  return last.key;
}

/**
 * A key built by concatenation, as one string: V8 keeps `a + b` as a pair of
 * references (a "cons string") that a Map hashes and compares piece by
 * piece, and that keeps its pieces alive (the branch's slice of the whole
 * message text). Reading a character flattens it in place.
 */
function flat(s: string): string {
  // (compared, so that no compiler drops the read as unused; it is never -1)
  return s.charCodeAt(0) === -1 ? "" : s;
}

function dialogKey(callId: string, fromTag: string, toTag: string): string {
  if (callId !== last.callId || fromTag !== last.fromTag || toTag !== last.toTag) {
    last.callId = callId;
    last.fromTag = fromTag;
    last.toTag = toTag;
    last.dialog = flat(`${callId};${fromTag};${toTag}`);
  }
  return last.dialog;
}

/** The start line's fields (of a message the parser refused, or one we wrote), as far as it reads. */
function startOf(f: Fields, text: string): void {
  const nl = text.indexOf("\r\n");
  const line = nl < 0 ? text : text.slice(0, nl);
  const status = plainStatus(line);
  if (status > 0) {
    // What parseStartLine reads of it, without its slices and object (the same line: the same reason).
    if (line !== last.line) {
      last.line = line;
      last.reason = line.length === 11 ? "" : line.slice(12);
    }
    setStart(f, "response", undefined, status, last.reason);
    return;
  }
  const start = parseStartLine(line);
  if (typeof start !== "string" && start.kind === "response") {
    setStart(f, "response", undefined, start.status, start.reason);
    return;
  }
  const method = typeof start !== "string" ? start.method : requestLineMethod(line);
  if (method !== undefined) setStart(f, "request", method, undefined, undefined);
  else setStart(f, "unparsable", undefined, undefined, undefined);
}

/**
 * The status code of a status line as the mock writes them, "SIP/2.0 "
 * 3DIGIT (100-699) then SP or nothing; 0 for any other line (which
 * parseStartLine reads).
 */
function plainStatus(line: string): number {
  if ((line.length !== 11 && line.charCodeAt(11) !== 0x20) || !line.startsWith("SIP/2.0 ")) return 0;
  const a = line.charCodeAt(8) - 0x30;
  const b = line.charCodeAt(9) - 0x30;
  const c = line.charCodeAt(10) - 0x30;
  if (a < 1 || a > 6 || b < 0 || b > 9 || c < 0 || c > 9) return 0;
  return a * 100 + b * 10 + c;
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
