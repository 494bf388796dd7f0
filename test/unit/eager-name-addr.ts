/**
 * The From/To/Contact parser as it was before its URI and display name were
 * built lazily (src/sip/headers/name-addr.ts at 6862bef, everything built at
 * once but the parameter map): the reference the lazy parse is compared with.
 */
/*
 * From, To, Contact, Route, Record-Route values (RFC 3261 section 20, 25.1):
 *   ( name-addr / addr-spec ) *( SEMI param )
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 * When the URI is not in <>, any ";" starts a header parameter, and the URI
 * must not contain "," "?" or ";" of its own (section 20.10).
 */

import { HeaderParseError } from "../../src/sip/headers/errors.js";
import type { NameAddr } from "../../src/sip/message.js";
import {
  isJsSpace,
  isTokenChar,
  NO_PARAMS,
  nextTopLevel,
  parseParamsIn,
  quotedStringEnd,
  skipSpace,
  trimEndIndex,
  trimmedSlice,
  unquote,
} from "../../src/sip/tokens.js";
import { checkUri, parseUri, UriError } from "../../src/sip/uri.js";

export function eagerNameAddr(header: string, raw: string): NameAddr {
  return nameAddrOf(header, raw, true)!;
}

/**
 * Throws the HeaderParseError parseNameAddr(header, raw) would throw, without
 * building the value: for Contacts, validated on every request (RFC 4475
 * 3.1.2.13) but not kept.
 */
export function eagerCheckNameAddr(header: string, raw: string): void {
  nameAddrOf(header, raw, false);
}

/** parseNameAddr when `build`, else only its checks (undefined). */
function nameAddrOf(header: string, raw: string, build: boolean): NameAddr | undefined {
  const value = raw.trim();
  if (value === "") throw new HeaderParseError(header, `empty ${header} header`);
  const lt = firstUnquotedLt(value);
  if (lt === UNBALANCED) throw new HeaderParseError(header, `unterminated quoted string in ${header}`);

  let displayName: string | undefined;
  let uriText: string;
  /** Where the parameters start (after their first ";"), value.length when there are none. */
  let paramsFrom: number;
  if (lt >= 0) {
    const gt = value.indexOf(">", lt);
    if (gt < 0) throw new HeaderParseError(header, `missing ">" in ${header}`);
    displayName = displayNameBefore(header, value, lt, build);
    uriText = value.slice(lt + 1, gt);
    paramsFrom = skipSpace(value, gt + 1, value.length);
    if (paramsFrom < value.length) {
      if (value.charCodeAt(paramsFrom) !== 0x3b) {
        throw new HeaderParseError(header, `unexpected text after ">" in ${header}`);
      }
      paramsFrom++;
    }
  } else {
    // addr-spec form: the URI ends at the first ";" (RFC 3261 20.10).
    const semi = value.indexOf(";");
    uriText = semi < 0 ? value : trimmedSlice(value, 0, semi);
    paramsFrom = semi < 0 ? value.length : semi + 1;
    if (hasAny(uriText, 0x3f, 0x2c)) {
      throw new HeaderParseError(header, `URI with "?" or "," in ${header} must be enclosed in <>`);
    }
  }
  if (hasAny(uriText, 0x20, 0x09))
    throw new HeaderParseError(header, `whitespace inside the URI of ${header}`);
  let uri: NameAddr["uri"] | undefined;
  try {
    if (build) uri = parseUri(uriText);
    else checkUri(uriText);
  } catch (e) {
    throw new HeaderParseError(header, `${header}: ${e instanceof UriError ? e.message : "invalid URI"}`);
  }
  // Checked here, built on first read (the tag is all most requests need of them).
  if (!parseParamsIn(value, paramsFrom, value.length, false)) {
    throw new HeaderParseError(header, `malformed parameters in ${header}`);
  }
  if (uri === undefined) return undefined;
  return new ParsedNameAddr(uri, value, displayName, tagIn(value, paramsFrom), paramsFrom);
}

/**
 * A parsed name-addr: the URI, display name and tag read at once, the
 * header parameters (already checked) parsed into their map when first read.
 */
class ParsedNameAddr implements NameAddr {
  /** Where the parameters start in raw (after their ";"). */
  readonly #paramsFrom: number;
  #params: ReadonlyMap<string, string | null> | undefined;

  constructor(
    readonly uri: NameAddr["uri"],
    readonly raw: string,
    readonly displayName: string | undefined,
    readonly tag: string | undefined,
    paramsFrom: number,
  ) {
    this.#paramsFrom = paramsFrom;
  }

  get params(): ReadonlyMap<string, string | null> {
    this.#params ??= parseParamsIn(this.raw, this.#paramsFrom, this.raw.length)!;
    return this.#params;
  }

  /** Whether params is (or would be) the shared empty map, without building it: only ";" and spaces follow. */
  paramsEmpty(): boolean {
    if (this.#params !== undefined) return this.#params === NO_PARAMS;
    for (let i = this.#paramsFrom; i < this.raw.length; i++) {
      const c = this.raw.charCodeAt(i);
      if (c !== 0x3b && !isJsSpace(c)) return false;
    }
    return true;
  }
}

/**
 * The value of the first parameter named tag (any case) in value.slice(from),
 * parameters well formed: what parseParamsIn(...).get("tag") || undefined gives.
 */
function tagIn(value: string, from: number): string | undefined {
  const end = value.length;
  for (let start = from; start < end; ) {
    const sep = nextTopLevel(value, 0x3b, start, end);
    const ps = skipSpace(value, start, sep);
    const pe = trimEndIndex(value, ps, sep);
    let eq = ps;
    while (eq < pe && value.charCodeAt(eq) !== 0x3d) eq++;
    if (isTagName(value, ps, trimEndIndex(value, ps, eq))) {
      return eq < pe ? value.slice(skipSpace(value, eq + 1, pe), pe) || undefined : undefined;
    }
    start = sep + 1;
  }
  return undefined;
}

/** value.slice(from, to).toLowerCase() === "tag" (no other letter lower-cases to t, a or g). */
function isTagName(value: string, from: number, to: number): boolean {
  return (
    to - from === 3 &&
    (value.charCodeAt(from) | 0x20) === 0x74 &&
    (value.charCodeAt(from + 1) | 0x20) === 0x61 &&
    (value.charCodeAt(from + 2) | 0x20) === 0x67
  );
}

/**
 * display-name = *(token LWS) / quoted-string, before the "<" at `lt` of a
 * trimmed value: undefined when there is none.
 */
function displayNameBefore(header: string, value: string, lt: number, build: boolean): string | undefined {
  const dn = value.slice(0, trimEndIndex(value, 0, lt));
  if (dn === "") return undefined;
  if (dn.charCodeAt(0) === 0x22) {
    if (!dn.endsWith('"') || dn.length < 2) {
      throw new HeaderParseError(header, `malformed display name in ${header}`);
    }
    return build ? unquote(dn) : undefined;
  }
  // *(token LWS): every word must be a token (RFC 4475 3.1.2.15); dn is
  // trimmed, so that is every character a token one, SP or HTAB.
  for (let i = 0; i < dn.length; i++) {
    const c = dn.charCodeAt(i);
    if (!isTokenChar(c) && c !== 0x20 && c !== 0x09) {
      throw new HeaderParseError(header, `display name in ${header} must be a token or quoted string`);
    }
  }
  return dn;
}

const UNBALANCED = -2;

/**
 * One pass for what quotesBalanced and indexOfUnquoted(value, "<") would
 * tell in two: UNBALANCED when a quoted string is not terminated, else the
 * index of the first "<" outside quoted strings, or -1.
 */
function firstUnquotedLt(value: string): number {
  let lt = -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      i = quotedStringEnd(value, i);
      if (i < 0) return UNBALANCED;
    } else if (c === 0x3c && lt < 0) lt = i;
  }
  return lt;
}

/** Whether `s` holds code unit a or b. */
function hasAny(s: string, a: number, b: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === a || c === b) return true;
  }
  return false;
}
