/**
 * Start lines (RFC 3261 7.1, 7.2, 25.1): Request-Line and Status-Line, read
 * by index (no regex or split for a well-formed one).
 */
import { SIP_METHODS } from "./methods.js";
import { isToken, sliceOrShared } from "./tokens.js";
import { parseUri, UriError } from "./uri.js";

/** The one SIP version this stack speaks (RFC 3261 7.1). */
export const SUPPORTED_VERSION = "SIP/2.0";

export type RequestLine = {
  kind: "request";
  method: string;
  uri: ReturnType<typeof parseUri>;
  uriRaw: string;
  version: string;
};
export type StatusLine = { kind: "response"; status: number; reason: string; version: string };
export type StartLine = RequestLine | StatusLine;

/** SIP-Version as the parser accepts it once upper-cased: ^SIP/[0-9]+\.[0-9]+$ */
function isSipVersion(v: string): boolean {
  if (!v.startsWith("SIP/")) return false;
  const dot = v.indexOf(".", 4);
  return dot > 4 && dot < v.length - 1 && digitsIn(v, 4, dot) && digitsIn(v, dot + 1, v.length);
}

function digitsIn(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version CRLF (RFC 3261 25.1):
 * exactly one SP between elements (RFC 4475 3.1.2.9, 3.1.2.10).
 * Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF.
 */
export function parseStartLine(line: string): StartLine | string {
  if (line === "") return "empty start line";
  if (startsWithSipSlash(line)) return parseStatusLine(line);
  const sp1 = line.indexOf(" ");
  const sp2 = sp1 < 0 ? -1 : line.indexOf(" ", sp1 + 1);
  if (sp1 < 1 || sp2 < sp1 + 2 || sp2 === line.length - 1 || line.indexOf(" ", sp2 + 1) >= 0) {
    return malformedRequestLine(line);
  }
  const method = sliceOrShared(line, 0, sp1, SIP_METHODS);
  const uriRaw = line.slice(sp1 + 1, sp2);
  const usual =
    line.length - sp2 - 1 === SUPPORTED_VERSION.length && line.startsWith(SUPPORTED_VERSION, sp2 + 1);
  const versionRaw = usual ? SUPPORTED_VERSION : line.slice(sp2 + 1);
  if (!isToken(method)) return `request method "${method.slice(0, 20)}" is not a token`;
  const version = usual ? SUPPORTED_VERSION : versionRaw.toUpperCase();
  if (!isSipVersion(version)) return `malformed SIP version "${versionRaw.slice(0, 20)}"`;
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

/** /^SIP\//i */
function startsWithSipSlash(line: string): boolean {
  return (
    line.length >= 4 &&
    (line.charCodeAt(0) | 0x20) === 0x73 &&
    (line.charCodeAt(1) | 0x20) === 0x69 &&
    (line.charCodeAt(2) | 0x20) === 0x70 &&
    line.charCodeAt(3) === 0x2f
  );
}

function parseStatusLine(line: string): StatusLine | string {
  const sp1 = line.indexOf(" ");
  if (sp1 < 0) return "malformed status line";
  const version =
    line.startsWith(SUPPORTED_VERSION) && sp1 === 7 ? SUPPORTED_VERSION : line.slice(0, sp1).toUpperCase();
  const sp2 = line.indexOf(" ", sp1 + 1);
  const codeEnd = sp2 < 0 ? line.length : sp2;
  // Status-Code = 3DIGIT (RFC 4475 3.1.2.19: overlarge codes are invalid).
  if (!isStatusCodeIn(line, sp1 + 1, codeEnd)) {
    return `invalid status code "${line.slice(sp1 + 1, codeEnd).slice(0, 20)}"`;
  }
  if (!isSipVersion(version)) return `malformed SIP version "${version.slice(0, 20)}"`;
  const status =
    (line.charCodeAt(sp1 + 1) - 0x30) * 100 +
    (line.charCodeAt(sp1 + 2) - 0x30) * 10 +
    (line.charCodeAt(sp1 + 3) - 0x30);
  return { kind: "response", status, reason: sp2 < 0 ? "" : line.slice(sp2 + 1), version };
}

/** line.slice(from, to) matches ^[1-6][0-9][0-9]$ (read in place). */
function isStatusCodeIn(line: string, from: number, to: number): boolean {
  const c = line.charCodeAt(from);
  return to - from === 3 && c >= 0x31 && c <= 0x36 && digitsIn(line, from + 1, to);
}

/** Why a request line that is not exactly three SP-separated elements is rejected. */
function malformedRequestLine(line: string): string {
  const parts = line.split(" ");
  if (parts.some((p) => p === "")) return "request line has extra whitespace between or after its elements";
  // RFC 4475 3.1.2.8: whitespace inside the Request-URI is not allowed (25.1).
  if (parts.length > 3 && /^SIP\/\d+\.\d+$/i.test(parts[parts.length - 1]!)) {
    return "Request-URI contains whitespace";
  }
  return "malformed request line: expected Method SP Request-URI SP SIP-Version";
}
