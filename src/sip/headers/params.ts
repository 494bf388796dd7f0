/**
 * The shape most extension headers share: a leading value, then
 * *( SEMI generic-param ) (RFC 3261 section 25.1).
 */
import { parseParams } from "../tokens.js";
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
