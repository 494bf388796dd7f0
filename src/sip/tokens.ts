/**
 * Lexical helpers shared by the header parsers (RFC 3261 section 25.1).
 * Every scanner here is a single left-to-right pass: no backtracking regexes.
 */

const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN_CHARS[ch.charCodeAt(0)] = 1;
}

/** Whether code unit `c` may appear in a token. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] !== 1) return false;
  }
  return true;
}

/**
 * Whether the UTF-16 code unit `c` is whitespace to String.prototype.trim and
 * to the regex class \s (the same set): TAB, LF, VT, FF, CR, SP, NBSP, the
 * other Unicode space separators, LS, PS and the BOM. Index scans use it to
 * trim without first copying a substring.
 */
export function isJsSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  if (c === 0xa0 || c === 0x1680 || c === 0xfeff || c === 0x3000) return true;
  return (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f;
}

/** First index in [from, to) that is not trim() whitespace, or `to`. */
export function skipSpace(s: string, from: number, to: number): number {
  while (from < to && isJsSpace(s.charCodeAt(from))) from++;
  return from;
}

/** The end of [from, to) once trailing trim() whitespace is dropped. */
export function trimEndIndex(s: string, from: number, to: number): number {
  while (to > from && isJsSpace(s.charCodeAt(to - 1))) to--;
  return to;
}

/** s.slice(from, to).trim(), copying once. */
export function trimmedSlice(s: string, from: number, to: number): string {
  const start = skipSpace(s, from, to);
  return s.slice(start, trimEndIndex(s, start, to));
}

/**
 * text.slice(from, to), or the string of `shared` it spells (a method, a
 * transport...): the usual values are not copied out of every message.
 */
export function sliceOrShared(text: string, from: number, to: number, shared: readonly string[]): string {
  return sharedIn(text, from, to, shared) ?? text.slice(from, to);
}

/** The string of `shared` that text.slice(from, to) spells exactly, or undefined. */
function sharedIn(text: string, from: number, to: number, shared: readonly string[]): string | undefined {
  const n = to - from;
  for (let i = 0; i < shared.length; i++) {
    const s = shared[i]!;
    if (s.length === n && text.startsWith(s, from)) return s;
  }
  return undefined;
}

/** The usual parameter names (lower-case tokens), shared rather than copied and lower-cased per message. */
const USUAL_PARAMS = [
  "tag",
  "branch",
  "rport",
  "received",
  "transport",
  "lr",
  "user",
  "maddr",
  "ttl",
  "expires",
];

/** Whether input.slice(from, to) is a token (read in place). */
function tokenIn(input: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) if (!isTokenChar(input.charCodeAt(i))) return false;
  return true;
}

/**
 * Whether input.slice(from, to), lower-cased, is a token: a parameter name
 * parseParamsIn accepts (lower-cased first, as when building: a few
 * non-ASCII letters lower-case to ASCII ones).
 */
export function isParamNameIn(input: string, from: number, to: number): boolean {
  return tokenIn(input, from, to) || isToken(input.slice(from, to).toLowerCase());
}

/**
 * The one quoted-string scanner (25.1):
 *   quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
 *   quoted-pair   = "\" (%x00-09 / %x0B-0C / %x0E-7F)
 * With input[open] the opening DQUOTE: the index of the closing one, or -1
 * when the string is not terminated (it then runs to the end of the input).
 */
export function quotedStringEnd(input: string, open: number): number {
  return quotedEndBefore(input, open, input.length);
}

/** quotedStringEnd within input.slice(0, to). */
function quotedEndBefore(input: string, open: number, to: number): number {
  for (let i = open + 1; i < to; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/** The index of `ch` outside quoted strings, or -1 (an unterminated string hides the rest). */
export function indexOfUnquoted(input: string, ch: string, from = 0): number {
  const code = ch.length === 1 ? ch.charCodeAt(0) : -1;
  for (let i = from; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x22) {
      i = quotedEndBefore(input, i, input.length);
      if (i < 0) return -1;
    } else if (c === code) return i;
  }
  return -1;
}

/**
 * Calls `visit` with the index of every character of a header value that is
 * outside <...> and quoted strings (the delimiters excluded). Inside <...> a
 * DQUOTE is an ordinary character; an unterminated quoted string hides the
 * rest. One pass.
 */
export function forEachTopLevel(input: string, visit: (index: number) => void): void {
  let inAngle = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (inAngle) {
      if (c === ">") inAngle = false;
    } else if (c === '"') {
      i = quotedStringEnd(input, i);
      if (i < 0) return;
    } else if (c === "<") inAngle = true;
    else visit(i);
  }
}

/**
 * The index in [from, to) of the next `sep` code unit that is outside quoted
 * strings and <...> (a DQUOTE opens a quoted string even inside <...>), or
 * `to` when there is none or an unterminated quoted string hides the rest.
 * Scanning from one separator to the next is splitTopLevel without its array.
 */
export function nextTopLevel(input: string, sep: number, from: number, to: number): number {
  let inAngle = false;
  for (let i = from; i < to; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x22) {
      i = quotedEndBefore(input, i, to);
      if (i < 0) return to;
    } else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === sep && !inAngle) return i;
  }
  return to;
}

/**
 * Whether input.slice(from, to) has no DQUOTE and no "<": nextTopLevel in it
 * is then indexOf (nextParamEnd), which most parameter lists allow.
 */
export function isPlainIn(input: string, from: number, to: number): boolean {
  const q = input.indexOf('"', from);
  if (q >= 0 && q < to) return false;
  const lt = input.indexOf("<", from);
  return lt < 0 || lt >= to;
}

/** nextTopLevel(input, ";", from, to), by indexOf when the range isPlainIn. */
export function nextParamEnd(input: string, from: number, to: number, plain: boolean): number {
  if (!plain) return nextTopLevel(input, 0x3b, from, to);
  const semi = input.indexOf(";", from);
  return semi < 0 || semi > to ? to : semi;
}

/**
 * Splits on `sep` where it is not inside a quoted string (with \-escapes) or
 * inside <...>. Parts are trimmed. Unbalanced quotes yield the rest as one part.
 */
export function splitTopLevel(input: string, sep: string): string[] {
  const code = sep.length === 1 ? sep.charCodeAt(0) : -1;
  const out: string[] = [];
  for (let start = 0; ; ) {
    const end = nextTopLevel(input, code, start, input.length);
    out.push(trimmedSlice(input, start, end));
    if (end >= input.length) return out;
    start = end + 1;
  }
}

/**
 * Whether `test` holds for some part of `input` split on the code unit `sep`
 * outside quoted strings and <...>: splitTopLevel's parts, in order, each
 * given as the bounds [from, to) of its trimmed text (from === to: empty).
 * Stops at the first that holds; no array of parts, no copy of a part.
 */
export function someTopLevelPart(
  input: string,
  sep: number,
  test: (from: number, to: number) => boolean,
): boolean {
  for (let start = 0; ; ) {
    const end = nextTopLevel(input, sep, start, input.length);
    const from = skipSpace(input, start, end);
    if (test(from, trimEndIndex(input, from, end))) return true;
    if (end >= input.length) return false;
    start = end + 1;
  }
}

/** True when the quoted strings in `input` are all terminated. */
export function quotesBalanced(input: string): boolean {
  for (let i = 0; i < input.length; i++) {
    if (input.charCodeAt(i) === 0x22) {
      i = quotedEndBefore(input, i, input.length);
      if (i < 0) return false;
    }
  }
  return true;
}

/**
 * The parameters of a value that has none, shared by every parsed URI, Via
 * and name-addr without parameters (their type is ReadonlyMap): a Map whose
 * set, delete and clear throw, so that sharing it cannot leak an entry.
 */
export const NO_PARAMS: ReadonlyMap<string, string | null> = readOnlyEmptyMap();

function readOnlyEmptyMap(): ReadonlyMap<string, string | null> {
  const map = new Map<string, string | null>();
  for (const method of ["set", "delete", "clear"]) {
    Object.defineProperty(map, method, {
      value: () => {
        throw new TypeError(`${method}() on the shared empty parameter map`);
      },
    });
  }
  return Object.freeze(map);
}

/**
 * generic-param list: `;name[=value]` repeated (RFC 3261 section 25.1).
 * Names are lower-cased (parameter names are case-insensitive); values keep
 * their case and quotes. Returns undefined when a name is not a token.
 */
export function parseParams(input: string): Map<string, string | null> | undefined {
  const params = parseParamsIn(input, 0, input.length);
  return params === NO_PARAMS ? new Map() : (params as Map<string, string | null> | undefined);
}

/**
 * parseParams(input.slice(from, to)), without copying the slice or splitting
 * it into an array; NO_PARAMS when there are none. Unless `build`, the
 * parameters are only checked: NO_PARAMS when they are well formed.
 */
export function parseParamsIn(
  input: string,
  from: number,
  to: number,
  build = true,
): ReadonlyMap<string, string | null> | undefined {
  let params: Map<string, string | null> | undefined;
  const first = skipSpace(input, from, to);
  const end = trimEndIndex(input, first, to);
  const plain = isPlainIn(input, first, end);
  for (let start = first; start < end; ) {
    const sep = nextParamEnd(input, start, end, plain);
    const ps = skipSpace(input, start, sep);
    const pe = trimEndIndex(input, ps, sep);
    if (ps < pe) {
      let eq = ps;
      while (eq < pe && input.charCodeAt(eq) !== 0x3d) eq++;
      const nameEnd = trimEndIndex(input, ps, eq);
      if (build) {
        const usual = sharedIn(input, ps, nameEnd, USUAL_PARAMS);
        const name = usual ?? input.slice(ps, nameEnd).toLowerCase();
        if (usual === undefined && !isToken(name)) return undefined;
        params ??= new Map();
        if (!params.has(name))
          params.set(name, eq < pe ? input.slice(skipSpace(input, eq + 1, pe), pe) : null);
      } else if (!isParamNameIn(input, ps, nameEnd)) {
        return undefined;
      }
    }
    start = sep + 1;
  }
  return params ?? NO_PARAMS;
}

/** Removes the surrounding quotes of a quoted-string and its \-escapes. */
export function unquote(value: string): string {
  if (value.length < 2 || value[0] !== '"' || value[value.length - 1] !== '"') return value;
  return unescapeQuotedPairs(value.slice(1, -1));
}

/** The text of a quoted-string's inside: each quoted-pair becomes its character; a lone final backslash stays. */
export function unescapeQuotedPairs(inside: string): string {
  if (!inside.includes("\\")) return inside;
  let out = "";
  for (let i = 0; i < inside.length; i++) {
    const ch = inside[i];
    if (ch === "\\" && i + 1 < inside.length) {
      out += inside[i + 1];
      i++;
    } else out += ch;
  }
  return out;
}

/** Wraps a value as a quoted-string, escaping `"` and `\`. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
