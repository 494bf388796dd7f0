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
  trimEndIndex,
  trimmedSlice,
} from "../tokens.js";
import { parseHostPort, UriError } from "../uri.js";
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
  // sent-protocol: three tokens separated by "/" with optional whitespace.
  const slash1 = raw.indexOf("/");
  const slash2 = slash1 < 0 ? -1 : raw.indexOf("/", slash1 + 1);
  if (slash2 < 0) throw new HeaderParseError("Via", `malformed Via sent-protocol in "${raw}"`);
  const name = trimmedSlice(raw, 0, slash1);
  const version = trimmedSlice(raw, slash1 + 1, slash2);
  let i = slash2 + 1;
  while (i < raw.length && isSpTab(raw.charCodeAt(i))) i++;
  const transportStart = i;
  while (i < raw.length && !isSpTab(raw.charCodeAt(i))) i++;
  const transport = raw.slice(transportStart, i);
  if (!isToken(name) || !isToken(version) || !isToken(transport)) {
    throw new HeaderParseError("Via", `malformed Via sent-protocol in "${raw}"`);
  }
  const restStart = skipSpace(raw, i, raw.length);
  const restEnd = trimEndIndex(raw, restStart, raw.length);
  if (restStart === restEnd) throw new HeaderParseError("Via", `Via has no sent-by in "${raw}"`);
  const semi = raw.indexOf(";", restStart);
  const sentBy = sentByText(trimmedSlice(raw, restStart, semi < 0 ? restEnd : semi));
  let hp: { host: string; port?: number };
  try {
    hp = parseHostPort(sentBy, "Via");
  } catch (e) {
    throw new HeaderParseError("Via", e instanceof UriError ? e.message : `invalid Via sent-by "${sentBy}"`);
  }
  const params = semi < 0 ? NO_PARAMS : parseParamsIn(raw, semi + 1, restEnd);
  if (!params) throw new HeaderParseError("Via", `malformed Via parameters in "${raw}"`);
  const protocol = name === "SIP" && version === "2.0" ? "SIP/2.0" : `${name.toUpperCase()}/${version}`;
  const upper = isUpperCase(transport) ? transport : transport.toUpperCase();
  const { host, port } = hp;
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

/**
 * sent-by = host [ COLON port ]; LWS is allowed around the colon (25.1): the
 * text without it. Split at the colon by index: a regex here would backtrack
 * on long runs of spaces.
 */
function sentByText(rawSentBy: string): string {
  const colon = rawSentBy.startsWith("[")
    ? rawSentBy.indexOf(":", rawSentBy.indexOf("]"))
    : rawSentBy.lastIndexOf(":");
  if (colon < 0) return rawSentBy;
  const before = colon > 0 && isJsSpace(rawSentBy.charCodeAt(colon - 1));
  const after = colon + 1 < rawSentBy.length && isJsSpace(rawSentBy.charCodeAt(colon + 1));
  if (!before && !after) return rawSentBy;
  return `${rawSentBy.slice(0, colon).trimEnd()}:${rawSentBy.slice(colon + 1).trimStart()}`;
}

/** RFC 3261 section 8.1.1.7: branch IDs of RFC 3261 elements begin with this cookie. */
export const MAGIC_COOKIE = "z9hG4bK";
