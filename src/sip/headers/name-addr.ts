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
  forEachTopLevel,
  isJsSpace,
  isParamNameIn,
  isPlainIn,
  isTokenChar,
  NO_PARAMS,
  nextParamEnd,
  parseParamsIn,
  quotedStringEnd,
  skipSpace,
  trimEndIndex,
  unquote,
} from "../tokens.js";
import {
  checkUri,
  checkUriWithoutSpace,
  isLeanUri,
  NO_SPACE,
  parseUri,
  SP_OR_TAB,
  spacesIn,
  UriError,
  uriTextIsLean,
} from "../uri.js";
import { HeaderParseError } from "./errors.js";

export function parseNameAddr(header: string, raw: string): NameAddr {
  return nameAddrOf(header, raw, EAGER)!;
}

/**
 * parseNameAddr with the URI checked now but built on first read of `uri`
 * (the parser's From and To: most requests need only their tags).
 */
export function readNameAddr(header: string, raw: string): NameAddr {
  return nameAddrOf(header, raw, LAZY)!;
}

/**
 * Throws the HeaderParseError parseNameAddr(header, raw) would throw, without
 * building the value: for Contacts, validated on every request (RFC 4475
 * 3.1.2.13) but not kept.
 */
export function checkNameAddr(header: string, raw: string): void {
  nameAddrOf(header, raw, CHECK);
}

/** What nameAddrOf builds: nothing (only checks), the name-addr with its URI built on first read, or at once. */
const CHECK = 0;
const LAZY = 1;
const EAGER = 2;

/** parseNameAddr when `mode` is EAGER (LAZY: the URI built on first read), else only its checks (undefined). */
function nameAddrOf(header: string, raw: string, mode: number): NameAddr | undefined {
  const value = raw.trim();
  if (value === "") throw new HeaderParseError(header, `empty ${header} header`);
  const lt = firstUnquotedLt(value);
  if (lt === UNBALANCED) throw new HeaderParseError(header, `unterminated quoted string in ${header}`);

  /** The URI is value.slice(uriFrom, uriTo). */
  let uriFrom = 0;
  let uriTo: number;
  /** Where the parameters start (after their first ";"), value.length when there are none. */
  let paramsFrom: number;
  if (lt >= 0) {
    const gt = value.indexOf(">", lt);
    if (gt < 0) throw new HeaderParseError(header, `missing ">" in ${header}`);
    checkDisplayName(header, value, lt);
    uriFrom = lt + 1;
    uriTo = gt;
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
    uriTo = semi < 0 ? value.length : trimEndIndex(value, skipSpace(value, 0, semi), semi);
    uriFrom = semi < 0 ? 0 : skipSpace(value, 0, semi);
    paramsFrom = semi < 0 ? value.length : semi + 1;
    if (hasAnyIn(value, uriFrom, uriTo, 0x3f, 0x2c)) {
      throw new HeaderParseError(header, `URI with "?" or "," in ${header} must be enclosed in <>`);
    }
  }
  const spaces = spacesIn(value, uriFrom, uriTo);
  if (spaces === SP_OR_TAB) throw new HeaderParseError(header, `whitespace inside the URI of ${header}`);
  let uri: NameAddr["uri"] | undefined;
  try {
    if (mode === EAGER) uri = parseUri(value.slice(uriFrom, uriTo));
    else if (spaces === NO_SPACE) checkUriWithoutSpace(value, uriFrom, uriTo);
    else checkUri(value.slice(uriFrom, uriTo));
  } catch (e) {
    throw new HeaderParseError(header, `${header}: ${e instanceof UriError ? e.message : "invalid URI"}`);
  }
  // Checked here, built on first read (the tag is all most requests need of them).
  const tag = checkedTag(value, paramsFrom);
  if (tag === MALFORMED) throw new HeaderParseError(header, `malformed parameters in ${header}`);
  if (mode === CHECK) return undefined;
  return new ParsedNameAddr(value, tag, uri, uriFrom, uriTo, paramsFrom);
}

/**
 * A parsed name-addr, checked whole: the tag read at once; the URI (unless
 * given), display name and header parameters built when first read.
 */
class ParsedNameAddr implements NameAddr {
  /** The URI is raw.slice(uriFrom, uriTo); a "<" before it when uriFrom > 0, the display name before that. */
  readonly #uriFrom: number;
  readonly #uriTo: number;
  /** Where the parameters start in raw (after their ";"). */
  readonly #paramsFrom: number;
  #uri: NameAddr["uri"] | undefined;
  #params: ReadonlyMap<string, string | null> | undefined;

  constructor(
    readonly raw: string,
    readonly tag: string | undefined,
    uri: NameAddr["uri"] | undefined,
    uriFrom: number,
    uriTo: number,
    paramsFrom: number,
  ) {
    this.#uri = uri;
    this.#uriFrom = uriFrom;
    this.#uriTo = uriTo;
    this.#paramsFrom = paramsFrom;
  }

  get uri(): NameAddr["uri"] {
    this.#uri ??= parseUri(this.raw.slice(this.#uriFrom, this.#uriTo));
    return this.#uri;
  }

  /** display-name, unquoted: what is before the "<" (trimmed), undefined when nothing is. */
  get displayName(): string | undefined {
    if (this.#uriFrom === 0) return undefined;
    const dn = this.raw.slice(0, trimEndIndex(this.raw, 0, this.#uriFrom - 1));
    if (dn === "") return undefined;
    return dn.charCodeAt(0) === 0x22 ? unquote(dn) : dn;
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

  /** This name-addr with no parameters (the URI, built or not, shared). */
  withoutParams(): ParsedNameAddr {
    return new ParsedNameAddr(this.raw, this.tag, this.#uri, this.#uriFrom, this.#uriTo, this.raw.length);
  }

  /** isLeanUri(this.uri), without building the URI. */
  uriLean(): boolean {
    if (this.#uri !== undefined) return isLeanUri(this.#uri);
    return uriTextIsLean(this.raw, this.#uriFrom, this.#uriTo);
  }
}

/** `n.params === NO_PARAMS`, without building the map of a name-addr parsed lazily. */
export function hasNoParams(n: NameAddr): boolean {
  return n instanceof ParsedNameAddr ? n.paramsEmpty() : n.params === NO_PARAMS;
}

/**
 * What a retained request keeps of a lazily parsed From or To whose URI is
 * (or would be) lean (isLeanUri), without building that URI: n itself when it
 * has no parameters, else n with its parameters dropped (params NO_PARAMS;
 * raw, tag, display name and URI the same). undefined for any other n.
 */
export function leanParsedNameAddr(n: NameAddr): NameAddr | undefined {
  if (!(n instanceof ParsedNameAddr) || !n.uriLean()) return undefined;
  return n.paramsEmpty() ? n : n.withoutParams();
}

/** checkedTag: a parameter name is not a token. */
const MALFORMED: unique symbol = Symbol("malformed parameters");

/**
 * In one pass over the parameters in value.slice(from): MALFORMED when
 * parseParamsIn(value, from, value.length) would refuse them, else the tag,
 * what its map's get("tag") || undefined gives (the first parameter named
 * tag, any case).
 */
function checkedTag(value: string, from: number): string | undefined | typeof MALFORMED {
  const first = skipSpace(value, from, value.length);
  const end = trimEndIndex(value, first, value.length);
  let tag: string | undefined;
  let tagSeen = false;
  const plain = isPlainIn(value, first, end);
  for (let start = first; start < end; ) {
    const sep = nextParamEnd(value, start, end, plain);
    const ps = skipSpace(value, start, sep);
    const pe = trimEndIndex(value, ps, sep);
    if (ps < pe) {
      let eq = ps;
      while (eq < pe && value.charCodeAt(eq) !== 0x3d) eq++;
      const nameEnd = trimEndIndex(value, ps, eq);
      if (!isParamNameIn(value, ps, nameEnd)) return MALFORMED;
      if (!tagSeen && isTagName(value, ps, nameEnd)) {
        tagSeen = true;
        tag = eq < pe ? value.slice(skipSpace(value, eq + 1, pe), pe) || undefined : undefined;
      }
    }
    start = sep + 1;
  }
  return tag;
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
 * trimmed value (if any): throws HeaderParseError when malformed.
 */
function checkDisplayName(header: string, value: string, lt: number): void {
  const end = trimEndIndex(value, 0, lt);
  if (end === 0) return;
  if (value.charCodeAt(0) === 0x22) {
    if (value.charCodeAt(end - 1) !== 0x22 || end < 2) {
      throw new HeaderParseError(header, `malformed display name in ${header}`);
    }
    return;
  }
  // *(token LWS): every word must be a token (RFC 4475 3.1.2.15); the name
  // is trimmed, so that is every character a token one, SP or HTAB.
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    if (!isTokenChar(c) && c !== 0x20 && c !== 0x09) {
      throw new HeaderParseError(header, `display name in ${header} must be a token or quoted string`);
    }
  }
}

const UNBALANCED = -2;

/**
 * One pass for what quotesBalanced and indexOfUnquoted(value, "<") would
 * tell in two: UNBALANCED when a quoted string is not terminated, else the
 * index of the first "<" outside quoted strings, or -1.
 */
function firstUnquotedLt(value: string): number {
  // Up to the first DQUOTE, indexOf tells (most values have none at all).
  const q = value.indexOf('"');
  const lt0 = value.indexOf("<");
  if (q < 0) return lt0;
  let lt = lt0 >= 0 && lt0 < q ? lt0 : -1;
  for (let i = q; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      i = quotedStringEnd(value, i);
      if (i < 0) return UNBALANCED;
    } else if (c === 0x3c && lt < 0) lt = i;
  }
  return lt;
}

/** Whether s.slice(from, to) holds code unit a or b. */
function hasAnyIn(s: string, from: number, to: number, a: number, b: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === a || c === b) return true;
  }
  return false;
}

/**
 * Whether a To/From value that may not parse carries a non-empty tag
 * parameter: a ";tag=" outside <...> and quoted strings (an unterminated
 * one hides the rest). Read as the text left once those are cut out, split
 * on ";": a part after the first whose name (before its first "=", trimmed)
 * is "tag" in any case and whose value (after it, trimmed) is not empty.
 * One pass over that text as forEachTopLevel visits it, nothing copied.
 */
export function rawHasTag(value: string): boolean {
  const scan = new TagScan();
  forEachTopLevel(value, (i) => scan.next(value.charCodeAt(i)));
  return scan.found;
}

/** Where TagScan is in the text: before the first ";", in a name, in a tag's value, or in a part to skip. */
const HEAD = 0;
const NAME = 1;
const VALUE = 2;
const SKIP = 3;

/** rawHasTag's reading of the top-level characters, one at a time. */
class TagScan {
  found = false;
  #state = HEAD;
  /** In NAME: how many characters of "tag" the name has matched, and whether space followed them. */
  #matched = 0;
  #spaced = false;

  next(c: number): void {
    if (c === 0x3b) {
      this.#state = NAME;
      this.#matched = 0;
      this.#spaced = false;
    } else if (this.#state === VALUE) {
      if (!isJsSpace(c)) this.found = true;
    } else if (this.#state === NAME) this.#name(c);
  }

  /** A character of a name: "tag" (any case) with trim() whitespace around it, up to "=". */
  #name(c: number): void {
    if (c === 0x3d) this.#state = this.#matched === 3 ? VALUE : SKIP;
    else if (isJsSpace(c)) this.#spaced = this.#matched > 0;
    else if (!this.#spaced && this.#matched < 3 && (c | 0x20) === TAG[this.#matched]) this.#matched++;
    else this.#state = SKIP;
  }
}

/** "tag" as lower-case code units (no other letter lower-cases to t, a or g). */
const TAG = [0x74, 0x61, 0x67];
