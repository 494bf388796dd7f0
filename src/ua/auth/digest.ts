/**
 * HTTP Digest as SIP uses it (RFC 3261 22.4, RFC 7616, RFC 8760): MD5,
 * SHA-256 and SHA-512-256, their -sess variants, qop auth and auth-int.
 */
import { createHash } from "node:crypto";
import { type AuthHeader, parseAuthHeader } from "../../sip/headers/credentials.js";
import { tryParse } from "../../sip/headers/errors.js";

export type Credentials = AuthHeader;

export const ALGORITHMS = [
  "SHA-256",
  "SHA-512-256",
  "MD5",
  "SHA-256-sess",
  "SHA-512-256-sess",
  "MD5-sess",
] as const;
export type DigestAlgorithm = (typeof ALGORITHMS)[number];

const HASH: Record<string, string> = { MD5: "md5", "SHA-256": "sha256", "SHA-512-256": "sha512-256" };

export function hashOf(algorithm: string, data: string | Buffer): string {
  const name = HASH[algorithm.replace(/-sess$/i, "").toUpperCase()] ?? HASH[algorithm.replace(/-sess$/i, "")];
  if (!name) throw new RangeError(`unsupported digest algorithm ${algorithm}`);
  return createHash(name).update(data).digest("hex");
}

export interface DigestInput {
  readonly algorithm: string;
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  readonly method: string;
  readonly uri: string;
  readonly nonce: string;
  readonly cnonce?: string;
  readonly nc?: string;
  readonly qop?: string;
  /** The message body, for qop=auth-int. */
  readonly body?: Buffer;
}

/** RFC 7616 3.4.1-3.4.3 (and RFC 2617 / RFC 3261 without qop). */
export function digestResponse(i: DigestInput): string {
  const h = (s: string | Buffer) => hashOf(i.algorithm, s);
  let ha1 = h(`${i.username}:${i.realm}:${i.password}`);
  if (/-sess$/i.test(i.algorithm)) ha1 = h(`${ha1}:${i.nonce}:${i.cnonce ?? ""}`);
  const ha2 =
    i.qop === "auth-int"
      ? h(`${i.method}:${i.uri}:${h(i.body ?? Buffer.alloc(0))}`)
      : h(`${i.method}:${i.uri}`);
  if (i.qop) return h(`${ha1}:${i.nonce}:${i.nc ?? ""}:${i.cnonce ?? ""}:${i.qop}:${ha2}`);
  return h(`${ha1}:${i.nonce}:${ha2}`);
}

/** Authorization / Proxy-Authorization: `Scheme k=v, k="v"...`; undefined without a scheme. */
export function parseCredentials(value: string): Credentials | undefined {
  return tryParse(parseAuthHeader, "Authorization", value);
}
