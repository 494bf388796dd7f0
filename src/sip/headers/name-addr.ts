/**
 * From, To, Contact, Route, Record-Route values (RFC 3261 section 20, 25.1):
 *   ( name-addr / addr-spec ) *( SEMI param )
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 * When the URI is not in <>, any ";" starts a header parameter, and the URI
 * must not contain "," "?" or ";" of its own (section 20.10).
 */
import type { NameAddr } from "../message.js";
import {
  indexOfUnquoted,
  isToken,
  parseParams,
  quotedStringEnd,
  quotesBalanced,
  unquote,
} from "../tokens.js";
import { parseUri, UriError } from "../uri.js";
import { HeaderParseError } from "./errors.js";

export function parseNameAddr(header: string, raw: string): NameAddr {
  const value = raw.trim();
  if (value === "") throw new HeaderParseError(header, `empty ${header} header`);
  if (!quotesBalanced(value)) throw new HeaderParseError(header, `unterminated quoted string in ${header}`);

  let displayName: string | undefined;
  let uriText: string;
  let paramsText: string;
  const lt = indexOfUnquoted(value, "<");
  if (lt >= 0) {
    const gt = value.indexOf(">", lt);
    if (gt < 0) throw new HeaderParseError(header, `missing ">" in ${header}`);
    const dn = value.slice(0, lt).trim();
    if (dn !== "") {
      if (dn.startsWith('"')) {
        if (!dn.endsWith('"') || dn.length < 2) {
          throw new HeaderParseError(header, `malformed display name in ${header}`);
        }
        displayName = unquote(dn);
      } else {
        // *(token LWS): every word must be a token (RFC 4475 3.1.2.15).
        for (const word of dn.split(/[ \t]+/)) {
          if (!isToken(word)) {
            throw new HeaderParseError(header, `display name in ${header} must be a token or quoted string`);
          }
        }
        displayName = dn;
      }
    }
    uriText = value.slice(lt + 1, gt);
    paramsText = value.slice(gt + 1).trim();
    if (paramsText !== "" && !paramsText.startsWith(";")) {
      throw new HeaderParseError(header, `unexpected text after ">" in ${header}`);
    }
  } else {
    // addr-spec form: the URI ends at the first ";" (RFC 3261 20.10).
    const semi = value.indexOf(";");
    uriText = (semi < 0 ? value : value.slice(0, semi)).trim();
    paramsText = semi < 0 ? "" : value.slice(semi);
    if (/[?,]/.test(uriText)) {
      throw new HeaderParseError(header, `URI with "?" or "," in ${header} must be enclosed in <>`);
    }
  }
  if (/[ \t]/.test(uriText)) throw new HeaderParseError(header, `whitespace inside the URI of ${header}`);
  let uri: NameAddr["uri"];
  try {
    uri = parseUri(uriText);
  } catch (e) {
    throw new HeaderParseError(header, `${header}: ${e instanceof UriError ? e.message : "invalid URI"}`);
  }
  const params = parseParams(paramsText.replace(/^;/, ""));
  if (!params) throw new HeaderParseError(header, `malformed parameters in ${header}`);
  const tag = params.get("tag");
  const na: NameAddr = { uri, params, raw: value };
  return Object.assign(na, displayName !== undefined ? { displayName } : {}, tag ? { tag } : {});
}

/**
 * Whether a To/From value that may not parse carries a non-empty tag
 * parameter: a ";tag=" outside <...> and quoted strings (an unterminated
 * one hides the rest). One pass, whatever the input.
 */
export function rawHasTag(value: string): boolean {
  let inAngle = false;
  const parts: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (inAngle) {
      if (c === ">") inAngle = false;
    } else if (c === '"') {
      i = quotedStringEnd(value, i);
      if (i < 0) break;
    } else if (c === "<") inAngle = true;
    else parts.push(c);
  }
  for (const param of parts.join("").split(";").slice(1)) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "tag") continue;
    if (param.slice(eq + 1).trim() !== "") return true;
  }
  return false;
}
