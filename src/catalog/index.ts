/** Lookups over the response-code catalogue (src/catalog/codes.ts). */
import { CODES } from "./codes.js";
import type { CodeClass, ResponseCodeInfo } from "./types.js";

export type { CodeClass, CodeStatus, HeaderRule, ResponseCodeInfo } from "./types.js";

/** Every catalogued code, ascending. */
export const CATALOG: readonly ResponseCodeInfo[] = [...CODES].sort((a, b) => a.code - b.code);

const BY_CODE = new Map(CATALOG.map((c) => [c.code, c]));

/** RFC 3261 21: what a client treats an unknown code of each class as (x00). */
const CLASS_FALLBACK: Record<CodeClass, string> = {
  1: "Trying",
  2: "OK",
  3: "Multiple Choices",
  4: "Bad Request",
  5: "Server Internal Error",
  6: "Busy Everywhere",
};

/** RFC 3261 7.2 / 25.1: Status-Code is three digits; classes 1xx to 6xx. */
export function isValidStatusCode(code: number): boolean {
  return Number.isInteger(code) && code >= 100 && code <= 699;
}

export function lookupCode(code: number): ResponseCodeInfo | undefined {
  return BY_CODE.get(code);
}

export function isCatalogued(code: number): boolean {
  return BY_CODE.has(code);
}

/**
 * The reason phrase to send: the catalogued one, or for an uncatalogued code
 * the phrase of its class's x00 code (RFC 3261 8.1.3.2: an unrecognised code
 * is treated as x00 of its class).
 */
export function reasonPhrase(code: number): string {
  const known = BY_CODE.get(code);
  if (known) return known.reason;
  if (!isValidStatusCode(code)) throw new RangeError(`SIP status code must be 100..699, got ${code}`);
  return CLASS_FALLBACK[Math.floor(code / 100) as CodeClass];
}

export function codesInClass(klass: CodeClass): readonly ResponseCodeInfo[] {
  return CATALOG.filter((c) => c.class === klass);
}

export function classOf(code: number): CodeClass {
  return Math.floor(code / 100) as CodeClass;
}
