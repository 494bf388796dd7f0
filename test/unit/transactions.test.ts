import { afterEach, describe, expect, it } from "vitest";
import { type ParsedRequest, parseDatagram } from "../../src/sip/index.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import type { ServerTransaction, TerminationReason } from "../../src/transaction/server-transaction.js";
import { TransactionLayer } from "../../src/transaction/transaction-layer.js";
import type { Flow } from "../../src/transport/types.js";

const T = { t1: 500, t2: 4000, t4: 5000 };

function request(text: string): ParsedRequest {
  const r = parseDatagram(Buffer.from(text.replace(/\n/g, "\r\n")));
  if (!r.ok || r.message.kind !== "request")
    throw new Error(`bad fixture: ${r.ok ? "response" : r.error.detail}`);
  return r.message;
}

const invite = (branch = "z9hG4bK-1", extra = "") =>
  request(`INVITE sip:486@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}
Max-Forwards: 70
From: <sip:a@example.test>;tag=f1
To: <sip:486@127.0.0.1>${extra}
Call-ID: call-1@example.test
CSeq: 1 INVITE
Content-Length: 0

`);

const ack = (branch = "z9hG4bK-1", toTag = "t") =>
  request(`ACK sip:486@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}
Max-Forwards: 70
From: <sip:a@example.test>;tag=f1
To: <sip:486@127.0.0.1>;tag=${toTag}
Call-ID: call-1@example.test
CSeq: 1 ACK
Content-Length: 0

`);

const udp: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "10.0.0.1", port: 5060 },
};
const tcp: Flow = { ...udp, transport: "tcp", connectionId: 1 };

/** A harness with a manual clock: `advance(ms)` runs every timer due by then. */
function harness() {
  let now = 0;
  const scheduler = new Scheduler({ now: () => now });
  const sent: Array<{ at: number; bytes: string; retransmission: boolean }> = [];
  const created: ServerTransaction[] = [];
  const ended: Array<{ tx: ServerTransaction; reason: TerminationReason; at: number }> = [];
  const acks: ParsedRequest[] = [];
  const layer = new TransactionLayer(
    (_flow, bytes, retransmission) => sent.push({ at: now, bytes: bytes.toString(), retransmission }),
    {
      onRequest: (tx) => created.push(tx),
      onAck: (a) => acks.push(a),
      onTerminated: (tx, reason) => ended.push({ tx, reason, at: now }),
    },
    scheduler,
    T,
  );
  const advance = (ms: number) => {
    const target = now + ms;
    // step through so that timers scheduled by timers also run in order
    while (now < target) {
      now = Math.min(target, now + 10);
      scheduler.runDue();
    }
  };
  return { layer, scheduler, sent, created, ended, acks, advance };
}

let stopAll: Array<() => void> = [];
afterEach(() => {
  for (const s of stopAll) s();
  stopAll = [];
});

describe("INVITE server transaction (RFC 3261 17.2.1)", () => {
  it("retransmits a non-2xx final on Timer G (T1, 2T1, 4T1... capped at T2) and ends on Timer H", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite(), udp);
    const tx = h.created[0]!;
    tx.respond(486, Buffer.from("486"));
    expect(tx.state).toBe("completed");
    h.advance(64 * T.t1 + 50);
    const times = h.sent.filter((s) => s.retransmission).map((s) => s.at);
    // G fires at 500, 1500, 3500, 7500, then every T2 (4000) until H at 32000.
    expect(times).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(h.ended).toEqual([{ tx, reason: "timer-h", at: 32000 }]);
    expect(h.layer.size).toBe(0);
  });

  it("stops retransmitting when the ACK arrives, absorbs ACKs for T4, then frees the transaction", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite(), udp);
    const tx = h.created[0]!;
    tx.respond(486, Buffer.from("486"));
    h.advance(600);
    expect(h.sent.filter((s) => s.retransmission)).toHaveLength(1);
    h.layer.receive(ack("z9hG4bK-1", tx.toTag), udp);
    expect(tx.state).toBe("confirmed");
    h.layer.receive(ack("z9hG4bK-1", tx.toTag), udp); // absorbed
    h.advance(T.t4 + 20);
    expect(h.sent.filter((s) => s.retransmission)).toHaveLength(1);
    expect(h.ended.map((e) => e.reason)).toEqual(["timer-i"]);
    expect(h.acks).toHaveLength(0);
    expect(h.layer.size).toBe(0);
  });

  it("answers a retransmitted INVITE with the last response, and does not create a second transaction", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite(), udp);
    const tx = h.created[0]!;
    tx.respond(180, Buffer.from("180"));
    h.layer.receive(invite(), udp);
    expect(h.created).toHaveLength(1);
    expect(h.sent.map((s) => s.bytes)).toEqual(["180", "180"]);
    expect(h.sent[1]!.retransmission).toBe(true);
  });

  it("moves to Accepted on 2xx (RFC 6026), absorbs INVITE retransmissions and passes the ACK to the TU", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite(), udp);
    const tx = h.created[0]!;
    tx.respond(200, Buffer.from("200"));
    expect(tx.state).toBe("accepted");
    h.layer.receive(invite(), udp);
    expect(h.sent).toHaveLength(1);
    h.layer.receive(ack("z9hG4bK-other", tx.toTag), udp);
    expect(h.acks).toHaveLength(1);
    h.advance(64 * T.t1 + 20);
    expect(h.ended.map((e) => e.reason)).toEqual(["timer-l"]);
  });

  it("does not retransmit over TCP and ends at once on the ACK (Timer I = 0)", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite(), tcp);
    const tx = h.created[0]!;
    tx.respond(603, Buffer.from("603"));
    h.advance(5000);
    expect(h.sent.filter((s) => s.retransmission)).toHaveLength(0);
    h.layer.receive(ack("z9hG4bK-1", tx.toTag), tcp);
    expect(h.ended.map((e) => e.reason)).toEqual(["timer-i"]);
  });

  it("honours the noRetransmit fault: the final response is sent once", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite(), udp);
    h.created[0]!.respond(486, Buffer.from("486"), { noRetransmit: true });
    h.advance(10_000);
    expect(h.sent).toHaveLength(1);
  });
});

describe("non-INVITE server transaction (RFC 3261 17.2.2)", () => {
  const options = (branch = "z9hG4bK-o1") =>
    request(`OPTIONS sip:bob@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}
From: <sip:a@example.test>;tag=f1
To: <sip:bob@127.0.0.1>
Call-ID: call-2@example.test
CSeq: 7 OPTIONS
Content-Length: 0

`);

  it("discards retransmissions in Trying, resends the final in Completed, ends on Timer J", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(options(), udp);
    const tx = h.created[0]!;
    h.layer.receive(options(), udp);
    expect(h.sent).toHaveLength(0);
    tx.respond(200, Buffer.from("200"));
    h.layer.receive(options(), udp);
    expect(h.sent.map((s) => [s.bytes, s.retransmission])).toEqual([
      ["200", false],
      ["200", true],
    ]);
    h.advance(64 * T.t1 - 20);
    expect(h.ended).toHaveLength(0);
    h.advance(40);
    expect(h.ended.map((e) => e.reason)).toEqual(["timer-j"]);
    expect(h.layer.size).toBe(0);
  });

  it("ends immediately after the final response over TCP", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(options(), tcp);
    h.created[0]!.respond(200, Buffer.from("200"));
    expect(h.ended.map((e) => e.reason)).toEqual(["completed"]);
  });
});

describe("matching (RFC 3261 17.2.3, 9.2, 8.2.2.2)", () => {
  it("matches CANCEL to its INVITE by branch and sent-by", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite(), udp);
    const cancel = request(`CANCEL sip:486@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1
From: <sip:a@example.test>;tag=f1
To: <sip:486@127.0.0.1>
Call-ID: call-1@example.test
CSeq: 1 CANCEL
Content-Length: 0

`);
    expect(h.layer.findInviteFor(cancel)).toBe(h.created[0]);
    const other = request(
      cancel.headers.toArray().length
        ? `CANCEL sip:486@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-1
From: <sip:a@example.test>;tag=f1
To: <sip:486@127.0.0.1>
Call-ID: call-1@example.test
CSeq: 1 CANCEL
Content-Length: 0

`
        : "",
    );
    expect(h.layer.findInviteFor(other)).toBeUndefined();
  });

  it("detects a merged request: same From tag, Call-ID and CSeq, other branch", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite("z9hG4bK-a"), udp);
    h.layer.receive(invite("z9hG4bK-b"), udp);
    expect(h.created).toHaveLength(2);
    expect(h.layer.findMergedWith(h.created[1]!.request, h.created[1]!)).toBe(h.created[0]);
    expect(h.layer.findMergedWith(h.created[0]!.request, h.created[0]!)).toBeUndefined();
  });

  it("matches RFC 2543 requests (no magic cookie) by their dialog fields and top Via", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite("old-style-1"), udp);
    h.layer.receive(invite("old-style-1"), udp);
    expect(h.created).toHaveLength(1);
    const tx = h.created[0]!;
    tx.respond(486, Buffer.from("486"));
    h.layer.receive(ack("old-style-1", tx.toTag), udp);
    expect(tx.state).toBe("confirmed");
  });

  it("gives every transaction its own To tag and keeps the tag of an in-dialog request", () => {
    const h = harness();
    stopAll.push(() => h.scheduler.stop());
    h.layer.receive(invite("z9hG4bK-a"), udp);
    h.layer.receive(invite("z9hG4bK-c", ";tag=existing"), udp);
    expect(h.created[0]!.toTag).toMatch(/^[0-9a-f]{12}$/);
    expect(h.created[1]!.toTag).toBe("existing");
  });
});

/** A response to the client transactions below, parsed from real bytes. */
function response(status: number, reason: string, method: string, branch = "z9hG4bK-c1", toTag = "t9") {
  const r = parseDatagram(
    Buffer.from(
      `SIP/2.0 ${status} ${reason}
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}
From: <sip:sipmock@127.0.0.1>;tag=m1
To: <sip:bob@example.test>;tag=${toTag}
Call-ID: out-1@127.0.0.1
CSeq: 1 ${method}
Content-Length: 0

`.replace(/\n/g, "\r\n"),
    ),
  );
  if (!r.ok || r.message.kind !== "response") throw new Error("bad fixture");
  return r.message;
}

function clientHarness() {
  const h = harness();
  stopAll.push(() => h.scheduler.stop());
  const events: string[] = [];
  const at = () => h.sent.at(-1)?.at ?? 0;
  return { ...h, events, at };
}

describe("INVITE client transaction (RFC 3261 17.1.1, RFC 6026 7.2)", () => {
  const start = (h: ReturnType<typeof clientHarness>, flow: Flow = udp) =>
    h.layer.sendInvite(flow, Buffer.from("INVITE"), "z9hG4bK-c1", (r) => Buffer.from(`ACK for ${r.status}`), {
      provisional: (r) => h.events.push(`provisional ${r.status}`),
      final: (r) => h.events.push(`final ${r.status}`),
      retransmitted2xx: (r) => h.events.push(`2xx again ${r.status}`),
      timeout: () => h.events.push("timeout"),
      transportError: (e) => h.events.push(`transport ${e.message}`),
    });

  it("retransmits on Timer A (T1, 2T1, 4T1... not capped) and times out on Timer B in Calling", () => {
    const h = clientHarness();
    start(h);
    h.advance(64 * T.t1 + 50);
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(h.events).toEqual(["timeout"]);
  });

  it("a provisional stops Timer A, and Timer B does not end a ringing INVITE (Proceeding)", () => {
    const h = clientHarness();
    const tx = start(h);
    h.advance(600);
    expect(h.layer.receiveResponse(response(180, "Ringing", "INVITE"))).toBe(true);
    h.advance(64 * T.t1 * 2);
    expect(h.sent.map((s) => s.at)).toEqual([0, 500]);
    expect(tx.state).toBe("proceeding");
    expect(h.events).toEqual(["provisional 180"]);
    // 9.1: after a CANCEL the TU gives up 64*T1 later.
    tx.giveUpAfterCancel();
    h.advance(64 * T.t1 + 50);
    expect(h.events).toEqual(["provisional 180", "timeout"]);
  });

  it("ACKs a failure itself, re-sends that ACK for each retransmission of it, ends on Timer D", () => {
    const h = clientHarness();
    const tx = start(h);
    h.layer.receiveResponse(response(486, "Busy Here", "INVITE"));
    h.layer.receiveResponse(response(486, "Busy Here", "INVITE"));
    expect(h.sent.map((s) => s.bytes)).toEqual(["INVITE", "ACK for 486", "ACK for 486"]);
    expect(h.events).toEqual(["final 486"]);
    expect(tx.state).toBe("completed");
    h.advance(32_000 + 20);
    expect(tx.state).toBe("terminated");
  });

  it("2xx: Accepted, every further 2xx to the TU (it ACKs), ended by Timer M (64*T1)", () => {
    const h = clientHarness();
    const tx = start(h);
    h.layer.receiveResponse(response(200, "OK", "INVITE"));
    h.layer.receiveResponse(response(200, "OK", "INVITE"));
    expect(h.events).toEqual(["final 200", "2xx again 200"]);
    expect(h.sent.map((s) => s.bytes)).toEqual(["INVITE"]);
    expect(tx.state).toBe("accepted");
    h.advance(64 * T.t1 + 20);
    expect(tx.state).toBe("terminated");
    expect(h.layer.receiveResponse(response(200, "OK", "INVITE"))).toBe(false);
  });

  it("over TCP: no Timer A; Timer D is zero", () => {
    const h = clientHarness();
    const tx = start(h, tcp);
    h.advance(5000);
    expect(h.sent).toHaveLength(1);
    h.layer.receiveResponse(response(603, "Decline", "INVITE"));
    h.advance(20);
    expect(tx.state).toBe("terminated");
  });

  it("a response with another branch or method matches nothing (17.1.3)", () => {
    const h = clientHarness();
    start(h);
    expect(h.layer.receiveResponse(response(200, "OK", "INVITE", "z9hG4bK-other"))).toBe(false);
    expect(h.layer.receiveResponse(response(200, "OK", "CANCEL"))).toBe(false);
    expect(h.events).toEqual([]);
  });
});

describe("non-INVITE client transaction (RFC 3261 17.1.2)", () => {
  const start = (h: ReturnType<typeof clientHarness>, flow: Flow = udp) =>
    h.layer.sendRequest(flow, Buffer.from("OPTIONS"), "z9hG4bK-c1", "OPTIONS", {
      final: (r) => h.events.push(`final ${r.status}`),
      timeout: () => h.events.push("timeout"),
      transportError: (e) => h.events.push(`transport ${e.message}`),
    });

  it("retransmits on Timer E doubling to T2, every T2 once Proceeding, gives up on Timer F", () => {
    const h = clientHarness();
    start(h);
    h.advance(5000);
    h.layer.receiveResponse(response(100, "Trying", "OPTIONS"));
    h.advance(64 * T.t1);
    const times = h.sent.map((s) => s.at);
    expect(times.slice(0, 5)).toEqual([0, 500, 1500, 3500, 7500]);
    // Proceeding from 5000: every T2 (4000).
    expect(times.slice(5)).toEqual([11500, 15500, 19500, 23500, 27500, 31500]);
    expect(h.events).toEqual(["timeout"]);
  });

  it("a final response ends retransmissions; its copies are absorbed for Timer K (T4)", () => {
    const h = clientHarness();
    start(h);
    h.layer.receiveResponse(response(200, "OK", "OPTIONS"));
    h.advance(T.t4 - 100);
    expect(h.layer.receiveResponse(response(200, "OK", "OPTIONS"))).toBe(true);
    expect(h.events).toEqual(["final 200"]);
    h.advance(200);
    expect(h.layer.receiveResponse(response(200, "OK", "OPTIONS"))).toBe(false);
    expect(h.sent).toHaveLength(1);
  });
});

describe("client transactions and the transport (17.1.1.2, 17.1.2.2, 8.1.3.1)", () => {
  it("a transport error ends the transaction at once and tells the TU", () => {
    let now = 0;
    const scheduler = new Scheduler({ now: () => now });
    stopAll.push(() => scheduler.stop());
    const events: string[] = [];
    const layer = new TransactionLayer(
      (_flow, _bytes, _retransmission, failed) => failed?.(new Error("ECONNREFUSED")),
      { onRequest: () => {}, onAck: () => {} },
      scheduler,
      T,
    );
    layer.sendRequest(tcp, Buffer.from("OPTIONS"), "z9hG4bK-c2", "OPTIONS", {
      timeout: () => events.push("timeout"),
      transportError: (e) => events.push(`transport ${e.message}`),
    });
    const tx = layer.sendInvite(tcp, Buffer.from("INVITE"), "z9hG4bK-c3", () => Buffer.from("ACK"), {
      timeout: () => events.push("timeout"),
      transportError: (e) => events.push(`transport ${e.message}`),
    });
    now = 64 * T.t1 + 1;
    scheduler.runDue();
    expect(events).toEqual(["transport ECONNREFUSED", "transport ECONNREFUSED"]);
    expect(tx.state).toBe("terminated");
  });
});
