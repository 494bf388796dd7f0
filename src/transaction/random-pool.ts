/**
 * Random identifiers for the hot path (tags, branches, Call-IDs, nonces):
 * hex and base64url taken from a pool refilled 4 KiB at a time, so each
 * identifier costs a slice, not a call into the CSPRNG. The octets are the
 * CSPRNG's (crypto.randomFillSync), each used once.
 */
import { randomFillSync } from "node:crypto";

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function take(octets: number): number {
  if (octets > POOL_SIZE) throw new RangeError(`at most ${POOL_SIZE} random octets at a time`);
  if (offset + octets > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += octets;
  return at;
}

/** `octets` random octets as 2*octets lowercase hex digits. */
export function randomHex(octets: number): string {
  const at = take(octets);
  return pool.toString("hex", at, at + octets);
}

/** `octets` random octets as base64url (no padding). */
export function randomBase64url(octets: number): string {
  const at = take(octets);
  return pool.toString("base64url", at, at + octets);
}
