/**
 * Server transaction timers fire at their RFC 3261 times to the
 * millisecond (the scheduler calls the transaction itself, no closure per
 * timer), and a Completed transaction whose request was compacted still
 * answers a retransmission with the very bytes of its final response.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ParsedRequest, parseDatagram } from "../../src/sip/index.js";
import type { ServerTransaction, TerminationReason } from "../../src/transaction/server-transaction.js";
import { TransactionLayer } from "../../src/transaction/transaction-layer.js";
import type { Flow } from "../../src/transport/types.js";
import { ManualClock } from "../harness/clock.js";

const T = { t1: 500, t2: 4000, t4: 5000 };

function request(method: string, extra = "", cseqMethod = method): ParsedRequest {
  const text = `${method} sip:bob@127.0.0.1;transport=udp SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-${method === "ACK" ? "INVITE" : method};rport
Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-proxy
Max-Forwards: 70
From: "A" <sip:a@example.test;user=phone>;tag=f1
To: <sip:bob@127.0.0.1>${extra}
Call-ID: call-timers@example.test
CSeq: 1 ${cseqMethod}
Content-Length: 0

`;
  const r = parseDatagram(Buffer.from(text.replace(/\n/g, "\r\n")));
  if (!r.ok || r.message.kind !== "request") throw new Error("bad fixture");
  return r.message;
}

const udp: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "10.0.0.1", port: 5060 },
};

/** Every clock of a test: no timer callback may have thrown. */
const clocks: ManualClock[] = [];
afterEach(() => {
  for (const c of clocks.splice(0)) expect(c.errors).toEqual([]);
});

function harness() {
  const clock = new ManualClock();
  clocks.push(clock);
  const scheduler = clock.scheduler;
  const sent: Array<{ at: number; bytes: Buffer; retransmission: boolean }> = [];
  const created: ServerTransaction[] = [];
  const ended: Array<{ reason: TerminationReason; at: number }> = [];
  const layer = new TransactionLayer(
    (_flow, bytes, retransmission) => sent.push({ at: clock.now(), bytes, retransmission }),
    {
      onRequest: (tx) => created.push(tx),
      onAck: () => {},
      onTerminated: (_tx, reason) => ended.push({ reason, at: clock.now() }),
    },
    scheduler,
    T,
  );
  /** Each timer runs at its exact deadline (ManualClock stops at every one). */
  const advance = (ms: number) => clock.advance(ms);
  return { layer, scheduler, sent, created, ended, advance, clock };
}

describe("server transaction timers on a manual clock, to the millisecond", () => {
  it("non-INVITE over UDP: Timer J ends it 64*T1 after the final response; retransmissions get the same bytes", async () => {
    const h = harness();
    h.layer.receive(request("OPTIONS"), udp);
    const tx = h.created[0]!;
    await h.advance(7);
    const final = Buffer.from("SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n");
    tx.respond(200, final);
    // Compacted (the request's rows go), the response kept in a buffer of its own.
    expect(tx.request.headers.size).toBe(0);
    await h.advance(1000);
    expect(h.layer.isRetransmission(request("OPTIONS"))).toBe(true);
    h.layer.receive(request("OPTIONS"), udp);
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1]!.retransmission).toBe(true);
    expect(h.sent[1]!.bytes.equals(final)).toBe(true);
    await h.advance(64 * T.t1 - 1000 - 1);
    expect(h.ended).toEqual([]);
    await h.advance(1);
    expect(h.ended).toEqual([{ reason: "timer-j", at: 7 + 64 * T.t1 }]);
    expect(h.layer.size).toBe(0);
    expect(h.scheduler.pending).toBe(0);
  });

  it("INVITE 486 over UDP: Timer G at T1, 2T1, 4T1..., the ACK stops it, Timer I ends it T4 later", async () => {
    const h = harness();
    h.layer.receive(request("INVITE"), udp);
    const tx = h.created[0]!;
    const final = Buffer.from("SIP/2.0 486 Busy Here\r\nCSeq: 1 INVITE\r\n\r\n");
    tx.respond(486, final);
    await h.advance(4000);
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500]);
    expect(h.sent.every((s) => s.bytes.equals(final))).toBe(true);
    h.layer.receive(request("INVITE"), udp);
    expect(h.sent.at(-1)!.bytes.equals(final)).toBe(true);
    h.layer.receive(request("ACK", `;tag=${tx.toTag}`, "ACK"), udp);
    expect(tx.state).toBe("confirmed");
    await h.advance(T.t4 - 1);
    expect(h.ended).toEqual([]);
    await h.advance(1);
    expect(h.ended).toEqual([{ reason: "timer-i", at: 4000 + T.t4 }]);
    expect(h.sent).toHaveLength(5);
    expect(h.scheduler.pending).toBe(0);
  });

  it("INVITE 486 never acknowledged: Timer H at 64*T1; INVITE 200: Timer L at 64*T1", async () => {
    const h = harness();
    h.layer.receive(request("INVITE"), udp);
    h.created[0]!.respond(486, Buffer.from("486"));
    await h.advance(64 * T.t1 - 1);
    expect(h.ended).toEqual([]);
    await h.advance(1);
    expect(h.ended).toEqual([{ reason: "timer-h", at: 64 * T.t1 }]);
    expect(h.sent.filter((s) => s.retransmission).at(-1)!.at).toBe(31500);

    const l = harness();
    l.layer.receive(request("INVITE"), udp);
    l.created[0]!.respond(200, Buffer.from("200"));
    await l.advance(64 * T.t1 - 1);
    expect(l.ended).toEqual([]);
    await l.advance(1);
    expect(l.ended).toEqual([{ reason: "timer-l", at: 64 * T.t1 }]);
    expect(l.sent).toHaveLength(1);
  });

  it("a merged request (same From tag, Call-ID, CSeq, another branch) is found until the first one ends", async () => {
    const h = harness();
    h.layer.receive(request("OPTIONS"), udp);
    const other = request("OPTIONS").core.via[0]!.raw.replace("z9hG4bK-OPTIONS", "z9hG4bK-forked");
    const forked = parseDatagram(
      Buffer.from(
        `OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: ${other}\r\nMax-Forwards: 70\r\nFrom: <sip:a@example.test>;tag=f1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: call-timers@example.test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
      ),
    );
    if (!forked.ok || forked.message.kind !== "request") throw new Error("bad fixture");
    h.created[0]!.respond(200, Buffer.from("200"));
    h.layer.receive(forked.message, udp);
    const second = h.created[1]!;
    // The first one is Completed (kept in the CompletedStore): found as a view of it, by its key.
    expect(h.layer.findMergedWith(second.request, second)?.id).toBe(h.created[0]!.id);
    second.respond(482, Buffer.from("482"));
    await h.advance(64 * T.t1);
    expect(h.ended.map((e) => e.reason)).toEqual(["timer-j", "timer-j"]);
    // Both ended: a new request with that key is merged with nothing.
    h.layer.receive(forked.message, udp);
    const third = h.created[2]!;
    expect(h.layer.findMergedWith(third.request, third)).toBeUndefined();
  });
});
