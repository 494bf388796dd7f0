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

import { canonicalHeaderName } from "./header-names.js";
import { HeaderParseError } from "./headers/errors.js";
import { parseNameAddr } from "./headers/name-addr.js";
import { parseCallId, parseContentLength, parseCSeq, parseMaxForwards } from "./headers/scalars.js";
import { parseViaValue } from "./headers/via.js";
import { type CoreHeaders, type HeaderField, Headers, type ParsedMessage, type Via } from "./message.js";
import { isRegisteredMethod } from "./methods.js";
import { isToken } from "./tokens.js";
import { parseUri, UriError } from "./uri.js";

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

const SINGLE_VALUED = ["From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"];
const SUPPORTED_VERSION = "SIP/2.0";

/** Finds the empty line that ends the head: CRLF CRLF, or bare LF LF (tolerated). */
export function findHeadBoundary(buf: Buffer, from = 0): HeadBoundary | undefined {
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
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
  const boundary = findHeadBoundary(data, start);
  const head = data.toString("latin1", start, boundary ? boundary.headEnd : data.length);
  const bodyStart = boundary ? boundary.bodyStart : data.length;
  return parseMessage(head, (declared) => {
    if (data.length > maxMessageSize) {
      return {
        status: 513,
        detail: `message of ${data.length} octets is larger than the ${maxMessageSize} accepted`,
      };
    }
    const available = data.length - bodyStart;
    if (declared === undefined) return data.subarray(bodyStart);
    if (declared > available) {
      return `Content-Length ${declared} is larger than the ${available} body octets received`;
    }
    return data.subarray(bodyStart, bodyStart + declared);
  });
}

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
  const lines = head.split(/\r?\n/);
  const startLine = lines[0] ?? "";
  const { headers, problem } = parseHeaderLines(lines);
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
  const partial: PartialMessage =
    start.kind === "request"
      ? { kind: "request", method: start.method, headers }
      : { kind: "response", headers };
  if (problem) return fail(400, problem, partial);

  for (const name of SINGLE_VALUED) {
    if (headers.getRows(name).length > 1) return fail(400, `multiple ${name} header fields`, partial);
  }
  const core = parseCoreHeaders(headers, start.kind === "request");
  if (typeof core === "string") return fail(400, core, partial);

  let declared: number | undefined;
  const cl = headers.get("Content-Length");
  if (cl !== undefined) {
    try {
      declared = parseContentLength(cl);
    } catch (e) {
      return fail(400, (e as Error).message, partial);
    }
  }
  const b = body(declared);
  if (typeof b === "string") return fail(400, b, partial);
  if (!Buffer.isBuffer(b)) return fail(b.status, b.detail, partial);

  if (start.kind === "request") {
    if (core.cseq.method !== start.method && isRegisteredMethod(start.method)) {
      // RFC 3261 8.1.1.5 / RFC 4475 3.1.2.17: "the method MUST match that of the request".
      // For a method we do not know, RFC 4475 3.1.2.18 prefers 501 (Not
      // Implemented) to 400, so the mismatch is left for the UAS to answer 501.
      return fail(
        400,
        `CSeq method ${core.cseq.method} does not match request method ${start.method}`,
        partial,
      );
    }
    if (start.version !== SUPPORTED_VERSION) {
      // RFC 3261 21.5.7 / RFC 4475 3.1.2.16.
      return fail(505, `SIP version ${start.version} is not supported`, partial);
    }
    const uri = start.uri;
    return {
      ok: true,
      message: {
        kind: "request",
        method: start.method,
        uri,
        uriRaw: start.uriRaw,
        version: start.version,
        headers,
        body: b,
        core,
      },
    };
  }
  if (start.version !== SUPPORTED_VERSION)
    return fail(505, `SIP version ${start.version} is not supported`, partial);
  return {
    ok: true,
    message: {
      kind: "response",
      status: start.status,
      reason: start.reason,
      version: start.version,
      headers,
      body: b,
      core,
    },
  };
}

/** Longest problem description: it becomes a reason phrase and a Warning, not a copy of the request. */
const MAX_DETAIL = 200;

function fail(status: number, fullDetail: string, partial?: PartialMessage): ParseResult {
  const detail = fullDetail.length > MAX_DETAIL ? `${fullDetail.slice(0, MAX_DETAIL)}...` : fullDetail;
  return { ok: false, error: partial ? { status, detail, partial } : { status, detail } };
}

type StartLine =
  | { kind: "request"; method: string; uri: ReturnType<typeof parseUri>; uriRaw: string; version: string }
  | { kind: "response"; status: number; reason: string; version: string };

/**
 * Request-Line = Method SP Request-URI SP SIP-Version CRLF (RFC 3261 25.1):
 * exactly one SP between elements (RFC 4475 3.1.2.9, 3.1.2.10).
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF.
 */
export function parseStartLine(line: string): StartLine | string {
  if (line === "") return "empty start line";
  if (/^SIP\//i.test(line)) {
    const sp1 = line.indexOf(" ");
    if (sp1 < 0) return "malformed status line";
    const version = line.slice(0, sp1).toUpperCase();
    const rest = line.slice(sp1 + 1);
    const sp2 = rest.indexOf(" ");
    const codeText = sp2 < 0 ? rest : rest.slice(0, sp2);
    // Status-Code = 3DIGIT (RFC 4475 3.1.2.19: overlarge codes are invalid).
    if (!/^[1-6][0-9][0-9]$/.test(codeText)) return `invalid status code "${codeText.slice(0, 20)}"`;
    if (!/^SIP\/[0-9]+\.[0-9]+$/.test(version)) return `malformed SIP version "${version.slice(0, 20)}"`;
    return {
      kind: "response",
      status: Number(codeText),
      reason: sp2 < 0 ? "" : rest.slice(sp2 + 1),
      version,
    };
  }
  const parts = line.split(" ");
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    if (parts.some((p) => p === "")) return "request line has extra whitespace between or after its elements";
    // RFC 4475 3.1.2.8: whitespace inside the Request-URI is not allowed (25.1).
    if (parts.length > 3 && /^SIP\/\d+\.\d+$/i.test(parts[parts.length - 1]!)) {
      return "Request-URI contains whitespace";
    }
    return "malformed request line: expected Method SP Request-URI SP SIP-Version";
  }
  const [method, uriRaw, versionRaw] = parts as [string, string, string];
  if (!isToken(method)) return `request method "${method.slice(0, 20)}" is not a token`;
  const version = versionRaw.toUpperCase();
  if (!/^SIP\/[0-9]+\.[0-9]+$/.test(version)) return `malformed SIP version "${versionRaw.slice(0, 20)}"`;
  if (uriRaw.startsWith("<")) return "Request-URI must not be enclosed in <>";
  let uri: ReturnType<typeof parseUri>;
  try {
    uri = parseUri(uriRaw);
  } catch (e) {
    return `malformed Request-URI: ${e instanceof UriError ? e.message : "invalid"}`;
  }
  // RFC 3261 19.1.1 (table 1): the headers component is not allowed in a
  // Request-URI; RFC 4475 3.1.2.11 finds rejecting it with 400 acceptable.
  if ((uri.scheme === "sip" || uri.scheme === "sips") && "headers" in uri && uri.headers.length > 0) {
    return "Request-URI must not contain headers (?name=value)";
  }
  return { kind: "request", method, uri, uriRaw, version };
}

/**
 * header = field-name HCOLON field-value; a line starting with SP or HTAB
 * continues the previous one and the fold becomes one SP (RFC 3261 7.3.1).
 */
function parseHeaderLines(lines: string[]): { headers: Headers; problem?: string } {
  const fields: HeaderField[] = [];
  let problem: string | undefined;
  let pendingName: string | undefined;
  /** The value's lines so far, joined at flush (repeated concatenation would be quadratic). */
  let pendingValue: string[] = [];
  const flush = () => {
    if (pendingName !== undefined)
      fields.push({ name: canonicalHeaderName(pendingName), value: pendingValue.join(" ").trim() });
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      if (pendingName === undefined) {
        problem ??= "header continuation line without a header";
        continue;
      }
      const more = line.trim();
      if (more !== "") {
        pendingValue[pendingValue.length - 1] = pendingValue[pendingValue.length - 1]!.trimEnd();
        pendingValue.push(more);
      }
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : trimEndSpTab(line.slice(0, colon));
    if (colon < 0 || !isToken(name)) {
      // Keep reading: the other headers still let us answer with a 400.
      problem ??=
        colon < 0
          ? `malformed header line "${line.slice(0, 40)}" (no colon)`
          : `malformed header name "${name.slice(0, 40)}"`;
      flush();
      pendingName = undefined;
      continue;
    }
    flush();
    pendingName = name;
    pendingValue = [line.slice(colon + 1)];
  }
  flush();
  return problem ? { headers: new Headers(fields), problem } : { headers: new Headers(fields) };
}

/** Drops trailing SP and HTAB (a regex like /[ \t]+$/ backtracks quadratically on inner runs). */
function trimEndSpTab(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  return s.slice(0, end);
}

/** RFC 3261 8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via. */
function parseCoreHeaders(headers: Headers, isRequest: boolean): CoreHeaders | string {
  for (const name of ["Via", "From", "To", "Call-ID", "CSeq"]) {
    if (!headers.has(name)) return `missing ${name} header field`;
  }
  try {
    const via: Via[] = [];
    for (const row of headers.getRows("Via")) via.push(...parseViaValue(row));
    const from = parseNameAddr("From", headers.get("From")!);
    const to = parseNameAddr("To", headers.get("To")!);
    const callId = parseCallId(headers.get("Call-ID")!);
    const cseq = parseCSeq(headers.get("CSeq")!);
    // Contact is validated here too: a malformed one must get 400 (RFC 4475 3.1.2.13).
    for (const value of headers.getAll("Contact")) if (value !== "*") parseNameAddr("Contact", value);
    const mf = headers.get("Max-Forwards");
    const core: CoreHeaders = { via, from, to, callId, cseq };
    if (isRequest && mf !== undefined) return { ...core, maxForwards: parseMaxForwards(mf) };
    return core;
  } catch (e) {
    if (e instanceof HeaderParseError) return e.message;
    throw e;
  }
}
