/**
 * The shape most extension headers share: a leading value, then
 * *( SEMI generic-param ) (RFC 3261 section 25.1).
 */
import { parseParams, quotedStringEnd } from "../tokens.js";
import { HeaderParseError } from "./errors.js";

export interface ValueWithParams {
  /** The text before the first ";", trimmed. */
  readonly head: string;
  /** generic-params, names lower-cased, values as written. */
  readonly params: ReadonlyMap<string, string | null>;
}

/** Splits `value` at its first ";" and parses the parameters; throws on a malformed one. */
export function splitValueParams(header: string, value: string): ValueWithParams {
  const v = value.trim();
  const semi = v.indexOf(";");
  const head = (semi < 0 ? v : v.slice(0, semi)).trim();
  const params = parseParams(semi < 0 ? "" : v.slice(semi + 1));
  if (!params) throw new HeaderParseError(header, `malformed parameters in ${header}`);
  return { head, params };
}

/**
 * The first ";" at or after `from` that starts a header parameter: outside
 * <...> and quoted strings (an unterminated one hides the rest), or -1.
 * `from` must be outside both (0, or just after such a ";"): scanning from
 * one ";" to the next is forEachTopLevel's rules without a call per
 * character or an array of every ";".
 */
function nextParamStart(value: string, from: number): number {
  let inAngle = false;
  for (let i = from; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inAngle) {
      if (c === 0x3e) inAngle = false;
    } else if (c === 0x22) {
      i = quotedStringEnd(value, i);
      if (i < 0) return -1;
    } else if (c === 0x3c) inAngle = true;
    else if (c === 0x3b) return i;
  }
  return -1;
}

/**
 * Rewrites the header parameters of a value (name-addr, Via, ...), the rest
 * kept byte for byte: `edit` gets each ";name[=value]" segment with its
 * lower-cased name and whether it has a value, and returns its replacement
 * (the segment itself to keep it). Only replaced segments are copied: the
 * text between them is sliced once.
 */
function editParams(value: string, edit: (segment: string, name: string, valued: boolean) => string): string {
  let out = "";
  let kept = 0;
  for (let semi = nextParamStart(value, 0); semi >= 0; ) {
    const next = nextParamStart(value, semi + 1);
    const end = next < 0 ? value.length : next;
    const segment = value.slice(semi, end);
    const eq = segment.indexOf("=");
    const name = (eq < 0 ? segment.slice(1) : segment.slice(1, eq)).trim().toLowerCase();
    const replaced = edit(segment, name, eq >= 0);
    if (replaced !== segment) {
      out += value.slice(kept, semi) + replaced;
      kept = end;
    }
    semi = next;
  }
  return kept === 0 ? value : out + value.slice(kept);
}

/** The value with every header parameter `name` (";name" or ";name=value", any case) removed. */
export function withoutHeaderParam(value: string, name: string): string {
  const wanted = name.toLowerCase();
  return editParams(value, (segment, n) => (n === wanted ? "" : segment));
}

/**
 * The value with the first valueless header parameter `name` given a value
 * (";rport" -> ";rport=5060", RFC 3581 4); whitespace after it is kept.
 */
export function fillValuelessParam(value: string, name: string, paramValue: string): string {
  return fillAndDropParams(value, name, paramValue, undefined);
}

/**
 * fillValuelessParam(value, fill, fillValue) (when fillValue is given), then
 * withoutHeaderParam(..., drop) (when drop is given), in one pass: the Via
 * a server annotates with rport and received (RFC 3581 4, RFC 3261 18.2.1).
 */
export function fillAndDropParams(
  value: string,
  fill: string,
  fillValue: string | undefined,
  drop: string | undefined,
): string {
  const wanted = fill.toLowerCase();
  const dropped = drop?.toLowerCase();
  let done = fillValue === undefined;
  return editParams(value, (segment, n, valued) => {
    if (n === dropped) return "";
    if (done || valued || n !== wanted) return segment;
    done = true;
    return `;${wanted}=${fillValue}${segment.slice(segment.trimEnd().length)}`;
  });
}
