/**
 * URIs (RFC 3261 section 19.1 for sip/sips, RFC 3966 for tel, RFC 3986 for the
 * rest). Unknown schemes are kept as an absolute URI rather than rejected:
 * RFC 3261 section 8.2.2.1 has the UAS answer 416 for a Request-URI scheme it
 * does not understand, and proxies must pass other URIs through (RFC 4475 3.3.4).
 */
import { isJsSpace, isToken, NO_PARAMS } from "./tokens.js";

export interface SipUri {
  readonly scheme: "sip" | "sips";
  readonly user?: string;
  readonly password?: string;
  readonly host: string;
  readonly port?: number;
  /** uri-parameters, names lower-cased. */
  readonly params: ReadonlyMap<string, string | null>;
  /** ?headers, as name/value pairs in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly raw: string;
}

export interface TelUri {
  readonly scheme: "tel";
  readonly number: string;
  readonly params: ReadonlyMap<string, string | null>;
  readonly raw: string;
}

export interface AbsoluteUri {
  readonly scheme: string;
  readonly raw: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === "sip" || uri.scheme === "sips";
}

export function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === "tel";
}

export class UriError extends Error {}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 3.1). */
function isScheme(s: string): boolean {
  if (s.length === 0 || !isAlpha(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlpha(c) && !isDigit(c) && c !== 0x2b && c !== 0x2d && c !== 0x2e) return false;
  }
  return true;
}

function isAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Decodes %HH escapes; invalid escapes are left as they are (RFC 4475 3.1.1.5). */
export function percentDecode(s: string): string {
  if (!s.includes("%")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "%" && i + 2 < s.length + 0 && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += ch;
  }
  return out;
}

/** Whether `raw` is empty or has whitespace (as /\s/ means it), "<" or ">". */
function hasSpaceOrAngle(raw: string): boolean {
  if (raw === "") return true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c > 0x3e && c < 0x7f) continue; // letters and most punctuation, at once
    if (c === 0x3c || c === 0x3e || isJsSpace(c)) return true;
  }
  return false;
}

/** Parses any absolute URI; throws UriError with the reason when malformed. */
export function parseUri(raw: string): Uri {
  return uriOf(raw, true)!;
}

/** Throws what parseUri(raw) would throw, without building the URI (for values only validated). */
export function checkUri(raw: string): void {
  uriOf(raw, false);
}

/**
 * checkUri(text.slice(from, to)) when spacesIn(text, from, to) is NO_SPACE:
 * the whitespace check already done, the URI not copied unless it is refused.
 */
export function checkUriWithoutSpace(text: string, from: number, to: number): void {
  if (from === 0 && to === text.length) uriAfterSpaceCheck(text, false);
  else if (!sipUriPassesIn(text, from, to)) uriAfterSpaceCheck(text.slice(from, to), false);
}

/**
 * Whether text.slice(from, to) is a sip: or sips: URI (scheme in lower
 * case) that parseSipUri accepts, read in place. false for anything else,
 * which the caller then checks (and refuses, with the reason) on a copy.
 */
function sipUriPassesIn(text: string, from: number, to: number): boolean {
  let userFrom: number;
  if (to > from + 4 && text.startsWith("sip:", from)) userFrom = from + 4;
  else if (to > from + 5 && text.startsWith("sips:", from)) userFrom = from + 5;
  else return false;
  // parseSipUri's indexes, within [from, to).
  const at = text.lastIndexOf("@", to - 1);
  if (at === userFrom) return false;
  const hostStart = at >= userFrom ? at + 1 : userFrom;
  const q = text.indexOf("?", hostStart);
  const hostEnd = q >= 0 && q < to ? q : to;
  const semi = text.indexOf(";", hostStart);
  const hostportEnd = semi >= 0 && semi < hostEnd ? semi : hostEnd;
  try {
    hostIn(text, hostStart, hostportEnd, "", false);
    sipUriParams(text, hostportEnd + 1, hostEnd, false);
  } catch {
    return false;
  }
  return true;
}

/** spacesIn: no whitespace (as /\s/ means it), "<" or ">", and not empty. */
export const NO_SPACE = 0;
/** spacesIn: SP or HTAB (the first of these found before any other). */
export const SP_OR_TAB = 1;
/** spacesIn: empty, or other whitespace, "<" or ">" (but no SP or HTAB before it). */
export const OTHER_SPACE = 2;

/**
 * One scan of text.slice(from, to) for what hasSpaceOrAngle finds, telling
 * SP/HTAB (name-addr.ts refuses them with a reason of its own) from the rest.
 * SP_OR_TAB when there is an SP or HTAB anywhere.
 */
export function spacesIn(text: string, from: number, to: number): number {
  let found = from === to ? OTHER_SPACE : NO_SPACE;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x3e && c < 0x7f) continue;
    if (c === 0x20 || c === 0x09) return SP_OR_TAB;
    if (c === 0x3c || c === 0x3e || isJsSpace(c)) found = OTHER_SPACE;
  }
  return found;
}

/** parseUri when `build`, else only its checks (undefined). */
function uriOf(raw: string, build: boolean): Uri | undefined {
  if (hasSpaceOrAngle(raw)) throw new UriError(`invalid URI "${raw}": contains whitespace or <>`);
  return uriAfterSpaceCheck(raw, build);
}

/** uriOf once hasSpaceOrAngle(raw) is known false. */
function uriAfterSpaceCheck(raw: string, build: boolean): Uri | undefined {
  const colon = raw.indexOf(":");
  if (colon <= 0) throw new UriError(`invalid URI "${raw}": no scheme`);
  const scheme = schemeOf(raw, colon);
  if (scheme === "sip" || scheme === "sips") return parseSipUri(scheme, raw, colon + 1, build);
  if (!isScheme(scheme)) throw new UriError(`invalid URI scheme "${raw.slice(0, colon)}"`);
  if (scheme === "tel") return parseTelUri(raw.slice(colon + 1), raw);
  return build ? { scheme, raw } : undefined;
}

/** The lower-cased scheme, without a copy for the usual lower-case "sip" and "sips". */
function schemeOf(raw: string, colon: number): string {
  if (colon === 3 && raw.startsWith("sip")) return "sip";
  if (colon === 4 && raw.startsWith("sips")) return "sips";
  return raw.slice(0, colon).toLowerCase();
}

/** The sip/sips URI in raw.slice(from) (after "scheme:"); only checked, not built, unless `build`. */
function parseSipUri(scheme: "sip" | "sips", raw: string, from: number, build: boolean): SipUri | undefined {
  // userinfo ends at the last "@" before any ";" or "?" of the hostport
  // part; the user part itself may contain ";" (RFC 4475 3.1.1.9).
  const at = raw.lastIndexOf("@");
  const hostStart = at >= from ? at + 1 : from;
  const q = raw.indexOf("?", hostStart);
  const hostEnd = q >= 0 ? q : raw.length;
  const semi = raw.indexOf(";", hostStart);
  const hostportEnd = semi >= 0 && semi < hostEnd ? semi : hostEnd;

  const host = hostIn(raw, hostStart, hostportEnd, raw, build);
  const port = lastPort;
  if (at === from) throw new UriError(`invalid URI "${raw}": empty user part`);
  const params = sipUriParams(raw, hostportEnd + 1, hostEnd, build);
  if (!build) return undefined;
  const headers = q >= 0 ? sipUriHeaders(raw.slice(q + 1)) : NO_HEADERS;
  // One literal per shape, keys in the order they always had: the object is
  // allocated at its final size instead of growing when user or port is added.
  if (at <= from) {
    return port === undefined
      ? { scheme, host, params, headers, raw }
      : { scheme, host, params, headers, raw, port };
  }
  const pc = raw.indexOf(":", from);
  if (pc < 0 || pc > at) {
    const user = raw.slice(from, at);
    return port === undefined
      ? { scheme, host, params, headers, raw, user }
      : { scheme, host, params, headers, raw, user, port };
  }
  const uri: SipUri = {
    scheme,
    host,
    params,
    headers,
    raw,
    user: raw.slice(from, pc),
    password: raw.slice(pc + 1, at),
  };
  return port === undefined ? uri : Object.assign(uri, { port });
}

/**
 * Whether a URI has no parameter map of its own and no ?headers: a sip/sips
 * URI with the shared empty map (NO_PARAMS) and no headers, a tel URI with
 * NO_PARAMS, any other URI. (A retained request keeps such a URI as it is.)
 */
export function isLeanUri(uri: Uri): boolean {
  if (isSipUri(uri)) return uri.params === NO_PARAMS && uri.headers.length === 0;
  if (isTelUri(uri)) return uri.params === NO_PARAMS;
  return true;
}

/** isLeanUri(parseUri(text.slice(from, to))) for a URI checked valid, without building it. */
export function uriTextIsLean(text: string, from: number, to: number): boolean {
  const raw = text.slice(from, to);
  const colon = raw.indexOf(":");
  const scheme = schemeOf(raw, colon);
  if (scheme === "tel") return false; // parseTelUri gives every tel URI a map of its own
  if (scheme !== "sip" && scheme !== "sips") return true;
  // parseSipUri's indexes: the parameters are raw.slice(hostportEnd + 1, hostEnd), the headers after q.
  const at = raw.lastIndexOf("@");
  const hostStart = at > colon ? at + 1 : colon + 1;
  const q = raw.indexOf("?", hostStart);
  const hostEnd = q >= 0 ? q : raw.length;
  const semi = raw.indexOf(";", hostStart);
  if (q >= 0 && q + 1 < raw.length) return false;
  // sipUriParams adds an entry for every segment between ";" that is not empty.
  for (let i = semi >= 0 && semi < hostEnd ? semi : hostEnd; i < hostEnd; i++) {
    if (raw.charCodeAt(i) !== 0x3b) return false;
  }
  return true;
}

/**
 * uri-parameters in raw.slice(from, to), names lower-cased, the first of a
 * name kept; only checked (NO_PARAMS returned) unless `build`.
 */
function sipUriParams(
  raw: string,
  from: number,
  to: number,
  build: boolean,
): ReadonlyMap<string, string | null> {
  let params: Map<string, string | null> | undefined;
  for (let start = from; start < to; ) {
    let end = raw.indexOf(";", start);
    if (end < 0 || end > to) end = to;
    if (end > start) {
      let eq = start;
      while (eq < end && raw.charCodeAt(eq) !== 0x3d) eq++;
      const valued = eq < end;
      // The lower-cased name is empty exactly when the text is.
      if (eq === start) throw new UriError(`invalid URI "${raw}": empty parameter name`);
      if (build) {
        const name = raw.slice(start, valued ? eq : end).toLowerCase();
        params ??= new Map();
        if (!params.has(name)) params.set(name, valued ? raw.slice(eq + 1, end) : null);
      }
    }
    start = end + 1;
  }
  return params ?? NO_PARAMS;
}

/** The ?headers of a sip URI that has none, shared (frozen). */
const NO_HEADERS: ReadonlyArray<readonly [string, string]> = Object.freeze([]);

function sipUriHeaders(headersPart: string): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (headersPart === "") return headers;
  for (const h of headersPart.split("&")) {
    const eq = h.indexOf("=");
    headers.push(eq < 0 ? [h, ""] : [h.slice(0, eq), h.slice(eq + 1)]);
  }
  return headers;
}

export function parseHostPort(hostport: string, context: string): { host: string; port?: number } {
  const host = hostIn(hostport, 0, hostport.length, context);
  return lastPort === undefined ? { host } : { host, port: lastPort };
}

/** The port hostIn() read last (undefined: none); read right after the call, nothing runs in between. */
let lastPort: number | undefined;

/** The port of the hostport hostIn() read last (undefined: none). */
export function portOfLastHost(): number | undefined {
  return lastPort;
}

/**
 * parseHostPort(text.slice(from, to)) without its result object or the
 * hostport's copy: returns the host and leaves the port in lastPort. Unless
 * `build`, the host is only checked (read in place) and "" returned.
 */
export function hostIn(text: string, from: number, to: number, context: string, build = true): string {
  let hostEnd: number;
  let portFrom = -1;
  if (text.charCodeAt(from) === 0x5b && from < to) {
    const close = text.indexOf("]", from);
    if (close < 0 || close >= to) {
      throw new UriError(`invalid host in "${context}": unterminated IPv6 reference`);
    }
    hostEnd = close + 1;
    if (close + 1 < to) {
      if (text.charCodeAt(close + 1) !== 0x3a) throw new UriError(`invalid host in "${context}"`);
      portFrom = close + 2;
    }
    if (!isIpv6ReferenceIn(text, from, hostEnd)) {
      throw new UriError(`invalid IPv6 reference ${text.slice(from, hostEnd)} in "${context}"`);
    }
  } else {
    const colon = text.indexOf(":", from);
    hostEnd = colon >= 0 && colon < to ? colon : to;
    if (hostEnd < to) portFrom = hostEnd + 1;
    if (!isHostnameIn(text, from, hostEnd)) {
      throw new UriError(`invalid host "${text.slice(from, hostEnd)}" in "${context}"`);
    }
  }
  lastPort = portFrom < 0 ? undefined : portIn(text, portFrom, to, context);
  return build ? text.slice(from, hostEnd) : "";
}

/** text.slice(from, to) matches ^\[[0-9A-Fa-f:.]+\]$ */
function isIpv6ReferenceIn(text: string, from: number, to: number): boolean {
  if (to - from < 3 || text.charCodeAt(to - 1) !== 0x5d) return false;
  for (let i = from + 1; i < to - 1; i++) {
    const c = text.charCodeAt(i);
    const hex = isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
    if (!hex && c !== 0x3a && c !== 0x2e) return false;
  }
  return true;
}

/** text.slice(from, to) matches ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9.])?$ */
function isHostnameIn(text: string, from: number, to: number): boolean {
  if (to === from) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (isAlpha(c) || isDigit(c)) continue;
    if (i === from || (c !== 0x2e && (c !== 0x2d || i === to - 1))) return false;
  }
  return true;
}

/** port = 1*5DIGIT, at most 65535, in text.slice(from, to). */
function portIn(text: string, from: number, to: number, context: string): number {
  const n = to - from;
  let port = 0;
  for (let i = from; i < to && n <= 5; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) {
      port = -1;
      break;
    }
    port = port * 10 + (c - 0x30);
  }
  if (n < 1 || n > 5 || port < 0 || port > 65535) {
    throw new UriError(`invalid port "${text.slice(from, to)}" in "${context}"`);
  }
  return port;
}

function parseTelUri(rest: string, raw: string): TelUri {
  const semi = rest.indexOf(";");
  const number = semi >= 0 ? rest.slice(0, semi) : rest;
  if (number === "") throw new UriError(`invalid tel URI "${raw}": no number`);
  const params = new Map<string, string | null>();
  if (semi >= 0) {
    for (const p of rest.slice(semi + 1).split(";")) {
      if (p === "") continue;
      const eq = p.indexOf("=");
      params.set((eq < 0 ? p : p.slice(0, eq)).toLowerCase(), eq < 0 ? null : p.slice(eq + 1));
    }
  }
  return { scheme: "tel", number, params, raw };
}

/** The user part of a sip/sips URI (decoded), or the number of a tel URI. */
export function uriUser(uri: Uri): string | undefined {
  if (isSipUri(uri)) return uri.user === undefined ? undefined : percentDecode(uri.user);
  if (isTelUri(uri)) return uri.number;
  return undefined;
}

export { isToken };
