/**
 * Dial-a-code: the Request-URI user names the response code. sip:486@host
 * gets 486 for any method; sip:180@host rings until CANCEL. Used by the
 * `dialACode: true` action of scenarios/default.yaml.
 */
import { SIP_METHODS } from "../sip/methods.js";
import type { Decision, ResponsePlan } from "./types.js";

const CODE_USER = /^[1-6][0-9][0-9]$/;

/** sip:180@ and friends stop ringing after this long with 480 Temporarily Unavailable. */
export const DEFAULT_RING_TIMEOUT_MS = 180_000;

export function codeForUser(user: string | undefined): number | undefined {
  return user !== undefined && CODE_USER.test(user) ? Number(user) : undefined;
}

/** planForCode's decisions for the registered methods, by method and code (decisions are read only). */
const PLANS = new Map<string, Decision[]>(SIP_METHODS.map((m) => [m, []]));

/** The decision for sip:CODE@ and a request method: built once per registered method and code. */
export function planForCode(code: number, method: string): Decision {
  const byCode = PLANS.get(method);
  if (byCode === undefined) return planOf(code, method);
  byCode[code] ??= planOf(code, method);
  return byCode[code]!;
}

function planOf(code: number, method: string): Decision {
  const rule = `dial-a-code ${code}`;
  const withSdp = (status: number): ResponsePlan =>
    method === "INVITE" && (status === 183 || (status >= 200 && status < 300))
      ? { status, body: "sdp" }
      : { status };
  // RFC 4320 4.1: no provisional response other than 100 to a non-INVITE
  // request; such requests to sip:1xx@ get the built-in behaviour instead.
  if (code < 200 && method !== "INVITE")
    return { kind: "default", rule: `${rule} (not for ${method}: RFC 4320)` };
  if (code < 200) {
    // 100 Trying is sent by the INVITE transaction itself (17.2.1); any other
    // provisional is sent once, then the request rings until CANCEL.
    const steps = code === 100 ? [] : [{ send: withSdp(code) }];
    return { kind: "respond", rule, steps };
  }
  return { kind: "respond", rule, steps: [], final: withSdp(code) };
}
