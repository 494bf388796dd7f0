/** Who may use the admin API: its Host names, the bearer token (a header, or ?token= where a browser cannot send one). */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export function allowedHost(name: string, bound: string): boolean {
  if (name === "localhost" || name === "127.0.0.1" || name === "::1") return true;
  // Bound to a wildcard, the user chose to expose the API: any name reaches it.
  if (bound === "0.0.0.0" || bound === "::") return true;
  return name === bound.toLowerCase();
}

export function authorized(req: IncomingMessage, token: string): boolean {
  // RFC 9110 11.1: the auth scheme is case-insensitive.
  const m = /^bearer (.+)$/i.exec(req.headers.authorization ?? "");
  return m !== null && sameSecret(m[1]!, token);
}

export function queryTokenMatches(url: URL, token: string): boolean {
  const given = url.searchParams.get("token");
  return given !== null && sameSecret(given, token);
}

/** Constant-time comparison: only the length can show through the timing. */
function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
