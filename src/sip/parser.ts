/**
 * Bytes in, typed messages out (RFC 3261 section 7).
 *
 * Header text is decoded as latin1 so every octet maps to one character and
 * back: values copied into responses (Via, From, To, Call-ID, CSeq, section
 * 8.2.6.2) are the received bytes exactly, UTF-8 display names included.
 *
 * Strict where RFC 3261 is strict (request line, mandatory and single-valued
 * headers, CSeq, Content-Length), tolerant where it says to be (compact names,
 * folding, case, leading CRLFs, bare LF, RFC 2543 Vias, unknown URI schemes).
 */

import { canonicalNameIn } from "./header-names.js";
import { HeaderParseError } from "./headers/errors.js";
import { checkNameAddr, readNameAddr } from "./headers/name-addr.js";
import { parseCallId, parseContentLength, parseCSeq, parseMaxForwards } from "./headers/scalars.js";
import { parseViaInto, parseViaParm } from "./headers/via.js";
import { type CoreHeaders, type HeaderField, Headers, type ParsedMessage, type Via } from "./message.js";
import { isRegisteredMethod } from "./methods.js";
import {
  parseStartLine,
  type RequestLine,
  type StartLine,
  type StatusLine,
  SUPPORTED_VERSION,
} from "./start-line.js";
import { isTokenChar, nextTopLevel, trimmedSlice } from "./tokens.js";

export { parseStartLine };

export interface ParseFailure {
  /** Status a UAS answers a request with: 400, or 505 for an unsupported version. */
  readonly status: number;
  /** What was wrong, for the reason phrase and the Warning header. */
  readonly detail: string;
  /** Start line and headers, when they could be read, so a response can be built. */
  readonly partial?: PartialMessage;
}

export interface PartialMessage {
  readonly kind: "request" | "response";
  readonly method?: string;
  readonly headers: Headers;
}

export type ParseResult = { ok: true; message: ParsedMessage } | { ok: false; error: ParseFailure };

/** Where the head (start line + headers) ends and the body starts. */
export interface HeadBoundary {
  readonly headEnd: number;
  readonly bodyStart: number;
}

/** Finds the empty line that ends the head: CRLF CRLF, or bare LF LF (tolerated). */
export function findHeadBoundary(buf: Buffer, from = 0): HeadBoundary | undefined {
  for (let i = buf.indexOf(0x0a, Math.max(0, from)); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    const headEnd = i > from && buf[i - 1] === 0x0d ? i - 1 : i;
    if (buf[i + 1] === 0x0a) return { headEnd, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headEnd, bodyStart: i + 3 };
  }
  return undefined;
}

/** Offset of the first octet that is not CR or LF (RFC 3261 7.5: CRLFs before the start-line are ignored). */
export function skipLeadingCrlf(buf: Buffer, from = 0): number {
  let i = from;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

/**
 * One message per datagram (RFC 3261 18.3): the body is Content-Length octets
 * when the header is present (octets after it are discarded, RFC 4475
 * 3.1.1.8), or the rest of the datagram when it is absent.
 */
export function parseDatagram(data: Buffer, maxMessageSize = Number.POSITIVE_INFINITY): ParseResult {
  const start = skipLeadingCrlf(data);
  const headEnd = headEndIn(data, start);
  const head = data.toString("latin1", start, headEnd < 0 ? data.length : headEnd);
  const bodyStart = headEnd < 0 ? data.length : bodyStartAfter(data, headEnd);
  return parseHead(head, undefined, data, bodyStart, maxMessageSize);
}

/**
 * findHeadBoundary without its result object: the headEnd, or -1 when there
 * is no empty line (the body starts at bodyStartAfter(buf, headEnd)).
 */
export function headEndIn(buf: Buffer, from: number): number {
  for (let i = buf.indexOf(0x0a, from); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a || (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a)) {
      return i > from && buf[i - 1] === 0x0d ? i - 1 : i;
    }
  }
  return -1;
}

/** After headEndIn's headEnd: where the body starts (past the LF or CRLF of the line, and the empty line). */
export function bodyStartAfter(buf: Buffer, headEnd: number): number {
  const lf = buf[headEnd] === 0x0d ? headEnd + 1 : headEnd;
  return buf[lf + 1] === 0x0a ? lf + 2 : lf + 3;
}

/** A datagram's body once the head declared `declared` octets (RFC 3261 18.3), or the problem. */
function datagramBody(
  data: Buffer,
  bodyStart: number,
  maxMessageSize: number,
  declared: number | undefined,
): Buffer | BodyProblem {
  if (data.length > maxMessageSize) {
    return {
      status: 513,
      detail: `message of ${data.length} octets is larger than the ${maxMessageSize} accepted`,
    };
  }
  const available = data.length - bodyStart;
  if (declared === undefined) return available === 0 ? NO_BODY : data.subarray(bodyStart);
  if (declared > available) {
    return `Content-Length ${declared} is larger than the ${available} body octets received`;
  }
  return declared === 0 ? NO_BODY : data.subarray(bodyStart, bodyStart + declared);
}

/** The body of every datagram without one (an empty Buffer has nothing to share). */
const NO_BODY = Buffer.alloc(0);

/**
 * Parses a head (start line and header lines, without the blank line) and
 * takes the body from `body`, which gets the declared Content-Length and
 * returns the body or a problem description.
 */
export type BodyProblem = string | { readonly status: number; readonly detail: string };

export function parseMessage(
  head: string,
  body: (declaredLength: number | undefined) => Buffer | BodyProblem,
): ParseResult {
  return parseHead(head, body, undefined, 0, 0);
}

/** parseMessage with the body from `body`, or (without it) from a datagram: datagramBody(data, ...). */
function parseHead(
  head: string,
  body: ((declaredLength: number | undefined) => Buffer | BodyProblem) | undefined,
  data: Buffer | undefined,
  bodyStart: number,
  maxMessageSize: number,
): ParseResult {
  const nl = head.indexOf("\n");
  const startLine = nl < 0 ? head : head.slice(0, nl > 0 && head.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl);
  const fields = nl < 0 ? [] : readHeaderFields(head, nl + 1);
  const problem = nl < 0 ? undefined : lastProblem;
  const headers = Headers.adopt(fields);
  const start = parseStartLine(startLine);

  if (typeof start === "string") {
    // Without a start line we cannot tell a request from a response, but a
    // request method may still be readable for a best-effort 400.
    const method = /^([A-Za-z]+) /.exec(startLine)?.[1];
    return fail(
      400,
      start,
      method && !/^SIP$/i.test(method) ? { kind: "request", method, headers } : undefined,
    );
  }
  if (problem) return fail(400, problem, partialOf(start, headers));
  const core = parseCoreFields(fields, start.kind === "request");
  if (typeof core === "string") return fail(400, core, partialOf(start, headers));

  let declared: number | undefined;
  // The first Content-Length row, found with the others by parseCoreFields.
  const cl = at[CONTENT_LENGTH]! < 0 ? undefined : fields[at[CONTENT_LENGTH]!]!.value;
  if (cl !== undefined) {
    try {
      declared = parseContentLength(cl);
    } catch (e) {
      return fail(400, (e as Error).message, partialOf(start, headers));
    }
  }
  const b = body ? body(declared) : datagramBody(data!, bodyStart, maxMessageSize, declared);
  if (typeof b === "string") return fail(400, b, partialOf(start, headers));
  if (!Buffer.isBuffer(b)) return fail(b.status, b.detail, partialOf(start, headers));
  return start.kind === "request" ? request(start, headers, b, core) : response(start, headers, b, core);
}

function request(start: RequestLine, headers: Headers, body: Buffer, core: CoreHeaders): ParseResult {
  if (core.cseq.method !== start.method && isRegisteredMethod(start.method)) {
    // RFC 3261 8.1.1.5 / RFC 4475 3.1.2.17: "the method MUST match that of the request".
    // For a method we do not know, RFC 4475 3.1.2.18 prefers 501 (Not
    // Implemented) to 400, so the mismatch is left for the UAS to answer 501.
    return fail(
      400,
      `CSeq method ${core.cseq.method} does not match request method ${start.method}`,
      partialOf(start, headers),
    );
  }
  if (start.version !== SUPPORTED_VERSION) {
    // RFC 3261 21.5.7 / RFC 4475 3.1.2.16.
    return fail(505, `SIP version ${start.version} is not supported`, partialOf(start, headers));
  }
  const { method, uri, uriRaw, version } = start;
  return { ok: true, message: { kind: "request", method, uri, uriRaw, version, headers, body, core } };
}

function response(start: StatusLine, headers: Headers, body: Buffer, core: CoreHeaders): ParseResult {
  if (start.version !== SUPPORTED_VERSION)
    return fail(505, `SIP version ${start.version} is not supported`, partialOf(start, headers));
  const { status, reason, version } = start;
  return { ok: true, message: { kind: "response", status, reason, version, headers, body, core } };
}

function partialOf(start: StartLine, headers: Headers): PartialMessage {
  return start.kind === "request"
    ? { kind: "request", method: start.method, headers }
    : { kind: "response", headers };
}

/** Longest problem description: it becomes a reason phrase and a Warning, not a copy of the request. */
const MAX_DETAIL = 200;

function fail(status: number, fullDetail: string, partial?: PartialMessage): ParseResult {
  const detail = fullDetail.length > MAX_DETAIL ? `${fullDetail.slice(0, MAX_DETAIL)}...` : fullDetail;
  return { ok: false, error: partial ? { status, detail, partial } : { status, detail } };
}

/**
 * header = field-name HCOLON field-value; a line starting with SP or HTAB
 * continues the previous one and the fold becomes one SP (RFC 3261 7.3.1).
 * Lines end at LF, a CR before it dropped. Reads head.slice(from) into an
 * array of its own (canonical names, values unfolded and trimmed), leaving
 * the first problem, if any, in lastProblem, having read on so that a 400
 * can still echo the headers.
 */
function readHeaderFields(head: string, from: number): HeaderField[] {
  const fields: HeaderField[] = [];
  let problem: string | undefined;
  let name: string | undefined;
  let valueStart = 0;
  let valueEnd = 0;
  /** A folded value's lines so far, joined at the end (repeated concatenation would be quadratic). */
  let folded: string[] | undefined;
  for (let pos = from; pos <= head.length; ) {
    const nl = head.indexOf("\n", pos);
    const lineEnd = nl < 0 ? head.length : nl;
    const end = nl > pos && head.charCodeAt(nl - 1) === 0x0d ? nl - 1 : lineEnd;
    const first = head.charCodeAt(pos);
    if (end === pos) {
      // empty line: skipped
    } else if (first === 0x20 || first === 0x09) {
      if (name === undefined) problem ??= "header continuation line without a header";
      else folded = fold(folded ?? [head.slice(valueStart, valueEnd)], head, pos, end);
    } else {
      if (name !== undefined) fields.push(field(name, head, valueStart, valueEnd, folded));
      folded = undefined;
      const colon = fieldNameEnd(head, pos, end);
      if (colon >= 0) {
        name = canonicalNameIn(head, pos, colon);
        // Only SP and HTAB between the name and its colon (fieldNameEnd).
        valueStart = colon;
        while (head.charCodeAt(valueStart) !== 0x3a) valueStart++;
        valueStart++;
        valueEnd = end;
      } else {
        name = undefined;
        problem ??= malformedFieldLine(head.slice(pos, end));
      }
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  if (name !== undefined) fields.push(field(name, head, valueStart, valueEnd, folded));
  lastProblem = problem;
  return fields;
}

/** The problem readHeaderFields found last (read right after the call). */
let lastProblem: string | undefined;

/** A header row: the value is head.slice(valueStart, valueEnd) trimmed, or the folded lines joined by SP. */
function field(
  name: string,
  head: string,
  valueStart: number,
  valueEnd: number,
  folded: string[] | undefined,
): HeaderField {
  return { name, value: folded ? folded.join(" ").trim() : trimmedSlice(head, valueStart, valueEnd) };
}

/** Adds the continuation line head.slice(pos, end) to the value's lines (the fold becomes one SP). */
function fold(lines: string[], head: string, pos: number, end: number): string[] {
  const more = trimmedSlice(head, pos, end);
  if (more !== "") {
    lines[lines.length - 1] = lines[lines.length - 1]!.trimEnd();
    lines.push(more);
  }
  return lines;
}

/** With head.slice(pos, end) a line "token *(SP / HTAB) : ...": the end of the token; else -1. */
function fieldNameEnd(head: string, pos: number, end: number): number {
  let i = pos;
  while (i < end && isTokenChar(head.charCodeAt(i))) i++;
  const nameEnd = i;
  while (i < end && (head.charCodeAt(i) === 0x20 || head.charCodeAt(i) === 0x09)) i++;
  return nameEnd > pos && i < end && head.charCodeAt(i) === 0x3a ? nameEnd : -1;
}

/** The problem with a header line that is not field-name HCOLON. */
function malformedFieldLine(line: string): string {
  const colon = line.indexOf(":");
  if (colon < 0) return `malformed header line "${line.slice(0, 40)}" (no colon)`;
  return `malformed header name "${trimEndSpTab(line.slice(0, colon)).slice(0, 40)}"`;
}

/** Drops trailing SP and HTAB (a regex like /[ \t]+$/ backtracks quadratically on inner runs). */
function trimEndSpTab(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return s.slice(0, end);
}

/** RFC 3261 7.3.1: these may appear once only; with two of several, the first listed is named. */
const SINGLE_VALUED = ["From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"];

/** Index in SINGLE_VALUED, or -1. */
function singleValuedIndex(name: string): number {
  switch (name) {
    case "From":
      return 0;
    case "To":
      return 1;
    case "Call-ID":
      return 2;
    case "CSeq":
      return 3;
    case "Max-Forwards":
      return 4;
    case "Content-Length":
      return 5;
    case "Content-Type":
      return 6;
    default:
      return -1;
  }
}

/** Content-Length's index in SINGLE_VALUED (and `at`). */
const CONTENT_LENGTH = 5;

/** Where parseCoreFields' rows are: reused, filled by findCoreRows (no array per message). */
const at = new Int32Array(SINGLE_VALUED.length);

/**
 * One pass over the rows: the row of the first From, To, Call-ID, CSeq,
 * Max-Forwards, Content-Length and Content-Type into `at` (-1: none), and the
 * problem with a repeated single-valued one or a missing Via, if any.
 */
function findCoreRows(fields: readonly HeaderField[]): string | undefined {
  at.fill(-1);
  let repeated = -1;
  let hasVia = false;
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i]!.name;
    const k = singleValuedIndex(name);
    if (k >= 0) {
      if (at[k]! < 0) at[k] = i;
      else if (repeated < 0 || k < repeated) repeated = k;
    } else if (name === "Via") hasVia = true;
  }
  if (repeated >= 0) return `multiple ${SINGLE_VALUED[repeated]} header fields`;
  if (!hasVia) return "missing Via header field";
  return undefined;
}

/**
 * RFC 3261 8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via, and the
 * Contacts validated (a malformed one gets 400, RFC 4475 3.1.2.13). One pass
 * over the rows finds them and the repeated single-valued ones; the rows of
 * each are then parsed in a fixed order, so the first problem named does not
 * depend on the order of the header fields.
 */
function parseCoreFields(fields: readonly HeaderField[], isRequest: boolean): CoreHeaders | string {
  const problem = findCoreRows(fields);
  if (problem !== undefined) return problem;
  for (let k = 0; k < 4; k++) if (at[k]! < 0) return `missing ${SINGLE_VALUED[k]} header field`;
  const fromRow = at[0]!;
  const toRow = at[1]!;
  const callIdRow = at[2]!;
  const cseqRow = at[3]!;
  const maxForwardsRow = at[4]!;
  try {
    const via = parseVias(fields);
    const from = readNameAddr("From", fields[fromRow]!.value);
    const to = readNameAddr("To", fields[toRow]!.value);
    const callId = parseCallId(fields[callIdRow]!.value);
    const cseq = parseCSeq(fields[cseqRow]!.value);
    validateContacts(fields);
    if (!isRequest || maxForwardsRow < 0) return { via, from, to, callId, cseq };
    return { via, from, to, callId, cseq, maxForwards: parseMaxForwards(fields[maxForwardsRow]!.value) };
  } catch (e) {
    if (e instanceof HeaderParseError) return e.message;
    throw e;
  }
}

/** Every Via row's via-parms, in order (the usual single one in an array of its size). */
function parseVias(fields: readonly HeaderField[]): Via[] {
  let via: Via[] | undefined;
  for (const f of fields) {
    if (f.name !== "Via") continue;
    // (No comma at all: one via-parm, without looking for a top-level one.)
    if (via === undefined && isOneElement(f.value)) {
      const part = f.value;
      if (part === "") throw new HeaderParseError("Via", "empty Via value");
      via = [parseViaParm(part)];
    } else {
      via ??= [];
      parseViaInto(f.value, via);
    }
  }
  return via ?? [];
}

/** Whether a list header's row has no top-level comma (indexOf first: most rows have no comma at all). */
function isOneElement(row: string): boolean {
  return row.indexOf(",") < 0 || nextTopLevel(row, 0x2c, 0, row.length) >= row.length;
}

/** Each Contact value but "*" must parse as a name-addr or addr-spec; throws HeaderParseError. */
function validateContacts(fields: readonly HeaderField[]): void {
  for (const f of fields) {
    if (f.name !== "Contact") continue;
    const row = f.value;
    if (row.indexOf(",") < 0) {
      // One value: the row itself (rows are trimmed).
      if (row !== "" && row !== "*") checkNameAddr("Contact", row);
      continue;
    }
    for (let start = 0; ; ) {
      const end = nextTopLevel(row, 0x2c, start, row.length);
      const value = trimmedSlice(row, start, end);
      if (value !== "" && value !== "*") checkNameAddr("Contact", value);
      if (end >= row.length) break;
      start = end + 1;
    }
  }
}
