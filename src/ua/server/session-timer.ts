/**
 * RFC 4028 session timers and RFC 3262 option tags as the UAS reads them
 * from a request: the 422 check, the Session-Expires of a 2xx, whether
 * provisionals go reliably.
 */
import { leadingDeltaSeconds, lenientSessionExpires } from "../../sip/headers/lenient.js";
import { listsOptionTag } from "../../sip/headers/option-tags.js";
import type { SessionExpires } from "../../sip/headers/session-timer.js";
import type { ParsedRequest } from "../../sip/message.js";
import type { ResponseSpec } from "../response-builder.js";

/** RFC 4028 4: the smallest session interval we accept (the RFC's floor is 90 s). */
export const MIN_SE = 90;

/**
 * Session-Expires (or "x") of a request: delta-seconds and the refresher
 * parameter. A malformed value counts as absent (no session timer), as it
 * did before the parser existed for values without leading digits.
 */
function sessionExpires(req: ParsedRequest): SessionExpires | undefined {
  const value = req.headers.get("Session-Expires");
  return value === undefined ? undefined : lenientSessionExpires(value);
}

/** RFC 4028 6: an interval below our minimum (or the request's Min-SE) gets 422 with Min-SE. */
export function sessionIntervalTooSmall(req: ParsedRequest, minSE = MIN_SE): ResponseSpec | undefined {
  const se = sessionExpires(req);
  if (!se) return undefined;
  // A malformed Min-SE names no minimum of its own.
  const value = req.headers.get("Min-SE");
  const theirMin = (value === undefined ? undefined : leadingDeltaSeconds(value)) ?? 0;
  const min = Math.max(minSE, theirMin);
  if (se.seconds >= min) return undefined;
  return { status: 422, headers: [["Min-SE", String(min)]] };
}

/**
 * RFC 4028 9: a 2xx to an INVITE with Session-Expires carries it back with
 * the refresher chosen (the UAC's choice, else uac when it supports timer,
 * else uas), and Require: timer when the UAC supports the extension.
 */
export function withSessionTimer(req: ParsedRequest, spec: ResponseSpec): ResponseSpec {
  const se = sessionExpires(req);
  if (!se || spec.headers?.some(([n]) => isSessionExpiresName(n))) return spec;
  const uacSupports = listsOptionTag(
    req.headers.getAll("Supported").concat(req.headers.getAll("Require")),
    "timer",
  );
  const refresher = se.refresher ?? (uacSupports ? "uac" : "uas");
  const headers: Array<readonly [string, string]> = [
    ...(spec.headers ?? []),
    ["Session-Expires", `${se.seconds};refresher=${refresher}`],
  ];
  if (uacSupports) headers.push(["Require", "timer"]);
  return { ...spec, headers };
}

/** RFC 3262 3: the INVITE requires reliable provisional responses. */
export function listsTag(req: ParsedRequest, header: string, tag: string): boolean {
  // Most requests have no such header: no list built for them.
  return req.headers.has(header) && listsOptionTag(req.headers.getAll(header), tag);
}

/** Session-Expires under its long or compact name ("x", RFC 4028 4). */
function isSessionExpiresName(name: string): boolean {
  const n = name.toLowerCase();
  return n === "session-expires" || n === "x";
}

/**
 * RFC 3262 3: a UAS MUST send provisionals reliably when the request
 * requires 100rel, and MAY when it only supports it (the scenario decides).
 */
export function sendsReliably(req: ParsedRequest, policy: "required" | "supported" | "never"): boolean {
  if (policy === "never") return false;
  if (listsTag(req, "Require", "100rel")) return true;
  return policy === "supported" && listsTag(req, "Supported", "100rel");
}
