/**
 * Non-INVITE server transactions Completed over UDP live in the transaction
 * layer's CompletedStore (issue 12): no object each, their responses in a
 * shared arena without the octets they share with a recent response, one
 * timer for all. On a manual clock with real SIP bytes: a retransmission of
 * the request gets the very bytes of the final response, Timer J ends each
 * one exactly 64*T1 after its final response (RFC 3261 17.2.2), the fault
 * noRetransmit still silences them, and shutdown ends them all.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type ParsedRequest, parseDatagram } from "../../src/sip/index.js";
import {
  COMPACTED_TRANSACTION_OVERHEAD,
  COMPLETED_TRANSACTION_OVERHEAD,
  createBudgets,
} from "../../src/transaction/budget.js";
import { CompletedStore, CompletedView } from "../../src/transaction/completed-store.js";
import type { ServerTransaction, TerminationReason } from "../../src/transaction/server-transaction.js";
import { TransactionLayer } from "../../src/transaction/transaction-layer.js";
import type { Flow } from "../../src/transport/types.js";
import { ManualClock } from "../harness/clock.js";
import { crlf, J, T, udp } from "./transaction-fixtures.js";

function request(n: number, method = "OPTIONS"): ParsedRequest {
  const r = parseDatagram(
    crlf(`${method} sip:bob@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-${n}-store;rport
Max-Forwards: 70
From: "Alice" <sip:alice@example.test>;tag=f${n}
To: <sip:bob@example.test>
Call-ID: ${n}-store@10.0.0.1
CSeq: 1 ${method}
Content-Length: 0

`),
  );
  if (!r.ok || r.message.kind !== "request") throw new Error("bad fixture");
  return r.message;
}

/** The final response the UAS would send to request n (real bytes; kinds differ in their tail). */
function response(n: number, kind: "ok" | "busy" | "body" = "ok", method = "OPTIONS"): Buffer {
  const head = `Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-${n}-store;rport=5062;received=10.0.0.1
From: "Alice" <sip:alice@example.test>;tag=f${n}
To: <sip:bob@example.test>;tag=t${n}x
Call-ID: ${n}-store@10.0.0.1
CSeq: 1 ${method}
Server: sipmock/0.1.0
`;
  if (kind === "busy") return crlf(`SIP/2.0 486 Busy Here\n${head}Retry-After: 30\nContent-Length: 0\n\n`);
  if (kind === "body") {
    const body = `v=0\r\no=- ${n} 1 IN IP4 127.0.0.1\r\n`;
    return crlf(
      `SIP/2.0 200 OK\n${head}Content-Type: application/sdp\nContent-Length: ${body.length}\n\n${body}`,
    );
  }
  return crlf(
    `SIP/2.0 200 OK\n${head}Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\nAccept: application/sdp\nSupported: 100rel, timer\nContent-Length: 0\n\n`,
  );
}

const clocks: ManualClock[] = [];
afterEach(() => {
  for (const c of clocks.splice(0)) {
    c.scheduler.stop();
    expect(c.errors).toEqual([]);
  }
});

function harness() {
  const clock = new ManualClock();
  clocks.push(clock);
  const sent: Array<{ at: number; bytes: Buffer; retransmission: boolean }> = [];
  const created: ServerTransaction[] = [];
  const ended: Array<{ tx: ServerTransaction; reason: TerminationReason; at: number; state: string }> = [];
  const retransmitted: ServerTransaction[] = [];
  const layer = new TransactionLayer(
    (_flow, bytes, retransmission) => sent.push({ at: clock.now(), bytes, retransmission }),
    {
      onRequest: (tx) => created.push(tx),
      onAck: () => {},
      onRetransmission: (tx) => retransmitted.push(tx),
      onTerminated: (tx, reason) => ended.push({ tx, reason, at: clock.now(), state: tx.state }),
    },
    clock.scheduler,
    T,
  );
  return { layer, clock, sent, created, ended, retransmitted };
}

describe("non-INVITE transactions Completed over UDP (CompletedStore)", () => {
  it("answer each retransmission with the very bytes of their final response, in a buffer of its own", async () => {
    const h = harness();
    // 3000: past the ring's first size (1024) and several arena chunks; three kinds of response interleaved.
    const kinds = ["ok", "busy", "body"] as const;
    const finals: Buffer[] = [];
    for (let n = 0; n < 3000; n++) {
      h.layer.receive(request(n), udp);
      finals.push(response(n, kinds[n % 3]));
      h.created[n]!.respond(n % 3 === 1 ? 486 : 200, finals[n]!);
    }
    expect(h.layer.size).toBe(3000);
    // One timer for all of them, not one each.
    expect(h.clock.pending).toBe(1);
    await h.clock.advance(1000);
    for (const n of [0, 1, 2, 1023, 1024, 1500, 2999]) {
      expect(h.layer.isRetransmission(request(n))).toBe(true);
      h.layer.receive(request(n), udp);
      const again = h.sent.at(-1)!;
      expect(again.retransmission).toBe(true);
      expect(again.bytes.toString("latin1")).toBe(finals[n]!.toString("latin1"));
      expect(again.bytes.buffer.byteLength).toBe(finals[n]!.length);
      // The TU hears of it with a transaction that says which one.
      const tx = h.retransmitted.at(-1)!;
      expect([tx.id, tx.method, tx.state, tx.request.core.callId]).toEqual([
        h.created[n]!.id,
        "OPTIONS",
        "completed",
        `${n}-store@10.0.0.1`,
      ]);
      expect(tx.lastResponse?.status).toBe(n % 3 === 1 ? 486 : 200);
    }
    expect(h.created).toHaveLength(3000);
  });

  it("end on Timer J exactly 64*T1 after their own final response, oldest first", async () => {
    const h = harness();
    const answeredAt: number[] = [];
    for (let n = 0; n < 5; n++) {
      h.layer.receive(request(n), udp);
      await h.clock.advance(n * 7 + 1);
      h.created[n]!.respond(200, response(n));
      answeredAt.push(h.clock.now());
    }
    await h.clock.advance(answeredAt[0]! + J - 1 - h.clock.now());
    expect(h.ended).toEqual([]);
    await h.clock.advance(J);
    expect(h.ended.map((e) => [e.reason, e.at])).toEqual(answeredAt.map((t) => ["timer-j", t + J]));
    // What the TU is told about each one: its id, method, Call-ID, our To tag, the final response, Terminated.
    const first = h.ended[0]!;
    expect(first.state).toBe("terminated");
    expect(first.tx.id).toBe(h.created[0]!.id);
    expect(first.tx.method).toBe("OPTIONS");
    expect(first.tx.request.core.callId).toBe("0-store@10.0.0.1");
    expect(first.tx.request.core.to.tag).toBeUndefined();
    // Its own To tag, as the transaction had it (not read back from the stored bytes).
    expect(first.tx.toTag).toBe(h.created[0]!.toTag);
    expect(first.tx.lastResponse?.bytes.equals(response(0))).toBe(true);
    expect(h.layer.size).toBe(0);
    expect(h.clock.pending).toBe(0);
    // Ended: the same request is a new transaction now.
    expect(h.layer.isRetransmission(request(0))).toBe(false);
    h.layer.receive(request(0), udp);
    expect(h.created).toHaveLength(6);
  });

  it("with the fault noRetransmit: a retransmission gets nothing, Timer J still ends it", async () => {
    const h = harness();
    h.layer.receive(request(1), udp);
    h.created[0]!.respond(200, response(1), { noRetransmit: true });
    h.layer.receive(request(1), udp);
    h.layer.receive(request(1), udp);
    expect(h.sent.map((s) => s.retransmission)).toEqual([false]);
    expect(h.retransmitted).toHaveLength(2);
    await h.clock.advance(J);
    expect(h.ended.map((e) => [e.reason, e.at])).toEqual([["timer-j", J]]);
  });

  it("shutdown ends every one at once; no timer is left", async () => {
    const h = harness();
    for (let n = 0; n < 3; n++) {
      h.layer.receive(request(n), udp);
      h.created[n]!.respond(200, response(n));
    }
    h.layer.receive(request(9), udp);
    h.layer.terminateAll();
    expect(h.ended.map((e) => e.reason)).toEqual(["shutdown", "shutdown", "shutdown", "shutdown"]);
    expect(h.ended.map((e) => e.tx.id).sort()).toEqual(h.created.map((t) => t.id).sort());
    expect(h.layer.size).toBe(0);
    expect(h.clock.pending).toBe(0);
    await h.clock.advance(2 * J);
    expect(h.ended).toHaveLength(4);
  });

  it("keeps one flow object for alike flows (one per datagram from a peer), and each peer's own", async () => {
    const h = harness();
    const to: string[] = [];
    const layer = new TransactionLayer(
      (flow, _bytes, retransmission) => {
        if (retransmission) to.push(`${flow.remote.address}:${flow.remote.port}`);
      },
      {
        onRequest: (tx) => h.created.push(tx),
        onAck: () => {},
        onRetransmission: (tx) => h.retransmitted.push(tx),
      },
      h.clock.scheduler,
      T,
    );
    const from = (port: number): Flow => ({ ...udp, remote: { address: "10.0.0.1", port } });
    const ports = [5062, 5062, 5070, 5062];
    ports.forEach((port, n) => {
      layer.receive(request(n), from(port));
      h.created[n]!.respond(200, response(n));
    });
    for (const [n, port] of ports.entries()) layer.receive(request(n), from(port));
    expect(to).toEqual(ports.map((p) => `10.0.0.1:${p}`));
    // The first two came from one peer one after the other: one flow object kept for both.
    const flows = h.retransmitted.map((t) => t.flow);
    expect(flows[1]).toBe(flows[0]);
    expect(flows[2]).not.toBe(flows[1]);
  });

  it("a response bigger than a quarter of an arena chunk is kept whole and resent exactly", async () => {
    const h = harness();
    const big = Buffer.concat([response(5, "body"), Buffer.alloc(20_000, 0x61)]);
    h.layer.receive(request(5), udp);
    h.created[0]!.respond(200, big);
    h.layer.receive(request(5), udp);
    expect(h.sent[1]!.bytes.equals(big)).toBe(true);
  });
});

/** An INVITE (its ACK with `ack`; an RFC 2543 branch, without the magic cookie, with `old`). */
function inviteOrAck(n: number, ack?: string, old = false): ParsedRequest {
  const method = ack === undefined ? "INVITE" : "ACK";
  const branch = old ? `old-${n}` : `z9hG4bK-${n}-inv`;
  const r = parseDatagram(
    crlf(`${method} sip:486@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5062;branch=${branch};rport
Max-Forwards: 70
From: <sip:alice@example.test>;tag=f${n}
To: <sip:486@example.test>${ack ? `;tag=${ack}` : ""}
Call-ID: ${n}-inv@10.0.0.1
CSeq: 1 ${method}
Content-Length: 0

`),
  );
  if (!r.ok || r.message.kind !== "request") throw new Error("bad fixture");
  return r.message;
}

describe("INVITE transactions Confirmed over UDP (the ACK came for their 300-699)", () => {
  it("absorb ACKs and INVITE retransmissions, still match a CANCEL, end on Timer I exactly T4 after the ACK", async () => {
    const h = harness();
    const acks: ParsedRequest[] = [];
    const layer = new TransactionLayer(
      (_flow, bytes, retransmission) => h.sent.push({ at: h.clock.now(), bytes, retransmission }),
      {
        onRequest: (tx) => h.created.push(tx),
        onAck: (a) => acks.push(a),
        onTerminated: (tx, reason) => h.ended.push({ tx, reason, at: h.clock.now(), state: tx.state }),
      },
      h.clock.scheduler,
      T,
    );
    layer.receive(inviteOrAck(1), udp);
    const tx = h.created[0]!;
    const busy = response(1, "busy", "INVITE");
    tx.respond(486, busy);
    await h.clock.advance(700);
    layer.receive(inviteOrAck(1, "t1x"), udp);
    expect(tx.state).toBe("confirmed");
    // Timer G and H are gone; the store's one timer is Timer I.
    expect(h.clock.pending).toBe(1);
    const sentBefore = h.sent.length;
    layer.receive(inviteOrAck(1, "t1x"), udp);
    layer.receive(inviteOrAck(1), udp);
    expect(h.sent).toHaveLength(sentBefore);
    expect(acks).toEqual([]);
    const found = layer.findInviteFor(inviteOrAck(1));
    expect([found?.id, found?.state, found?.toTag]).toEqual([tx.id, "confirmed", tx.toTag]);
    await h.clock.advance(T.t4 - 1);
    expect(h.ended).toEqual([]);
    await h.clock.advance(1);
    expect(h.ended.map((e) => [e.reason, e.at, e.tx.id, e.state])).toEqual([
      ["timer-i", 700 + T.t4, tx.id, "terminated"],
    ]);
    expect(layer.size).toBe(0);
    expect(h.clock.pending).toBe(0);
  });

  it("an RFC 2543 ACK with another To tag is not absorbed by a Confirmed one", async () => {
    const h = harness();
    const acks: ParsedRequest[] = [];
    const layer = new TransactionLayer(
      () => {},
      { onRequest: (tx) => h.created.push(tx), onAck: (a) => acks.push(a) },
      h.clock.scheduler,
      T,
    );
    layer.receive(inviteOrAck(2, undefined, true), udp);
    const tx = h.created[0]!;
    // The 486 carries the transaction's To tag, as the UAS writes it.
    tx.respond(
      486,
      Buffer.from(response(2, "busy", "INVITE").toString("latin1").replace("t2x", tx.toTag), "latin1"),
    );
    layer.receive(inviteOrAck(2, tx.toTag, true), udp);
    expect(tx.state).toBe("confirmed");
    layer.receive(inviteOrAck(2, tx.toTag, true), udp);
    expect(acks).toEqual([]);
    layer.receive(inviteOrAck(2, "other", true), udp);
    expect(acks.map((a) => a.core.to.tag)).toEqual(["other"]);
  });
});

/** A transaction layer whose TU records what it is told, and the ACKs it gets with the INVITE they match. */
function acceptedRig() {
  const h = harness();
  const acks: Array<{ tag: string | undefined; with?: ServerTransaction }> = [];
  const layer = new TransactionLayer(
    (_flow, bytes, retransmission) => h.sent.push({ at: h.clock.now(), bytes, retransmission }),
    {
      onRequest: (tx) => h.created.push(tx),
      onAck: (a, _f, invite) => acks.push({ tag: a.core.to.tag, with: invite }),
      onRetransmission: (tx) => h.retransmitted.push(tx),
      onTerminated: (tx, reason) => h.ended.push({ tx, reason, at: h.clock.now(), state: tx.state }),
    },
    h.clock.scheduler,
    T,
  );
  return { h, acks, layer };
}

describe("INVITE transactions Accepted over UDP (a 2xx sent, the request released)", () => {
  it("absorb INVITE retransmissions, hand the ACK to the TU, still send the core's 2xx, end on Timer L exactly", async () => {
    const { h, acks, layer } = acceptedRig();
    layer.receive(inviteOrAck(4), udp);
    const tx = h.created[0]!;
    await h.clock.advance(3);
    const ok = response(4, "body", "INVITE");
    tx.respond(200, ok);
    expect(tx.state).toBe("accepted");
    tx.releaseRequest();
    // Timer L is the store's now: one timer.
    expect(h.clock.pending).toBe(1);
    layer.receive(inviteOrAck(4), udp);
    expect(h.sent).toHaveLength(1);
    expect(h.retransmitted.map((t) => [t.id, t.state])).toEqual([[tx.id, "accepted"]]);
    // The UAS core's 2xx retransmission (13.3.1.4) still goes out through the transaction object.
    await h.clock.advance(T.t1);
    tx.respond(200, ok);
    expect(h.sent.map((s) => [s.at, s.bytes.equals(ok)])).toEqual([
      [3, true],
      [3 + T.t1, true],
    ]);
    layer.receive(inviteOrAck(4, "t4x"), udp);
    expect(acks.map((a) => [a.tag, a.with?.id, a.with?.state])).toEqual([["t4x", tx.id, "accepted"]]);
    expect(layer.findInviteFor(inviteOrAck(4))?.toTag).toBe(tx.toTag);
    await h.clock.advance(3 + J - 1 - h.clock.now());
    expect(h.ended).toEqual([]);
    await h.clock.advance(1);
    expect(h.ended.map((e) => [e.reason, e.at, e.tx.id])).toEqual([["timer-l", 3 + J, tx.id]]);
    // Timer L's time is over: a 2xx passed now is not sent (Terminated).
    tx.respond(200, ok);
    expect(h.sent).toHaveLength(2);
    expect(tx.state).toBe("terminated");
    expect(layer.size).toBe(0);
  });
});

describe("INVITE transactions Accepted over TCP (Timer L is 64*T1 on every transport, RFC 6026 7.1)", () => {
  it("are stored too: no object kept, INVITE retransmissions absorbed, the ACK handed to the TU, Timer L exactly", async () => {
    const { h, acks, layer } = acceptedRig();
    const tcp: Flow = { ...udp, transport: "tcp", connectionId: 1 };
    layer.receive(inviteOrAck(5), tcp);
    const tx = h.created[0]!;
    await h.clock.advance(3);
    tx.respond(200, response(5, "body", "INVITE"));
    tx.releaseRequest();
    // What the layer hands out for it now is a view made from the store, not the object.
    layer.receive(inviteOrAck(5), tcp);
    expect(h.sent).toHaveLength(1);
    expect(h.retransmitted).toHaveLength(1);
    expect(h.retransmitted[0]).toBeInstanceOf(CompletedView);
    expect([h.retransmitted[0]!.id, h.retransmitted[0]!.state]).toEqual([tx.id, "accepted"]);
    layer.receive(inviteOrAck(5, "t5x"), tcp);
    expect(acks.map((a) => [a.tag, a.with?.id, a.with?.state])).toEqual([["t5x", tx.id, "accepted"]]);
    expect(acks[0]!.with).toBeInstanceOf(CompletedView);
    await h.clock.advance(3 + J - 1 - h.clock.now());
    expect(h.ended).toEqual([]);
    await h.clock.advance(1);
    expect(h.ended.map((e) => [e.reason, e.at, e.tx.id])).toEqual([["timer-l", 3 + J, tx.id]]);
    expect(layer.size).toBe(0);
  });
});

describe("the transaction budget of stored transactions", () => {
  it("a Confirmed INVITE is charged COMPLETED_TRANSACTION_OVERHEAD and its 486's octets until Timer I", async () => {
    const h = harness();
    const budgets = createBudgets();
    const layer = new TransactionLayer(
      () => {},
      { onRequest: (tx) => h.created.push(tx), onAck: () => {} },
      h.clock.scheduler,
      T,
      budgets,
    );
    layer.receive(inviteOrAck(3), udp);
    const busy = response(3, "busy", "INVITE");
    h.created[0]!.respond(486, busy);
    expect(budgets.transactions.used).toBe(COMPACTED_TRANSACTION_OVERHEAD + busy.length);
    layer.receive(inviteOrAck(3, "t3x"), udp);
    expect(budgets.transactions.used).toBe(COMPLETED_TRANSACTION_OVERHEAD + busy.length);
    expect(budgets.transactions.items).toBe(1);
    await h.clock.advance(T.t4);
    expect(budgets.transactions.used).toBe(0);
    expect(budgets.transactions.items).toBe(0);
  });
});

describe("CompletedStore: its ring after a burst", () => {
  it("grows a segment at a time, lets segments go as transactions end, and still answers the ones left byte for byte", async () => {
    const clock = new ManualClock();
    clocks.push(clock);
    const resent: Buffer[] = [];
    const ended: number[] = [];
    const store = new CompletedStore(
      { send: (_f, bytes) => resent.push(bytes), ended: (_s, _v, seq) => ended.push(seq) },
      clock.scheduler,
    );
    const seqs: number[] = [];
    // 5000 answered 1 ms apart: the ring grows to 5 segments of 1024 slots.
    for (let n = 0; n < 5000; n++) {
      const tx = { id: `k${n}`, mergeKey: undefined, toTag: `t${n}x`, flow: udp, request: request(n) };
      seqs.push(store.add(tx as unknown as ServerTransaction, response(n), 200, false, J));
      await clock.advance(1);
    }
    expect(store.capacity).toBe(5 * 1024);
    // All but the last 100 end (Timer J of each, in order): the segments they left go.
    await clock.advance(J - 5000 + 4899);
    expect(ended).toHaveLength(4900);
    expect(store.size).toBe(100);
    expect(store.capacity).toBe(1024);
    for (const n of [4900, 4950, 4999]) {
      store.retransmit(seqs[n]!);
      expect(resent.at(-1)!.equals(response(n))).toBe(true);
      expect(store.view(seqs[n]!).toTag).toBe(`t${n}x`);
    }
    await clock.advance(100);
    expect(store.size).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

describe("the transaction layer's lookup of the request in hand", () => {
  it("isRetransmission then receive share one lookup, and a change to the map in between is seen", () => {
    const h = harness();
    const first = request(1);
    const again = request(1);
    expect(h.layer.isRetransmission(first)).toBe(false);
    // Another copy of the request makes the transaction first: `first` is now its retransmission.
    h.layer.receive(again, udp);
    expect(h.layer.isRetransmission(first)).toBe(true);
    h.layer.receive(first, udp);
    expect(h.created).toHaveLength(1);
    // Answered, kept by the store: a retransmission still, and answered from it.
    h.created[0]!.respond(200, response(1));
    const third = request(1);
    expect(h.layer.isRetransmission(third)).toBe(true);
    h.layer.receive(third, udp);
    expect(h.sent.map((s) => s.retransmission)).toEqual([false, true]);
  });

  it("a transaction that ends between isRetransmission and receive: the request makes a new one", async () => {
    const h = harness();
    h.layer.receive(request(2), udp);
    h.created[0]!.respond(200, response(2));
    await h.clock.advance(J - 1);
    const late = request(2);
    expect(h.layer.isRetransmission(late)).toBe(true);
    await h.clock.advance(1);
    expect(h.ended.map((e) => e.reason)).toEqual(["timer-j"]);
    h.layer.receive(late, udp);
    expect(h.created).toHaveLength(2);
    expect(h.sent).toHaveLength(1);
  });
});
