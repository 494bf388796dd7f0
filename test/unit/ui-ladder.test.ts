/** The ladder layout of the browser UI (ui/src/ladder.ts): lanes, arrows, timing, faults, rules. */
import { describe, expect, it } from "vitest";
import { deriveLanes, faultOf, formatDelta, layoutLadder } from "../../ui/src/ladder.js";
import { entries, request, response } from "./ui-fixtures.js";

describe("ladder lanes", () => {
  it("has the peer and the mock's listener for a direct call, the mock last", () => {
    const call = entries([
      { direction: "in", raw: request("INVITE") },
      { direction: "out", raw: response(486, "Busy Here") },
    ]);
    expect(deriveLanes(call)).toEqual([
      { endpoint: "udp:127.0.0.1:5070", role: "peer" },
      { endpoint: "udp:127.0.0.1:5060", role: "mock" },
    ]);
  });

  it("adds the origin and every proxy a request's Via headers name, origin first", () => {
    const vias = [
      "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-p2",
      "SIP/2.0/TCP proxy1.example.test:5080;branch=z9hG4bK-p1",
      "SIP/2.0/UDP [2001:db8::5];branch=z9hG4bK-ua",
    ];
    const call = entries([
      { direction: "in", raw: request("INVITE", { vias }) },
      { direction: "out", raw: response(200, "OK", { vias }) },
    ]);
    expect(deriveLanes(call)).toEqual([
      { endpoint: "udp:[2001:db8::5]:5060", role: "client" },
      { endpoint: "tcp:proxy1.example.test:5080", role: "proxy" },
      { endpoint: "udp:127.0.0.1:5070", role: "proxy" },
      { endpoint: "udp:127.0.0.1:5060", role: "mock" },
    ]);
  });

  it("reads compact and comma-joined Via headers, IPv6 peers in brackets", () => {
    const raw = request("OPTIONS", {
      vias: ["SIP/2.0/UDP [::1]:5070;branch=z9hG4bK-a, SIP/2.0/TLS ua.example.test;branch=z9hG4bK-b"],
    }).replace("Via:", "v:");
    const call = entries([{ direction: "in", raw, remote: { address: "::1", port: 5070 } }]);
    expect(deriveLanes(call).map((l) => l.endpoint)).toEqual([
      "tls:ua.example.test:5061",
      "udp:[::1]:5070",
      "udp:127.0.0.1:5060",
    ]);
  });
});

describe("ladder arrows", () => {
  const call = entries([
    { direction: "in", raw: request("INVITE"), ms: 0 },
    { direction: "out", raw: response(100, "Trying"), ms: 2 },
    { direction: "in", raw: request("INVITE"), ms: 502, retransmission: true },
    { direction: "out", raw: response(486, "Busy Here"), ms: 514 },
    { direction: "in", raw: request("ACK"), ms: 1514 },
  ]);

  it("draws one arrow per message in journal order, with direction, label and retransmissions", () => {
    const { arrows } = layoutLadder(call);
    expect(arrows.map((a) => [a.label, a.from, a.to, a.retransmission])).toEqual([
      ["INVITE", "udp:127.0.0.1:5070", "udp:127.0.0.1:5060", false],
      ["100 Trying", "udp:127.0.0.1:5060", "udp:127.0.0.1:5070", false],
      ["INVITE", "udp:127.0.0.1:5070", "udp:127.0.0.1:5060", true],
      ["486 Busy Here", "udp:127.0.0.1:5060", "udp:127.0.0.1:5070", false],
      ["ACK", "udp:127.0.0.1:5070", "udp:127.0.0.1:5060", false],
    ]);
    expect(arrows.map((a) => formatDelta(a.deltaMs))).toEqual([
      "+0 ms",
      "+2 ms",
      "+500 ms",
      "+12 ms",
      "+1000 ms",
    ]);
    const ys = arrows.map((a) => a.y);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
  });

  it("names the scenario rule that answered, on the request and its responses (from the journal)", () => {
    const call = entries([
      { direction: "in", raw: request("INVITE"), rule: "busy-for-bob" },
      { direction: "out", raw: response(486, "Busy Here") },
      {
        direction: "in",
        raw: request("OPTIONS", { callId: "call-1", vias: ["SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-2"] }),
      },
    ]);
    expect(layoutLadder(call).arrows.map((x) => x.rule)).toEqual(["busy-for-bob", "busy-for-bob", ""]);
    // Streamed live, the request left before the scenario decided: its response tells the rule.
    const [invite, busy] = call;
    const { rule: _, ...streamed } = invite!;
    expect(layoutLadder([streamed, busy!]).arrows.map((x) => x.rule)).toEqual([
      "busy-for-bob",
      "busy-for-bob",
    ]);
  });

  it("pages a call with thousands of messages and keeps timing across the page edge", () => {
    const many = entries(
      Array.from({ length: 1200 }, (_, i) => ({
        direction: "in" as const,
        raw: request("OPTIONS"),
        ms: i * 10,
      })),
    );
    const page = layoutLadder(many, 500, 500);
    expect(page.arrows).toHaveLength(500);
    expect(page.arrows[0]!.entry.id).toBe(many[500]!.id);
    expect(page.arrows[0]!.deltaMs).toBe(10);
    expect(page.total).toBe(1200);
    expect(layoutLadder(many, 1000, 500).arrows).toHaveLength(200);
  });
});

describe("faults", () => {
  it("uses the fault the journal recorded", () => {
    const [e] = entries([{ direction: "out", raw: response(200, "OK") }]);
    expect(faultOf({ ...e!, faults: ["duplicate (the 200 sent 2 more time(s))"] })).toBe(
      "duplicate (the 200 sent 2 more time(s))",
    );
    expect(faultOf({ ...e!, fault: "noRetransmit" })).toBe("noRetransmit");
  });

  it("marks what the mock sent broken: garbage, a wrong Content-Length, a cut message", () => {
    const [garbage, wrongLength, cut, fine, peerGarbage] = entries([
      { direction: "out", raw: "\x8f\x01\xffnot sip at all" },
      { direction: "out", raw: response(200, "OK", { contentLength: 999 }) },
      { direction: "out", raw: response(200, "OK").slice(0, 60) },
      { direction: "out", raw: response(200, "OK") },
      { direction: "in", raw: "garbage from the peer" },
    ]);
    expect(faultOf(garbage!)).toMatch(/^unparsable/);
    expect(faultOf(wrongLength!)).toBe("contentLength (Content-Length: 999, body 0 octets)");
    expect(faultOf(cut!)).toMatch(/^truncate/);
    expect(faultOf(fine!)).toBe("");
    expect(faultOf(peerGarbage!)).toBe("");
    expect(layoutLadder([fine!, wrongLength!]).arrows.map((a) => a.fault !== "")).toEqual([false, true]);
  });
});
