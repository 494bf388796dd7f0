/**
 * How the UAS reads the extension headers it acts on, through the
 * parsers of src/sip/headers/ (issue 11 point 3), tolerant at the call
 * site: a malformed Session-Expires is no session timer, a malformed
 * Min-SE names no minimum, a malformed Expires is the default.
 */
import { describe, expect, it } from "vitest";
import type { ParsedRequest } from "../../src/sip/message.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { acceptsSdp } from "../../src/ua/server/sdp-answer.js";
import {
  sendsReliably,
  sessionIntervalTooSmall,
  withSessionTimer,
} from "../../src/ua/server/session-timer.js";
import { requestedExpires } from "../../src/ua/server/subscribe.js";

function request(method: string, extra: string[]): ParsedRequest {
  const text = [
    `${method} sip:bob@example.com SIP/2.0`,
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1",
    "Max-Forwards: 70",
    "From: <sip:alice@example.com>;tag=a",
    "To: <sip:bob@example.com>",
    "Call-ID: c1@192.0.2.1",
    `CSeq: 1 ${method}`,
    "Contact: <sip:alice@192.0.2.1>",
    ...extra,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const parsed = parseDatagram(Buffer.from(text, "latin1"));
  if (!parsed.ok || parsed.message.kind !== "request") throw new Error("test request did not parse");
  return parsed.message;
}

const header = (spec: { headers?: ReadonlyArray<readonly [string, string]> }, name: string) =>
  spec.headers?.filter(([n]) => n === name).map(([, v]) => v);

describe("UAS session timer (RFC 4028)", () => {
  it("answers 422 with the larger of our Min-SE and the request's", () => {
    expect(sessionIntervalTooSmall(request("INVITE", ["Session-Expires: 60"]), 90)).toEqual({
      status: 422,
      headers: [["Min-SE", "90"]],
    });
    expect(
      sessionIntervalTooSmall(request("INVITE", ["Session-Expires: 100;refresher=uac", "Min-SE: 120"]), 90),
    ).toEqual({ status: 422, headers: [["Min-SE", "120"]] });
    expect(sessionIntervalTooSmall(request("INVITE", ["x: 1800"]), 90)).toBeUndefined();
  });

  it("treats a malformed Session-Expires as absent and a malformed Min-SE as none", () => {
    expect(sessionIntervalTooSmall(request("INVITE", ["Session-Expires: soon"]), 90)).toBeUndefined();
    expect(
      sessionIntervalTooSmall(request("INVITE", ["Session-Expires: 100", "Min-SE: lots"]), 90),
    ).toBeUndefined();
    expect(withSessionTimer(request("INVITE", ["Session-Expires: soon"]), { status: 200 })).toEqual({
      status: 200,
    });
  });

  it("puts the refresher in the 2xx: the UAC's choice, else uac when it supports timer, else uas", () => {
    const chosen = withSessionTimer(request("INVITE", ["Session-Expires: 1800;REFRESHER=UAS"]), {
      status: 200,
    });
    expect(header(chosen, "Session-Expires")).toEqual(["1800;refresher=uas"]);
    expect(header(chosen, "Require")).toEqual([]);
    const supports = withSessionTimer(
      request("INVITE", ["Session-Expires: 1800", "Supported: 100rel, Timer"]),
      {
        status: 200,
      },
    );
    expect(header(supports, "Session-Expires")).toEqual(["1800;refresher=uac"]);
    expect(header(supports, "Require")).toEqual(["timer"]);
    expect(
      header(
        withSessionTimer(request("INVITE", ["Session-Expires: 1800"]), { status: 200 }),
        "Session-Expires",
      ),
    ).toEqual(["1800;refresher=uas"]);
  });

  it("leaves a Session-Expires the scenario wrote (long or compact name) alone", () => {
    const spec = { status: 200, headers: [["x", "600"]] as Array<[string, string]> };
    expect(withSessionTimer(request("INVITE", ["Session-Expires: 1800"]), spec)).toBe(spec);
  });
});

describe("UAS option tags and Accept", () => {
  it("sends provisionals reliably when 100rel is required, or supported and the policy says so", () => {
    expect(sendsReliably(request("INVITE", ["Require: timer, 100REL"]), "required")).toBe(true);
    expect(sendsReliably(request("INVITE", ["Supported: 100rel"]), "required")).toBe(false);
    expect(sendsReliably(request("INVITE", ["Supported: 100rel"]), "supported")).toBe(true);
    expect(sendsReliably(request("INVITE", ["Require: 100rel"]), "never")).toBe(false);
  });

  it("accepts SDP when Accept is absent or covers application/sdp", () => {
    expect(acceptsSdp(request("INVITE", []).headers)).toBe(true);
    expect(acceptsSdp(request("INVITE", ["Accept: text/plain, application/*;q=0.5"]).headers)).toBe(true);
    expect(acceptsSdp(request("INVITE", ["Accept: */*"]).headers)).toBe(true);
    expect(
      acceptsSdp(request("INVITE", ["Accept: text/plain", "Accept: application/pidf+xml"]).headers),
    ).toBe(false);
    expect(acceptsSdp(request("INVITE", ["Accept:"]).headers)).toBe(false);
  });
});

describe("UAS Expires (SUBSCRIBE, PUBLISH)", () => {
  it("reads delta-seconds, and takes the default when absent or malformed", () => {
    expect(requestedExpires(request("SUBSCRIBE", ["Expires: 600"]), 3600)).toBe(600);
    expect(requestedExpires(request("SUBSCRIBE", ["Expires:  0 "]), 3600)).toBe(0);
    expect(requestedExpires(request("SUBSCRIBE", []), 3600)).toBe(3600);
    expect(requestedExpires(request("SUBSCRIBE", ["Expires: never"]), 3600)).toBe(3600);
  });
});
