/**
 * URIs (RFC 3261 section 19.1 for sip/sips, RFC 3966 for tel, RFC 3986 for the
 * rest). Unknown schemes are kept as an absolute URI rather than rejected:
 * RFC 3261 section 8.2.2.1 has the UAS answer 416 for a Request-URI scheme it
 * does not understand, and proxies must pass other URIs through (RFC 4475 3.3.4).
 */
import { isToken } from "./tokens.js";

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

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;

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

/** Parses any absolute URI; throws UriError with the reason when malformed. */
export function parseUri(raw: string): Uri {
  if (raw === "" || /[\s<>]/.test(raw)) throw new UriError(`invalid URI "${raw}": contains whitespace or <>`);
  const colon = raw.indexOf(":");
  if (colon <= 0) throw new UriError(`invalid URI "${raw}": no scheme`);
  const scheme = raw.slice(0, colon).toLowerCase();
  if (!SCHEME_RE.test(scheme)) throw new UriError(`invalid URI scheme "${raw.slice(0, colon)}"`);
  const rest = raw.slice(colon + 1);
  if (scheme === "sip" || scheme === "sips") return parseSipUri(scheme, rest, raw);
  if (scheme === "tel") return parseTelUri(rest, raw);
  return { scheme, raw };
}

function parseSipUri(scheme: "sip" | "sips", rest: string, raw: string): SipUri {
  // userinfo ends at the last "@" before any ";" or "?" of the hostport
  // part; the user part itself may contain ";" (RFC 4475 3.1.1.9).
  let userinfo: string | undefined;
  let hostPart = rest;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
  }
  let headersPart = "";
  const q = hostPart.indexOf("?");
  if (q >= 0) {
    headersPart = hostPart.slice(q + 1);
    hostPart = hostPart.slice(0, q);
  }
  const semi = hostPart.indexOf(";");
  const hostport = semi >= 0 ? hostPart.slice(0, semi) : hostPart;
  const paramsPart = semi >= 0 ? hostPart.slice(semi + 1) : "";

  const { host, port } = parseHostPort(hostport, raw);
  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    if (userinfo === "") throw new UriError(`invalid URI "${raw}": empty user part`);
    const pc = userinfo.indexOf(":");
    user = pc >= 0 ? userinfo.slice(0, pc) : userinfo;
    if (pc >= 0) password = userinfo.slice(pc + 1);
  }
  const params = new Map<string, string | null>();
  if (paramsPart !== "") {
    for (const p of paramsPart.split(";")) {
      if (p === "") continue;
      const eq = p.indexOf("=");
      const name = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
      if (name === "") throw new UriError(`invalid URI "${raw}": empty parameter name`);
      if (!params.has(name)) params.set(name, eq < 0 ? null : p.slice(eq + 1));
    }
  }
  const headers: Array<[string, string]> = [];
  if (headersPart !== "") {
    for (const h of headersPart.split("&")) {
      const eq = h.indexOf("=");
      headers.push(eq < 0 ? [h, ""] : [h.slice(0, eq), h.slice(eq + 1)]);
    }
  }
  const uri: SipUri = { scheme, host, params, headers, raw };
  return Object.assign(
    uri,
    user !== undefined ? { user } : {},
    password !== undefined ? { password } : {},
    port !== undefined ? { port } : {},
  );
}

export function parseHostPort(hostport: string, context: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith("[")) {
    const close = hostport.indexOf("]");
    if (close < 0) throw new UriError(`invalid host in "${context}": unterminated IPv6 reference`);
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) throw new UriError(`invalid host in "${context}"`);
      portText = after.slice(1);
    }
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host))
      throw new UriError(`invalid IPv6 reference ${host} in "${context}"`);
  } else {
    const colon = hostport.indexOf(":");
    host = colon >= 0 ? hostport.slice(0, colon) : hostport;
    if (colon >= 0) portText = hostport.slice(colon + 1);
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9.])?$/.test(host)) {
      throw new UriError(`invalid host "${host}" in "${context}"`);
    }
  }
  if (portText === undefined) return { host };
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new UriError(`invalid port "${portText}" in "${context}"`);
  }
  return { host, port: Number(portText) };
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
