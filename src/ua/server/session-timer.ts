/**
 * RFC 4028 session timers and RFC 3262 option tags as the UAS reads them
 * from a request: the 422 check, the Session-Expires of a 2xx, whether
 * provisionals go reliably.
 */
import type { ParsedRequest } from "../../sip/message.js";
import type { ResponseSpec } from "../response-builder.js";

/** RFC 4028 4: the smallest session interval we accept (the RFC's floor is 90 s). */
export const MIN_SE = 90;

/** Session-Expires (or "x") of a request: delta-seconds and the refresher parameter. */
function sessionExpires(req: ParsedRequest): { seconds: number; refresher?: string } | undefined {
  const value = req.headers.get("Session-Expires");
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)\s*(.*)$/.exec(value);
  if (!m) return undefined;
  const refresher = /;\s*refresher\s*=\s*(uac|uas)/i.exec(m[2] ?? "")?.[1]?.toLowerCase();
  return { seconds: Number(m[1]), ...(refresher ? { refresher } : {}) };
}

/** RFC 4028 6: an interval below our minimum (or the request's Min-SE) gets 422 with Min-SE. */
export function sessionIntervalTooSmall(req: ParsedRequest, minSE = MIN_SE): ResponseSpec | undefined {
  const se = sessionExpires(req);
  if (!se) return undefined;
  const theirMin = Number(/^\s*(\d+)/.exec(req.headers.get("Min-SE") ?? "")?.[1] ?? 0);
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
  if (!se || spec.headers?.some(([n]) => /^(session-expires|x)$/i.test(n))) return spec;
  const uacSupports = req.headers
    .getAll("Supported")
    .concat(req.headers.getAll("Require"))
    .some((t) => t.trim().toLowerCase() === "timer");
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
  return req.headers.getAll(header).some((t) => t.trim().toLowerCase() === tag);
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
