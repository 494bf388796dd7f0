/**
 * The keys server transactions are found under (RFC 3261 17.2.3, 8.2.2.2),
 * and their 64-bit fingerprints: a stored transaction (CompletedStore) is
 * indexed by fingerprint only (KeyIndex), so it keeps no key string for the
 * 64*T1 it lives (issue 12).
 */
import { randomBytes } from "node:crypto";
import { MAGIC_COOKIE } from "../sip/headers/via.js";
import type { ParsedRequest, Via } from "../sip/message.js";

export function isRfc3261Branch(via: Via | undefined): boolean {
  return via?.branch?.startsWith(MAGIC_COOKIE) ?? false;
}

/** What starts an RFC 2543 key (transactionKey): its fields are not all in the response. */
export const RFC2543_PREFIX = "2543|";

/**
 * RFC 3261 17.2.3: with a magic-cookie branch, the key is the branch, the
 * sent-by of the top Via and the method (ACK matching INVITE). Otherwise the
 * RFC 2543 rules: Request-URI, To tag, From tag, Call-ID, CSeq and top Via.
 */
export function transactionKey(request: ParsedRequest, method: string): string {
  const top = request.core.via[0];
  const m = method === "ACK" ? "INVITE" : method;
  if (top && isRfc3261Branch(top)) {
    return flat(`${top.branch}|${top.host.toLowerCase()}:${top.port ?? defaultPort(top.transport)}|${m}`);
  }
  // For an INVITE/ACK pair only the ACK carries our To tag, so RFC 2543 keys
  // leave the To tag out for INVITE transactions and the ACK is checked
  // against the transaction's own tag afterwards.
  const toTag = m === "INVITE" ? "" : (request.core.to.tag ?? "");
  // The method second: the fields after it may hold a "|" (methodOfKey).
  return [
    "2543",
    m,
    request.uriRaw,
    toTag,
    request.core.from.tag ?? "",
    request.core.callId,
    request.core.cseq.seq,
    top?.raw ?? "",
  ].join("|");
}

/** From tag, Call-ID and CSeq: the key of merged-request detection (8.2.2.2). */
export function mergeKey(request: ParsedRequest): string {
  const c = request.core;
  return flat(`${c.from.tag ?? ""}|${c.callId}|${c.cseq.seq}|${c.cseq.method}`);
}

/**
 * The method of a transaction key (transactionKey): the last field of an
 * RFC 3261 key (branch|sent-by|method: none of them holds a "|"), the
 * second of an RFC 2543 one ("2543|method|...": the fields after it, the
 * Request-URI and the top Via's text, may hold a "|").
 */
export function methodOfKey(id: string): string {
  if (id.startsWith(RFC2543_PREFIX))
    return id.slice(RFC2543_PREFIX.length, id.indexOf("|", RFC2543_PREFIX.length));
  return id.slice(id.lastIndexOf("|") + 1);
}

/**
 * A key built by concatenation, as one string. V8 keeps `a + b` as a pair
 * of references (a "cons string"), and a Map does not flatten its keys: a
 * transaction key kept for 64*T1 would be a tree of five such pairs and
 * their pieces, a dozen objects each GC traces. Reading a character
 * flattens it in place (the pairs left are dropped by the next scavenge).
 */
export function flat(s: string): string {
  // (compared, so that no compiler drops the read as unused; it is never -1)
  return s.charCodeAt(0) === -1 ? "" : s;
}

function defaultPort(transport: string): number {
  return transport === "TLS" || transport === "WSS" ? 5061 : 5060;
}

/** Per process: fingerprints cannot be aimed at from outside. */
const SEEDS = new Int32Array(randomBytes(8).buffer);

/**
 * A key's 64-bit fingerprint, as two 32-bit halves (one object, reused: of()
 * overwrites it). Two keys with the same fingerprint are taken for the same
 * key: with 500,000 stored transactions a new request is mistaken for a
 * retransmission with a probability of ~3e-14, and the seeds are random per
 * process. The halves are two multiplicative hashes of the UTF-16 code units
 * (FNV-1a's and murmur's multipliers, each finished with an avalanche).
 */
export class Fingerprint {
  hi = 0;
  lo = 0;

  of(key: string): this {
    const k = RECENT.indexOf(key);
    if (k >= 0) {
      this.hi = RECENT_HI[k]!;
      this.lo = RECENT_LO[k]!;
      return this;
    }
    let a = SEEDS[0]! ^ 0x811c9dc5;
    let b = SEEDS[1]! ^ key.length;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.hi = avalanche(a);
    this.lo = avalanche(b);
    RECENT[next] = key;
    RECENT_HI[next] = this.hi;
    RECENT_LO[next] = this.lo;
    next = (next + 1) % RECENT.length;
    return this;
  }
}

/**
 * The last keys fingerprinted: a request's key and merge key are looked up
 * when it arrives and again when its transaction is stored, usually in the
 * same turn (held for one request each: a few strings, not a history).
 */
const RECENT: Array<string | undefined> = [undefined, undefined, undefined, undefined];
const RECENT_HI = new Int32Array(RECENT.length);
const RECENT_LO = new Int32Array(RECENT.length);
let next = 0;

/** murmur3's fmix32: every input bit reaches every output bit. */
function avalanche(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}
