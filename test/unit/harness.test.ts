/**
 * The deterministic harness itself (test/harness): a manual clock that runs
 * every SIP timer at exactly its deadline, an in-memory wire that records
 * what the mock sends and injects what arrives, parsed like the real
 * listeners do.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../harness/clock.js";
import { createHarness, type Harness, res } from "../harness/harness.js";
import { ack, invite, options, peer, unique } from "../harness/messages.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("ManualClock", () => {
  it("runs timers at exactly their deadlines, in order, timers scheduled by timers included", async () => {
    const clock = new ManualClock();
    const ran: Array<[string, number]> = [];
    clock.scheduler.schedule(300, () => ran.push(["b", clock.now()]));
    clock.scheduler.schedule(100, () => {
      ran.push(["a", clock.now()]);
      clock.scheduler.schedule(50, () => ran.push(["a+50", clock.now()]));
      clock.scheduler.schedule(0, () => ran.push(["a+0", clock.now()]));
    });
    const cancelled = clock.scheduler.schedule(200, () => ran.push(["cancelled", clock.now()]));
    cancelled.cancel();
    await clock.advance(99);
    expect(ran).toEqual([]);
    await clock.advance(1);
    expect(ran).toEqual([
      ["a", 100],
      ["a+0", 100],
    ]);
    await clock.advance(1000);
    expect(ran).toEqual([
      ["a", 100],
      ["a+0", 100],
      ["a+50", 150],
      ["b", 300],
    ]);
    expect(clock.now()).toBe(1100);
    expect(clock.pending).toBe(0);
    expect(clock.errors).toEqual([]);
  });

  it("moves wall time with monotonic time", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    await clock.advance(1234);
    expect(clock.wall()).toBe(Date.UTC(2030, 0, 1) + 1234);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });

  it("reports a throwing timer and goes on", async () => {
    const clock = new ManualClock();
    const ran: number[] = [];
    clock.scheduler.schedule(10, () => {
      throw new Error("boom");
    });
    clock.scheduler.schedule(20, () => ran.push(clock.now()));
    await clock.advance(20);
    expect(ran).toEqual([20]);
    expect((clock.errors[0] as Error).message).toBe("boom");
  });
});

describe("harness: the mock on an in-memory wire", () => {
  it("listens on the default UDP and TCP pair without a socket, and answers over the wire", async () => {
    h = await createHarness();
    expect(h.mock.listeners.map((l) => `${l.transport}:${l.address}:${l.port}`)).toEqual([
      "udp:127.0.0.1:5060",
      "tcp:127.0.0.1:5060",
    ]);
    const p = peer();
    await h.send(options(p));
    const ok = h.next({ status: 200, method: "OPTIONS" });
    expect(ok.at).toBe(0);
    expect(ok.flow.transport).toBe("udp");
    // rport: the answer goes to the source port (RFC 3581), parsed with the stack's parser.
    expect(ok.to).toEqual(p.from);
    expect(res(ok).core.callId).toBe(p.callId);
    expect(h.mock.requests({ method: "OPTIONS" })).toHaveLength(1);
  });

  it("sends nothing before a timer's deadline and each retransmission exactly at it", async () => {
    h = await createHarness();
    const p = peer();
    const inv = invite(p);
    await h.send(inv.text);
    expect(h.sent().map((s) => s.text.split("\r\n", 1)[0])).toEqual([
      "SIP/2.0 100 Trying",
      "SIP/2.0 180 Ringing",
      "SIP/2.0 200 OK",
    ]);
    await h.advance(499);
    expect(h.sent({ status: 200 })).toHaveLength(1);
    await h.advance(1);
    expect(h.sent({ status: 200 }).map((s) => s.at)).toEqual([0, 500]);
    p.toTag = res(h.sent({ status: 200 })[0]).core.to.tag;
    await h.advance(1000);
    expect(h.sent({ status: 200 }).map((s) => s.at)).toEqual([0, 500, 1500]);
    await h.send(ack(p, inv));
    await h.advance(60_000);
    expect(h.sent({ status: 200 }).map((s) => s.at)).toEqual([0, 500, 1500]);
  });

  it("answers an injected request that does not parse with a 400 naming the problem", async () => {
    h = await createHarness();
    const callId = `${unique()}@example.test`;
    await h.send(
      [
        "OPTIONS sip:bob@127.0.0.1:5060 SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-bad1",
        "Max-Forwards: 70",
        "From: <sip:alice@example.test>;tag=1",
        "To: <sip:bob@127.0.0.1>",
        `Call-ID: ${callId}`,
        "CSeq: not-a-number OPTIONS",
        "Content-Length: 0",
        "",
        "",
      ].join("\n"),
    );
    const bad = h.next({ status: 400 });
    expect(bad.text).toMatch(/^SIP\/2\.0 400 Bad Request: malformed CSeq/);
    expect(bad.text).toContain(`Call-ID: ${callId}\r\n`);
    expect(bad.at).toBe(0);
    // Nothing else: the 400 is stateless, no retransmission follows.
    await h.advance(40_000);
    expect(h.sent()).toHaveLength(1);
  });

  it("frames TCP like a connection: two messages in one segment, answers on that connection", async () => {
    h = await createHarness();
    const p = peer({ transport: "TCP" });
    const flow = await (async () => {
      const text = `${options(p)}${options(p)}`.replace(/\n/g, "\r\n");
      await h!.send(text, { transport: "tcp" });
      return h!.wire.connectionOf("tcp");
    })();
    const answers = h.sent({ status: 200 });
    expect(answers).toHaveLength(2);
    expect(answers.map((a) => a.flow.connectionId)).toEqual([flow!.connectionId, flow!.connectionId]);
    expect(answers.map((a) => res(a).core.cseq.seq)).toEqual([1, 2]);
  });

  it("records a tcp fault (reset) on the connection; the peer's next message opens a new one", async () => {
    h = await createHarness({
      scenario: [
        "name: t",
        "rules:",
        "  - match: { method: OPTIONS }",
        "    respond: 200",
        "    fault: { tcp: reset }",
        "",
      ].join("\n"),
    });
    const p = peer({ transport: "TCP" });
    await h.send(options(p), { transport: "tcp" });
    const ok = h.next({ status: 200 });
    expect(h.wire.connections.map((c) => [c.kind, c.connectionId, c.at])).toEqual([
      ["open", ok.flow.connectionId, 0],
      ["reset", ok.flow.connectionId, 0],
    ]);
    // The peer's next message comes on a new connection, answered there.
    await h.send(options(p), { transport: "tcp" });
    const again = h.next({ status: 200 });
    expect(again.flow.connectionId).not.toBe(ok.flow.connectionId);
  });

  it("journals messages in and out at the manual clock's wall time", async () => {
    h = await createHarness();
    await h.advance(1500);
    await h.send(options(peer()));
    const times = h.mock.journal.entries().map((e) => `${e.direction} ${e.time}`);
    const at = new Date(h.clock.wall()).toISOString();
    expect(times).toEqual([`in ${at}`, `out ${at}`]);
    expect(at).toBe("2026-01-01T00:00:01.500Z");
  });

  it("carries WebSocket messages on their connection", async () => {
    h = await createHarness({ listen: ["ws:127.0.0.1:0"] });
    expect(h.mock.listeners.map((l) => l.transport)).toEqual(["ws"]);
    const flow = h.wire.inject(options(peer({ transport: "WS" })), { transport: "ws" });
    await h.advance(0);
    const ok = h.next({ status: 200 });
    expect(ok.flow.transport).toBe("ws");
    expect(ok.flow.connectionId).toBe(flow.connectionId);
  });

  it("records a datagram sent from another port (the fromOtherPort fault)", async () => {
    h = await createHarness({
      scenario:
        "name: t\nrules:\n  - match: { method: OPTIONS }\n    respond: 486\n    fault: { fromOtherPort: true }\n",
    });
    await h.send(options(peer()));
    const busy = h.next({ status: 486 });
    expect(busy.via).toBe("other-port");
    expect(busy.flow.localSocket?.port).not.toBe(5060);
  });
});
