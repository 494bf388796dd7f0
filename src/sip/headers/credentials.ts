/**
 * Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate
 * (RFC 3261 section 25.1, RFC 7616 3.3, 3.4):
 *   credentials = ("Digest" LWS digest-response) / other-response
 *   challenge   = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
 *   auth-param  = auth-param-name EQUAL ( token / quoted-string )
 * Read leniently, as browsers and phones write them: the scheme is required;
 * the parameters are read up to the first one that is malformed. Parameter
 * names are lower-cased; quoted values unescaped.
 */
import { quotedStringEnd, unescapeQuotedPairs } from "../tokens.js";
import { HeaderParseError } from "./errors.js";

export interface AuthHeader {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

export function parseAuthHeader(header: string, value: string): AuthHeader {
  const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(.*)$/s.exec(value);
  if (!m) throw new HeaderParseError(header, `${header} has no auth scheme`);
  const params = new Map<string, string>();
  const rest = m[2]!;
  let i = 0;
  while (i < rest.length) {
    while (i < rest.length && /[\s,]/.test(rest[i]!)) i++;
    const nameStart = i;
    while (i < rest.length && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(rest[i]!)) i++;
    const name = rest.slice(nameStart, i).toLowerCase();
    while (i < rest.length && /\s/.test(rest[i]!)) i++;
    if (!name || rest[i] !== "=") break;
    i++;
    while (i < rest.length && /\s/.test(rest[i]!)) i++;
    let val: string;
    if (rest[i] === '"') {
      const close = quotedStringEnd(rest, i);
      const end = close < 0 ? rest.length : close;
      val = unescapeQuotedPairs(rest.slice(i + 1, end));
      i = end + 1;
    } else {
      const start = i;
      while (i < rest.length && rest[i] !== "," && !/\s/.test(rest[i]!)) i++;
      val = rest.slice(start, i);
    }
    params.set(name, val);
  }
  return { scheme: m[1]!, params };
}
