/**
 * Reliable provisional responses (RFC 3262 sections 7.1 and 7.2):
 *   RSeq         = "RSeq" HCOLON response-num
 *   response-num = 1*DIGIT
 *   RAck         = "RAck" HCOLON response-num LWS CSeq-num LWS Method
 * Section 3: the RSeq value "MUST be between 1 and 2**31 - 1"; CSeq-num is
 * below 2**31 too (RFC 3261 8.1.1.5). Method is a token, kept as written.
 */
import { isToken } from "../tokens.js";
import { HeaderParseError } from "./errors.js";

const MAX = 2 ** 31 - 1;

function number31(header: string, what: string, text: string): number {
  let ok = text.length > 0 && text.length <= 10;
  for (let i = 0; ok && i < text.length; i++) {
    const c = text.charCodeAt(i);
    ok = c >= 48 && c <= 57;
  }
  if (!ok) throw new HeaderParseError(header, `malformed ${what} in ${header}`);
  const n = Number(text);
  if (n > MAX) throw new HeaderParseError(header, `${what} in ${header} is 2**31 or more`);
  return n;
}

export function parseRSeq(value: string): number {
  const n = number31("RSeq", "response-num", value.trim());
  if (n === 0) throw new HeaderParseError("RSeq", "RSeq must be at least 1");
  return n;
}

export interface RAck {
  readonly rseq: number;
  readonly cseq: number;
  readonly method: string;
}

export function parseRAck(value: string): RAck {
  const words = value.trim().split(/[ \t]+/);
  if (words.length !== 3) throw new HeaderParseError("RAck", `malformed RAck "${value}"`);
  const [rseq, cseq, method] = words as [string, string, string];
  if (!isToken(method)) throw new HeaderParseError("RAck", `RAck method "${method}" is not a token`);
  return { rseq: number31("RAck", "response-num", rseq), cseq: number31("RAck", "CSeq-num", cseq), method };
}
