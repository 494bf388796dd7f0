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
 * Splits on `sep` where it is not inside a quoted string (with \-escapes) or
 * inside <...>. Parts are trimmed. Unbalanced quotes yield the rest as one part.
 */
export function splitTopLevel(input: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (inQuotes) {
      if (ch === "\\") i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') inQuotes = true;
    else if (ch === "<") inAngle = true;
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
  let inQuotes = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (inQuotes) {
      if (ch === "\\") i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') inQuotes = true;
  }
  return !inQuotes;
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
  let out = "";
  for (let i = 1; i < value.length - 1; i++) {
    const ch = value[i];
    if (ch === "\\" && i + 1 < value.length - 1) {
      out += value[i + 1];
      i++;
    } else out += ch;
  }
  return out;
}

/** Wraps a value as a quoted-string, escaping `"` and `\`. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
