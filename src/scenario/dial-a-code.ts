/**
 * The built-in default: the Request-URI user names the response code.
 * sip:486@host gets 486 for any method; sip:180@host rings until CANCEL;
 * any other user gets the UAS's built-in behaviour (an answered call,
 * a registrar, OPTIONS capabilities).
 */
import type { Decision, RequestFacts, ResponsePlan, Scenario } from "./types.js";

const CODE_USER = /^[1-6][0-9][0-9]$/;

/** sip:180@ and friends stop ringing after this long with 480 Temporarily Unavailable. */
export const DEFAULT_RING_TIMEOUT_MS = 180_000;

export function codeForUser(user: string | undefined): number | undefined {
  return user !== undefined && CODE_USER.test(user) ? Number(user) : undefined;
}

export function planForCode(code: number, method: string): Decision {
  const rule = `dial-a-code ${code}`;
  const withSdp = (status: number): ResponsePlan =>
    method === "INVITE" && (status === 183 || (status >= 200 && status < 300))
      ? { status, body: "sdp" }
      : { status };
  if (code < 200) {
    // 100 Trying is sent by the INVITE transaction itself (17.2.1); any other
    // provisional is sent once, then the request rings until CANCEL.
    const steps = code === 100 && method === "INVITE" ? [] : [{ send: withSdp(code) }];
    return { kind: "respond", rule, steps };
  }
  return { kind: "respond", rule, steps: [], final: withSdp(code) };
}

export class DialACodeScenario implements Scenario {
  readonly name = "dial-a-code";

  decide(facts: RequestFacts): Decision {
    const code = codeForUser(facts.requestUser);
    if (code === undefined) return { kind: "default", rule: "built-in" };
    return planForCode(code, facts.method);
  }

  describe(): string[] {
    return [
      "sip:CODE@host (CODE 100..699) answers CODE for any method (INVITE gets 100 Trying first)",
      "sip:1xx@host sends that provisional and rings until CANCEL (487)",
      "any other user: INVITE is answered (180, 200 + SDP), REGISTER 200, OPTIONS 200, BYE 200",
    ];
  }
}
