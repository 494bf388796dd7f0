/**
 * Via (RFC 3261 section 20.42, grammar in 25.1):
 *   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 * SLASH is SWS "/" SWS, so "SIP / 2.0 / UDP" is legal (RFC 4475 3.1.1.1).
 */
import type { Via } from "../message.js";
import {
  isJsSpace,
  isToken,
  NO_PARAMS,
  nextTopLevel,
  parseParamsIn,
  skipSpace,
  sliceOrShared,
  trimEndIndex,
  trimmedSlice,
} from "../tokens.js";
import { hostIn, portOfLastHost, UriError } from "../uri.js";
import { HeaderParseError } from "./errors.js";

export function parseViaValue(value: string): Via[] {
  const out: Via[] = [];
  parseViaInto(value, out);
  return out;
}

/** parseViaValue appending to `out`: the via-parms of one Via row, split on top-level commas. */
export function parseViaInto(value: string, out: Via[]): void {
  for (let start = 0; ; ) {
    const end = nextTopLevel(value, 0x2c, start, value.length);
    const part = trimmedSlice(value, start, end);
    if (part === "") throw new HeaderParseError("Via", "empty Via value");
    out.push(parseViaParm(part));
    if (end >= value.length) return;
    start = end + 1;
  }
}

export function parseViaParm(raw: string): Via {
  // sent-protocol: three tokens separated by "/" with optional whitespace;
  // the usual "SIP/2.0/" is read without copying its tokens.
  const usual = raw.startsWith("SIP/2.0/");
  const slash1 = usual ? 3 : raw.indexOf("/");
  const slash2 = usual ? 7 : slash1 < 0 ? -1 : raw.indexOf("/", slash1 + 1);
  if (slash2 < 0) throw new HeaderParseError("Via", `malformed Via sent-protocol in "${raw}"`);
  const name = usual ? "SIP" : trimmedSlice(raw, 0, slash1);
  const version = usual ? "2.0" : trimmedSlice(raw, slash1 + 1, slash2);
  let i = slash2 + 1;
  while (i < raw.length && isSpTab(raw.charCodeAt(i))) i++;
  const transportStart = i;
  while (i < raw.length && !isSpTab(raw.charCodeAt(i))) i++;
  const transport = sliceOrShared(raw, transportStart, i, TRANSPORTS);
  if (!isToken(name) || !isToken(version) || !isToken(transport)) {
    throw new HeaderParseError("Via", `malformed Via sent-protocol in "${raw}"`);
  }
  const restStart = skipSpace(raw, i, raw.length);
  const restEnd = trimEndIndex(raw, restStart, raw.length);
  if (restStart === restEnd) throw new HeaderParseError("Via", `Via has no sent-by in "${raw}"`);
  const semi = raw.indexOf(";", restStart);
  const host = sentByHost(raw, restStart, semi < 0 ? restEnd : semi);
  const port = portOfLastHost();
  const params = semi < 0 ? NO_PARAMS : parseParamsIn(raw, semi + 1, restEnd);
  if (!params) throw new HeaderParseError("Via", `malformed Via parameters in "${raw}"`);
  const protocol = name === "SIP" && version === "2.0" ? "SIP/2.0" : `${name.toUpperCase()}/${version}`;
  const upper = isUpperCase(transport) ? transport : transport.toUpperCase();
  const branch = params.get("branch") || undefined;
  // One literal per shape (keys in their usual order), allocated at its final size.
  if (port === undefined) {
    return branch === undefined
      ? { protocol, transport: upper, host, params, raw }
      : { protocol, transport: upper, host, params, raw, branch };
  }
  return branch === undefined
    ? { protocol, transport: upper, host, params, raw, port }
    : { protocol, transport: upper, host, params, raw, port, branch };
}

/** The transports a Via names, shared rather than copied from each message. */
const TRANSPORTS = ["UDP", "TCP", "TLS", "WS", "WSS", "SCTP"];

/**
 * The host of the sent-by in raw.slice(from, to) (its port left in
 * portOfLastHost()); throws HeaderParseError when it is not a hostport.
 */
function sentByHost(raw: string, from: number, to: number): string {
  const start = skipSpace(raw, from, to);
  const end = trimEndIndex(raw, start, to);
  const spaced = spaceAroundColon(raw, start, end);
  const text = spaced ? sentByText(raw.slice(start, end)) : raw;
  try {
    return spaced ? hostIn(text, 0, text.length, "Via") : hostIn(raw, start, end, "Via");
  } catch (e) {
    if (e instanceof UriError) throw new HeaderParseError("Via", e.message);
    throw new HeaderParseError("Via", `invalid Via sent-by "${spaced ? text : raw.slice(start, end)}"`);
  }
}

/** Whether an ASCII token has no lower-case letter (toUpperCase would copy it unchanged). */
function isUpperCase(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) return false;
  }
  return true;
}

function isSpTab(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** The sent-by's colon in raw.slice(from, to): after the "]" of an IPv6 reference, else the last one; -1: none. */
function sentByColon(rawSentBy: string, from: number, to: number): number {
  let colon: number;
  if (rawSentBy.charCodeAt(from) === 0x5b && from < to) {
    const close = rawSentBy.indexOf("]", from);
    colon = rawSentBy.indexOf(":", close < 0 || close >= to ? from : close);
  } else colon = to > from ? rawSentBy.lastIndexOf(":", to - 1) : -1;
  return colon >= from && colon < to ? colon : -1;
}

/** Whether the sent-by in raw.slice(from, to) has LWS around its colon. */
function spaceAroundColon(raw: string, from: number, to: number): boolean {
  const colon = sentByColon(raw, from, to);
  if (colon < 0) return false;
  return (
    (colon > from && isJsSpace(raw.charCodeAt(colon - 1))) ||
    (colon + 1 < to && isJsSpace(raw.charCodeAt(colon + 1)))
  );
}

/**
 * sent-by = host [ COLON port ]; LWS is allowed around the colon (25.1): the
 * text without it. Split at the colon by index: a regex here would backtrack
 * on long runs of spaces.
 */
function sentByText(rawSentBy: string): string {
  const colon = sentByColon(rawSentBy, 0, rawSentBy.length);
  if (colon < 0) return rawSentBy;
  return `${rawSentBy.slice(0, colon).trimEnd()}:${rawSentBy.slice(colon + 1).trimStart()}`;
}

/** RFC 3261 section 8.1.1.7: branch IDs of RFC 3261 elements begin with this cookie. */
export const MAGIC_COOKIE = "z9hG4bK";
