/**
 * Single-valued numeric and token headers: CSeq (20.16), Max-Forwards (20.22),
 * Content-Length (20.14), Call-ID (20.8), Expires (20.19).
 */
import type { CSeq } from "../message.js";
import { SIP_METHODS } from "../methods.js";
import { isToken, skipSpace, sliceOrShared, trimEndIndex } from "../tokens.js";
import { HeaderParseError } from "./errors.js";

const DIGITS = /^[0-9]+$/;

/** RFC 3261 8.1.1.5: "The sequence number MUST be expressible as a 32-bit unsigned integer and MUST be less than 2**31." */
export function parseCSeq(value: string): CSeq {
  // ^([0-9]+)[ \t]+([^ \t]+)$ once trimmed, read by index.
  const start = skipSpace(value, 0, value.length);
  const end = trimEndIndex(value, start, value.length);
  let i = start;
  while (i < end && isDigit(value.charCodeAt(i))) i++;
  const digitsEnd = i;
  while (i < end && isSpTab(value.charCodeAt(i))) i++;
  const methodStart = i;
  while (i < end && !isSpTab(value.charCodeAt(i))) i++;
  if (digitsEnd === start || methodStart === digitsEnd || methodStart === end || i < end) {
    throw new HeaderParseError("CSeq", `malformed CSeq "${value}"`);
  }
  if (digitsEnd - start > 10) throw new HeaderParseError("CSeq", "CSeq number is 2**31 or more");
  let seq = 0;
  for (let d = start; d < digitsEnd; d++) seq = seq * 10 + (value.charCodeAt(d) - 0x30);
  if (seq >= 2 ** 31) throw new HeaderParseError("CSeq", "CSeq number is 2**31 or more");
  const method = sliceOrShared(value, methodStart, end, SIP_METHODS);
  if (!isToken(method)) throw new HeaderParseError("CSeq", `CSeq method "${method}" is not a token`);
  return { seq, method };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isSpTab(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Max-Forwards = 1*DIGIT, 0..255 (RFC 3261 20.22, RFC 4475 3.1.2.4). */
export function parseMaxForwards(value: string): number {
  // /^[0-9]+$/ on value.trim(), read in place.
  const n = trimmedDigits(value, 10);
  if (n === NOT_DIGITS) {
    throw new HeaderParseError("Max-Forwards", `malformed Max-Forwards "${value}"`);
  }
  if (n === TOO_LONG || n > 255) {
    throw new HeaderParseError("Max-Forwards", `Max-Forwards ${value.trim()} is above 255`);
  }
  return n;
}

export function parseContentLength(value: string): number {
  const n = trimmedDigits(value, 9);
  if (n === NOT_DIGITS) {
    throw new HeaderParseError("Content-Length", `malformed Content-Length "${value}"`);
  }
  if (n === TOO_LONG) {
    throw new HeaderParseError("Content-Length", `Content-Length ${value.trim()} is too large`);
  }
  return n;
}

/** trimmedDigits: value.trim() is not 1*DIGIT. */
const NOT_DIGITS = -1;
/** trimmedDigits: more than the digits allowed. */
const TOO_LONG = -2;

/**
 * The number value.trim() spells when it is 1*DIGIT of at most maxDigits
 * (<= 15, exact in a double) digits; else NOT_DIGITS or TOO_LONG.
 */
function trimmedDigits(value: string, maxDigits: number): number {
  const start = skipSpace(value, 0, value.length);
  const end = trimEndIndex(value, start, value.length);
  if (start === end) return NOT_DIGITS;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    if (!isDigit(c)) return NOT_DIGITS;
    n = n * 10 + (c - 0x30);
  }
  return end - start > maxDigits ? TOO_LONG : n;
}

/** callid = word [ "@" word ]; we only require a non-empty value without whitespace. */
export function parseCallId(value: string): string {
  const v = value.trim();
  let blank = v === "";
  for (let i = 0; i < v.length && !blank; i++) blank = isSpTab(v.charCodeAt(i));
  if (blank) throw new HeaderParseError("Call-ID", `malformed Call-ID "${value}"`);
  return v;
}

/** Expires / expires param: delta-seconds; values above 2**32-1 are invalid (RFC 4475 3.1.2.4). */
export function parseDeltaSeconds(header: string, value: string): number {
  const v = value.trim();
  if (!DIGITS.test(v)) throw new HeaderParseError(header, `malformed ${header} "${value}"`);
  if (v.length > 10 || Number(v) > 2 ** 32 - 1)
    throw new HeaderParseError(header, `${header} ${v} is too large`);
  return Number(v);
}
