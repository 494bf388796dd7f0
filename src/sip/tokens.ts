/**
 * Lexical helpers shared by the header parsers (RFC 3261 section 25.1).
 * Every scanner here is a single left-to-right pass: no backtracking regexes.
 */

const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN_CHARS[ch.charCodeAt(0)] = 1;
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
 * The one quoted-string scanner (25.1):
 *   quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
 *   quoted-pair   = "\" (%x00-09 / %x0B-0C / %x0E-7F)
 * With input[open] the opening DQUOTE: the index of the closing one, or -1
 * when the string is not terminated (it then runs to the end of the input).
 */
export function quotedStringEnd(input: string, open: number): number {
  for (let i = open + 1; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/** The index of `ch` outside quoted strings, or -1 (an unterminated string hides the rest). */
export function indexOfUnquoted(input: string, ch: string, from = 0): number {
  for (let i = from; i < input.length; i++) {
    const c = input[i];
    if (c === '"') {
      i = quotedStringEnd(input, i);
      if (i < 0) return -1;
    } else if (c === ch) return i;
  }
  return -1;
}

/**
 * Splits on `sep` where it is not inside a quoted string (with \-escapes) or
 * inside <...>. Parts are trimmed. Unbalanced quotes yield the rest as one part.
 */
export function splitTopLevel(input: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inAngle = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch === '"') {
      i = quotedStringEnd(input, i);
      if (i < 0) break;
    } else if (ch === "<") inAngle = true;
    else if (ch === ">") inAngle = false;
    else if (ch === sep && !inAngle) {
      out.push(input.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(input.slice(start).trim());
  return out;
}

/** True when the quoted strings in `input` are all terminated. */
export function quotesBalanced(input: string): boolean {
  for (let i = 0; i < input.length; i++) {
    if (input[i] === '"') {
      i = quotedStringEnd(input, i);
      if (i < 0) return false;
    }
  }
  return true;
}

/**
 * generic-param list: `;name[=value]` repeated (RFC 3261 section 25.1).
 * Names are lower-cased (parameter names are case-insensitive); values keep
 * their case and quotes. Returns undefined when a name is not a token.
 */
export function parseParams(input: string): Map<string, string | null> | undefined {
  const params = new Map<string, string | null>();
  const trimmed = input.trim();
  if (trimmed === "") return params;
  for (const part of splitTopLevel(trimmed, ";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!isToken(name)) return undefined;
    const value = eq < 0 ? null : part.slice(eq + 1).trim();
    if (!params.has(name)) params.set(name, value);
  }
  return params;
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
