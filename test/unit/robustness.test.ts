/**
 * Regressions from review: header injection, To tags the raw text hides,
 * quadratic inputs, timers that throw or overflow, encoding of scenario text,
 * RFC corner cases (empty Accept, port 0, RFC 4320, stale received).
 */
import { describe, expect, it } from "vitest";
import { planForCode } from "../../src/scenario/dial-a-code.js";
import { ScenarioEngine } from "../../src/scenario/engine.js";
import { formatProblem, parseScenario } from "../../src/scenario/load.js";
import { parseViaValue } from "../../src/sip/headers/via.js";
import { Headers } from "../../src/sip/message.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { StreamFramer } from "../../src/sip/stream-framer.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import { annotateTopVia } from "../../src/transport/received.js";
import { DEFAULT_CAPABILITIES } from "../../src/ua/local-context.js";
import { type BuildContext, buildResponse } from "../../src/ua/response-builder.js";
import { answerOffer } from "../../src/ua/sdp.js";

const CTX: BuildContext = {
  local: { host: "127.0.0.1", port: 5060, transport: "udp" },
  capabilities: DEFAULT_CAPABILITIES,
  toTag: "t1",
  realm: "r",
  nonce: () => "n",
  opaque: "o",
};

function parse(text: string) {
  const r = parseDatagram(Buffer.from(text, "latin1"));
  if (!r.ok || r.message.kind !== "request") throw new Error(r.ok ? "not a request" : r.error.detail);
  return r.message;
}

const invite = (to: string, user = "bob") =>
  [
    `INVITE sip:${user}@h SIP/2.0`,
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-rb",
    "From: <sip:a@h>;tag=f",
    `To: ${to}`,
    "Call-ID: rb",
    "CSeq: 1 INVITE",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");

describe("no header injection", () => {
  it("a percent-encoded CRLF in the Request-URI user cannot add a header line", () => {
    const req = parse(invite("<sip:bob@h>", "x%0D%0AX-Evil%3A%201"));
    const built = buildResponse(
      { method: "INVITE", headers: req.headers, requestUser: "x\r\nX-Evil: 1" },
      { status: 302 },
      CTX,
    );
    const text = built.bytes.toString("latin1");
    expect(text).not.toMatch(/\r\nX-Evil/);
    expect(text).toContain("Contact: <sip:redirected-x X-Evil: 1@127.0.0.1:5060;transport=udp>\r\n");
  });

  it("scenario templates fed with request parts cannot either", () => {
    const r = parseScenario(
      'rules:\n  - respond: 486\n    headers: { X-Caller: "{{from.user}}" }\n',
      "t.yaml",
      {},
    );
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join("\n"));
    const text = invite("<sip:bob@h>").replace("From: <sip:a@h>", "From: <sip:a%0d%0aX-Evil:%201@h>");
    const req = parse(text);
    const d = new ScenarioEngine([r.source]).decide({
      method: "INVITE",
      transport: "udp",
      sourceAddress: "192.0.2.1",
      sourcePort: 5060,
      hasBody: false,
      request: req,
    });
    if (d.kind !== "respond" || !d.final) throw new Error("expected a final answer");
    const built = buildResponse(
      { method: "INVITE", headers: req.headers },
      { status: 486, headers: d.final.headers! },
      CTX,
    );
    expect(built.bytes.toString("latin1")).not.toMatch(/\r\nX-Evil/);
  });
});

describe("To tags decided from the parsed request (8.2.6.2)", () => {
  it.each([
    ['"x;tag=y" <sip:bob@h>', "a quoted display name that looks like a tag"],
    ["<sip:bob@h;tag=u>", "a tag inside the URI"],
  ])("%s (%s) still gets a tag", (to) => {
    const req = parse(invite(to));
    expect(req.core.to.tag).toBeUndefined();
    const built = buildResponse(
      { method: "INVITE", headers: req.headers, hasToTag: false },
      { status: 200 },
      CTX,
    );
    expect(built.bytes.toString("latin1")).toContain(`\r\nTo: ${to};tag=t1\r\n`);
  });
});

describe("linear-time inputs", () => {
  it("Via sent-by with LWS around the colon, and a long run of spaces (rejected, not hung)", () => {
    expect(parseViaValue("SIP/2.0/UDP host.example : 5070 ;branch=z9hG4bK1")[0]).toMatchObject({
      host: "host.example",
      port: 5070,
    });
    expect(parseViaValue("SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK1")[0]).toMatchObject({
      host: "[2001:db8::1]",
      port: 5070,
    });
    expect(() => parseViaValue(`SIP/2.0/UDP a${" ".repeat(60_000)}b`)).toThrow(/invalid/);
  });

  it("a stream message fed one octet at a time is framed once, complete", () => {
    const f = new StreamFramer({ maxMessageSize: 70_000 });
    const msg = Buffer.from(
      `${invite("<sip:bob@h>").slice(0, -2)}X-Pad: ${"a".repeat(20_000)}\r\n\r\n`,
      "latin1",
    );
    const frames = [];
    for (let i = 0; i < msg.length; i++) frames.push(...f.push(msg.subarray(i, i + 1)));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.type).toBe("message");
    if (frames[0]!.type === "message") expect(frames[0]!.bytes.equals(msg)).toBe(true);
  });

  it("a Require repeating tags gets each unsupported tag once, so the 420 stays small", () => {
    const req = parse(
      invite("<sip:bob@h>").replace(
        "\r\n\r\n",
        `\r\nRequire: ${"foo, FOO, bar, ".repeat(5_000)}100rel\r\n\r\n`,
      ),
    );
    const built = buildResponse({ method: "INVITE", headers: req.headers }, { status: 420 }, CTX);
    expect(built.message.headers).toContainEqual({ name: "Unsupported", value: "foo, bar" });
    expect(built.bytes.length).toBeLessThan(65_507 - 60_000);
  });
});

describe("timers", () => {
  it("a callback that throws is reported and the others still run", async () => {
    const errors: unknown[] = [];
    const s = new Scheduler(undefined, (e) => errors.push(e));
    let ran = false;
    s.schedule(1, () => {
      throw new Error("boom");
    });
    s.schedule(2, () => {
      ran = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect((errors[0] as Error).message).toBe("boom");
    expect(ran).toBe(true);
    s.stop();
  });

  it("a timer beyond setTimeout's range does not fire early", async () => {
    const s = new Scheduler();
    let fired = false;
    s.schedule(2 ** 33, () => {
      fired = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(false);
    expect(s.pending).toBe(1);
    s.stop();
  });
});

describe("RFC corner cases", () => {
  it("RFC 4320: dial-a-code does not send a provisional to a non-INVITE", () => {
    expect(planForCode(180, "OPTIONS")).toEqual({
      kind: "default",
      rule: "dial-a-code 180 (not for OPTIONS: RFC 4320)",
    });
    expect(planForCode(180, "INVITE")).toMatchObject({ kind: "respond", steps: [{ send: { status: 180 } }] });
  });

  it("18.2.1: a received the client wrote itself is replaced", () => {
    const h = new Headers();
    h.append("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=6.6.6.6;rport");
    annotateTopVia(h, { address: "192.0.2.9", port: 4000 });
    expect(h.get("Via")).toBe("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=4000;received=192.0.2.9");
  });

  it("RFC 3264 6: a stream offered with port 0, or SAVP, is answered with port 0", () => {
    const offer = [
      "v=0",
      "o=a 1 1 IN IP4 192.0.2.1",
      "s=-",
      "c=IN IP4 192.0.2.1",
      "t=0 0",
      "m=audio 0 RTP/AVP 0",
      "m=audio 4000 RTP/SAVP 0",
      "m=audio 4002 RTP/AVP 0",
      "",
    ].join("\r\n");
    const answer = answerOffer(offer, "127.0.0.1", 40000).sdp!;
    expect(answer.match(/^m=.*$/gm)).toEqual([
      "m=audio 0 RTP/AVP 0",
      "m=audio 0 RTP/SAVP 0",
      "m=audio 40004 RTP/AVP 0",
    ]);
  });
});

describe("WebRTC offers (RFC 5763, RFC 8839, RFC 9143)", () => {
  const webrtc = (setup: string) =>
    [
      "v=0",
      "o=- 1 2 IN IP4 127.0.0.1",
      "s=-",
      "t=0 0",
      "a=group:BUNDLE 0",
      "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
      "c=IN IP4 0.0.0.0",
      "a=ice-ufrag:abcd",
      "a=ice-pwd:abcdefghijklmnopqrstuvwx",
      "a=fingerprint:sha-256 AA:BB",
      `a=setup:${setup}`,
      "a=mid:0",
      "a=rtcp-mux",
      "a=rtpmap:111 opus/48000/2",
      "a=rtpmap:0 PCMU/8000",
      "",
    ].join("\r\n");

  it("are answered with ICE lite, a host candidate, a fingerprint, the BUNDLE group and the mid", () => {
    const answer = answerOffer(webrtc("actpass"), "127.0.0.1", 40000, undefined, { fingerprint: "01:02" })
      .sdp!;
    expect(answer).toMatch(/\r\na=ice-lite\r\n/);
    expect(answer).toMatch(/\r\na=group:BUNDLE 0\r\n/);
    expect(answer).toMatch(/\r\nm=audio 40000 UDP\/TLS\/RTP\/SAVPF 111\r\n/);
    expect(answer).toMatch(/\r\na=mid:0\r\n/);
    expect(answer).toMatch(/\r\na=fingerprint:sha-256 01:02\r\n/);
    expect(answer).toMatch(/\r\na=setup:passive\r\n/);
    expect(answer).toMatch(/\r\na=candidate:1 1 udp 2130706431 127\.0\.0\.1 40000 typ host\r\n/);
  });

  it("an offer that is passive gets an active answer", () => {
    expect(answerOffer(webrtc("passive"), "127.0.0.1", 40000).sdp).toMatch(/\r\na=setup:active\r\n/);
  });
});

describe("scenario text", () => {
  it("Unicode in a reason phrase goes out as UTF-8", () => {
    const r = parseScenario('rules:\n  - respond: 486\n    reason: "Ocupado – não"\n', "t.yaml", {});
    if (!r.ok) throw new Error("invalid");
    const req = parse(invite("<sip:bob@h>"));
    const d = new ScenarioEngine([r.source]).decide({
      method: "INVITE",
      transport: "udp",
      sourceAddress: "192.0.2.1",
      sourcePort: 1,
      hasBody: false,
      request: req,
    });
    if (d.kind !== "respond" || !d.final) throw new Error("expected a final answer");
    const built = buildResponse(
      { method: "INVITE", headers: req.headers },
      { status: 486, reason: d.final.reason! },
      CTX,
    );
    const firstLine = built.bytes.subarray(0, built.bytes.indexOf("\r\n"));
    expect(firstLine.toString("utf8")).toBe("SIP/2.0 486 Ocupado – não");
  });

  it.each([
    [
      "rules:\n  - match: { method: INVITE }\n    steps: [ { send: 180 }, { respond: 486 } ]\n    fault: { duplicate: 2 }\n",
      /"fault" next to "steps" would not act on anything/,
    ],
    [
      "rules:\n  - match: { method: INVITE }\n    respond: 180\n    fault: { garbage: 10 }\n",
      /fault garbage acts on the final response, and respond: 180 has none/,
    ],
    [
      'rules:\n  - respond: 486\n    headers: { X-A: "a\\r\\nX-B: b" }\n',
      /the value of X-A contains a line break/,
    ],
  ])("rejected: %j", (yaml, message) => {
    const r = parseScenario(yaml, "t.yaml", {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map(formatProblem).join("\n")).toMatch(message);
  });
});
