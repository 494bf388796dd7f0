/**
 * Via (RFC 3261 section 20.42, grammar in 25.1):
 *   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 * SLASH is SWS "/" SWS, so "SIP / 2.0 / UDP" is legal (RFC 4475 3.1.1.1).
 */
import type { Via } from "../message.js";
import { isToken, nextTopLevel, parseParams, trimmedSlice } from "../tokens.js";
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
  const name = raw.slice(0, slash1).trim();
  const version = raw.slice(slash1 + 1, slash2).trim();
  const afterProto = raw.slice(slash2 + 1).replace(/^[ \t]+/, "");
  let i = 0;
  while (i < afterProto.length && afterProto[i] !== " " && afterProto[i] !== "\t") i++;
  const transport = afterProto.slice(0, i);
  if (!isToken(name) || !isToken(version) || !isToken(transport)) {
    throw new HeaderParseError("Via", `malformed Via sent-protocol in "${raw}"`);
  }
  const rest = afterProto.slice(i).trim();
  if (rest === "") throw new HeaderParseError("Via", `Via has no sent-by in "${raw}"`);
  const semi = rest.indexOf(";");
  // sent-by = host [ COLON port ]; LWS is allowed around the colon (25.1).
  // Split at the colon by index: a regex here would backtrack on long runs of spaces.
  const rawSentBy = (semi < 0 ? rest : rest.slice(0, semi)).trim();
  const colon = rawSentBy.startsWith("[")
    ? rawSentBy.indexOf(":", rawSentBy.indexOf("]"))
    : rawSentBy.lastIndexOf(":");
  const sentBy =
    colon < 0
      ? rawSentBy
      : `${rawSentBy.slice(0, colon).trimEnd()}:${rawSentBy.slice(colon + 1).trimStart()}`;
  let hp: { host: string; port?: number };
  try {
    hp = parseHostPort(sentBy, "Via");
  } catch (e) {
    throw new HeaderParseError("Via", e instanceof UriError ? e.message : `invalid Via sent-by "${sentBy}"`);
  }
  const params = parseParams(semi < 0 ? "" : rest.slice(semi + 1));
  if (!params) throw new HeaderParseError("Via", `malformed Via parameters in "${raw}"`);
  const branch = params.get("branch");
  const via: Via = {
    protocol: `${name.toUpperCase()}/${version}`,
    transport: transport.toUpperCase(),
    host: hp.host,
    params,
    raw,
  };
  return Object.assign(via, hp.port !== undefined ? { port: hp.port } : {}, branch ? { branch } : {});
}

/** RFC 3261 section 8.1.1.7: branch IDs of RFC 3261 elements begin with this cookie. */
export const MAGIC_COOKIE = "z9hG4bK";
