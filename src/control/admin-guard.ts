/** Who may use the admin API: its Host names, the bearer token (a header, or ?token= where a browser cannot send one). */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { stripBrackets } from "../transport/address.js";
import { HttpProblem } from "./http-problem.js";

/** Paths that need no token. */
const PUBLIC = new Set(["/__admin/health", "/__admin/openapi.json"]);
/** The web UI's script and style sheet: static, no secret in them (a <script src> cannot send a token). */
const UI_ASSET_PATH = /^\/__admin\/ui\/app\.(js|css)$/;
/** A browser cannot set a header on a page load or an EventSource: these take ?token= as well. */
const QUERY_TOKEN = new Set(["/__admin/ui", "/__admin/events"]);

/**
 * A web page the developer has open must not drive the API: cross-origin
 * requests (CSRF) and other Host names (DNS rebinding) are refused (403).
 * `bound`: the address the API listens on.
 */
export function checkOrigin(req: IncomingMessage, bound: string): void {
  const hostName = stripBrackets((req.headers.host ?? "").replace(/:\d+$/, "")).toLowerCase();
  if (!allowedHost(hostName, bound)) {
    throw new HttpProblem(403, "Forbidden", `Host "${hostName}" is not this admin API's address`);
  }
  // The web UI's own requests (a POST carries Origin) come from this very origin.
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${req.headers.host ?? ""}`.toLowerCase()) {
    throw new HttpProblem(403, "Forbidden", "cross-origin requests to the admin API are refused");
  }
}

/** With a token configured, every path but the public ones needs it: else a 401. */
export function checkToken(req: IncomingMessage, url: URL, path: string, token: string | undefined): void {
  if (
    token &&
    !PUBLIC.has(path) &&
    !UI_ASSET_PATH.test(path) &&
    !authorized(req, token) &&
    !(QUERY_TOKEN.has(path) && queryTokenMatches(url, token))
  ) {
    // RFC 9110 11.6.1 / RFC 6750 3: a 401 names the scheme it wants.
    throw new HttpProblem(
      401,
      "Unauthorized",
      QUERY_TOKEN.has(path)
        ? `open ${path}?token=<token> or send Authorization: Bearer <token> (serve --admin-token)`
        : "send Authorization: Bearer <token> (serve --admin-token)",
      {},
      {
        "www-authenticate": 'Bearer realm="sipmock"',
      },
    );
  }
}

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
