/**
 * The patterns V8's own regular expressions may run in place of RE2
 * (issue 12): re2js builds its matching machine on every call, ~0.5 µs a
 * request even for the built-in scenario's `^[1-6][0-9][0-9]$`, where V8
 * takes tens of nanoseconds. Only a pattern with no repetition (`*`, `+`,
 * `?`, `{n}`), no alternation and no group qualifies: such a pattern is
 * tried at each position of the input for at most its own length, so V8
 * runs it in time linear in the input as RE2 does (hostile input cannot
 * make it backtrack). And only the syntax both engines read the same way:
 *
 * - literal characters, and `\` before one of `^$\.*+?()[]{}|/`;
 * - `\d` and `\w` (ASCII in both);
 * - `.` (any character but a newline: written `[^\n]`, since V8's `.` also
 *   stops at `\r`, U+2028 and U+2029);
 * - `[...]` and `[^...]` of literal characters and ranges `a-z` between
 *   letters or digits, `-` first or last;
 * - `^` first and `$` last (the start and end of the text in both).
 *
 * Run with the `u` flag, so that `.` and `[^...]` take a whole code point,
 * as RE2 does. Anything else stays with RE2.
 */

/** Characters `\` makes literal in both engines (and allowed escaped under V8's `u` flag). */
const SYNTAX = "^$\\.*+?()[]{}|/";
/** Characters that are not literal outside a class. */
const SPECIAL = "^$\\.*+?()[]{}|";

/** The source V8 runs for `pattern`, or undefined when RE2 must run it. */
export function plainRegexSource(pattern: string): string | undefined {
  let at = 0;
  let out = "";
  if (pattern.startsWith("^")) {
    out = "^";
    at = 1;
  }
  const end =
    pattern.endsWith("$") && !escapedAt(pattern, pattern.length - 1) ? pattern.length - 1 : pattern.length;
  while (at < end) {
    const c = pattern[at]!;
    if (c === "\\") {
      const e = pattern[at + 1];
      if (e === undefined || at + 1 >= end) return undefined;
      if (e !== "d" && e !== "w" && !SYNTAX.includes(e)) return undefined;
      out += `\\${e}`;
      at += 2;
    } else if (c === "[") {
      const close = classEnd(pattern, at, end);
      if (close < 0) return undefined;
      out += pattern.slice(at, close + 1);
      at = close + 1;
    } else if (c === ".") {
      out += "[^\\n]";
      at++;
    } else if (SPECIAL.includes(c) || !printable(c)) {
      return undefined;
    } else {
      out += c;
      at++;
    }
  }
  return end < pattern.length ? `${out}$` : out;
}

/** A test of `pattern` by V8, when plainRegexSource() lets it; else undefined. */
export function plainRegex(pattern: string): ((input: string) => boolean) | undefined {
  const source = plainRegexSource(pattern);
  if (source === undefined) return undefined;
  const re = new RegExp(source, "u");
  return (input) => re.test(input);
}

/** Whether the character at `i` is escaped (an odd run of backslashes before it). */
function escapedAt(s: string, i: number): boolean {
  let n = 0;
  while (i - 1 - n >= 0 && s[i - 1 - n] === "\\") n++;
  return n % 2 === 1;
}

/**
 * Where the class opened at `open` closes, or -1 when it is not one of the
 * plain ones: literal characters (no `\`, `[`, `]`), ranges between two
 * letters or digits, `-` only first or last, `^` only first.
 */
function classEnd(p: string, open: number, end: number): number {
  let i = open + 1;
  if (p[i] === "^") i++;
  const first = i;
  for (; i < end; i++) {
    const c = p[i]!;
    if (c === "]") return i > first ? i : -1;
    if (c === "\\" || c === "[" || !printable(c)) return -1;
    if (c === "-") {
      const last = p[i + 1] === "]";
      if (i === first || last) continue;
      // A range: letters or digits on both sides (code points in order in
      // both engines; a reversed one never compiles in RE2), not chained.
      if (!alnum(p[i - 1]!) || !alnum(p[i + 1]!) || p[i - 2] === "-") return -1;
    }
  }
  return -1;
}

/** Printable ASCII, space included. */
function printable(c: string): boolean {
  const code = c.charCodeAt(0);
  return code >= 0x20 && code < 0x7f;
}

function alnum(c: string): boolean {
  return (c >= "0" && c <= "9") || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}
