/**
 * Bounds checked before a scenario (file, admin PUT, override) is parsed, so
 * no input can make the YAML parser or the validator take memory or time
 * out of proportion: size, nesting depth of flow collections, aliases, and
 * the number of rules. Each check is one pass over the text.
 */

/** Largest scenario text accepted (serve/validate `--max-scenario-size`). */
export const DEFAULT_MAX_SCENARIO_BYTES = 4 * 1024 * 1024;
/** Most rules a scenario may have (`--max-rules`). */
export const DEFAULT_MAX_RULES = 10_000;
/** Deepest nesting of [ ] and { } accepted: scenarios need a handful. */
export const MAX_NESTING = 64;
/** Nesting bound when brackets inside quotes count too. */
const MAX_RAW_NESTING = 1000;
/** Most alias expansions (*name) while building the document: YAML "billion laughs" is refused. */
export const MAX_ALIAS_COUNT = 100;

export interface ScenarioLimits {
  readonly maxBytes?: number;
  readonly maxRules?: number;
}

/**
 * Where flow collections ([ ], { }) first nest deeper than `max`, as an
 * offset into `text`, or undefined. Brackets inside quoted scalars and
 * comments do not count; a quote opens a scalar only where YAML starts one
 * (line start or after "[", "{", ",", ": ", "- ", "? ").
 */
export function tooDeep(text: string, max = MAX_NESTING): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  /** The last character that is not a space or tab, on this line ("" at line start). */
  let prev = "";
  let prevSpaced = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (quote === '"' && c === "\\") i++;
      else if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else {
          quote = undefined;
          prev = c;
          prevSpaced = false;
        }
      }
      continue;
    }
    if (c === "\n" || c === "\r") {
      prev = "";
      prevSpaced = true;
      continue;
    }
    if (c === " " || c === "\t") {
      prevSpaced = true;
      continue;
    }
    if (c === "#" && (prev === "" || prevSpaced)) {
      while (i + 1 < text.length && text[i + 1] !== "\n") i++;
      continue;
    }
    const startsScalar =
      prev === "" || "[{,:".includes(prev) || (prevSpaced && (prev === "-" || prev === "?"));
    if ((c === '"' || c === "'") && startsScalar) {
      quote = c;
      continue;
    }
    if (c === "[" || c === "{") {
      depth++;
      if (depth > max) return i;
    } else if ((c === "]" || c === "}") && depth > 0) depth--;
    prev = c;
    prevSpaced = false;
  }
  // Brackets counted regardless of quotes too, with a far higher bound: a
  // text the quote tracking misreads still cannot nest without limit.
  let raw = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++raw > MAX_RAW_NESTING) return i;
    } else if ((c === 0x5d || c === 0x7d) && raw > 0) raw--;
  }
  return undefined;
}

export interface BoundProblem {
  readonly pos: { readonly line: number; readonly col: number };
  readonly message: string;
  readonly hint: string;
}

/** Line and column (1-based) of an offset. */
function linePos(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/** Size and nesting, checked on the text before any parsing. */
export function checkBounds(text: string, limits: ScenarioLimits = {}): BoundProblem | undefined {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_SCENARIO_BYTES;
  const size = Buffer.byteLength(text, "utf8");
  if (size > maxBytes) {
    return {
      pos: { line: 1, col: 1 },
      message: `scenario is ${size} octets, more than the ${maxBytes} accepted`,
      hint: "split it into several files (--scenario a.yaml --scenario b.yaml), or raise --max-scenario-size",
    };
  }
  const deep = tooDeep(text);
  if (deep !== undefined) {
    return {
      pos: linePos(text, deep),
      message: `[ ] and { } nest more than ${MAX_NESTING} deep`,
      hint: "a scenario needs a few levels; close the brackets or quote the text",
    };
  }
  return undefined;
}

/** The rule count, checked before the rules are validated. */
export function tooManyRules(count: number, limits: ScenarioLimits = {}): string | undefined {
  const max = limits.maxRules ?? DEFAULT_MAX_RULES;
  return count > max ? `${count} rules, more than the ${max} accepted` : undefined;
}
