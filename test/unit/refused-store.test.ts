/**
 * Stateless refusals remembered (RFC 3261 8.2.7, issue 12): a request the
 * TU refuses before it has a transaction is remembered over UDP for 64*T1
 * under its key, so its retransmissions get the same 503 (same reason) even
 * once the TU would accept it, and its ACK is absorbed. Real bytes, a manual
 * clock.
 */
import { describe, expect, it } from "vitest";
import { type ParsedRequest, parseDatagram } from "../../src/sip/index.js";
import { createBudgets } from "../../src/transaction/budget.js";
import type { OverloadReason } from "../../src/transaction/overload.js";
import { RefusedStore } from "../../src/transaction/refused-store.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import { SEQ_WRAP } from "../../src/transaction/store-segments.js";
import { TransactionLayer } from "../../src/transaction/transaction-layer.js";
import type { Flow } from "../../src/transport/types.js";

const T = { t1: 500, t2: 4000, t4: 5000 };
const udp: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "10.0.0.1", port: 5062 },
};
const tcp: Flow = { ...udp, transport: "tcp", connectionId: 7 };

function parse(text: string): ParsedRequest {
  const r = parseDatagram(Buffer.from(text.replace(/\n/g, "\r\n"), "latin1"));
  if (!r.ok || r.message.kind !== "request") throw new Error("bad fixture");
  return r.message;
}

/** An INVITE, its ACK (To tag `toTag`) or its CANCEL, on branch `branch`. */
function msg(method: "INVITE" | "ACK" | "CANCEL", branch: string, toTag = ""): ParsedRequest {
  const cseq = method === "INVITE" || method === "CANCEL" ? method : "ACK";
  return parse(`${method} sip:200@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5062;branch=${branch};rport
Max-Forwards: 70
From: <sip:a@example.test>;tag=f-${branch}
To: <sip:200@127.0.0.1>${toTag ? `;tag=${toTag}` : ""}
Call-ID: ${branch}@example.test
CSeq: 1 ${cseq}
Content-Length: 0

`);
}

/** A layer whose TU refuses while `refusing` holds, recording what it was asked. */
function rig(refusing: OverloadReason | undefined = "udp-receive-queue") {
  let now = 0;
  const scheduler = new Scheduler({ now: () => now });
  const state: { refusing: OverloadReason | undefined } = { refusing };
  const log: string[] = [];
  const layer = new TransactionLayer(
    (_f, bytes) => log.push(`layer sent ${bytes.toString("latin1").split("\r\n")[0]}`),
    {
      refuse: (r) => {
        log.push(`refuse ${r.method} ${state.refusing ?? "-"}`);
        return state.refusing;
      },
      refuseAgain: (r, _f, reason) => log.push(`again ${r.method} ${reason}`),
      onRequest: (tx) => log.push(`tx ${tx.method}`),
      onAck: (ack) => log.push(`ack ${ack.core.to.tag}`),
    },
    scheduler,
    T,
    createBudgets(),
  );
  return {
    layer,
    log,
    state,
    advance: (ms: number) => {
      now += ms;
      scheduler.runDue();
    },
  };
}

describe("stateless refusals remembered over UDP", () => {
  it("gives a retransmission the same refusal, absorbs the ACK, and forgets after 64*T1", () => {
    const { layer, log, state, advance } = rig();
    layer.receive(msg("INVITE", "z9hG4bK-1"), udp);
    expect(log).toEqual(["refuse INVITE udp-receive-queue"]);
    expect(layer.refused).toBe(1);
    expect(layer.size).toBe(0);
    expect(layer.isRetransmission(msg("INVITE", "z9hG4bK-1"))).toBe(true);
    // The load is gone: the retransmission still gets the refusal, not a call.
    state.refusing = undefined;
    advance(T.t1);
    layer.receive(msg("INVITE", "z9hG4bK-1"), udp);
    expect(log[1]).toBe("again INVITE udp-receive-queue");
    // 8.2.7: the ACK of the 503 is ignored; a CANCEL finds no INVITE to cancel.
    layer.receive(msg("ACK", "z9hG4bK-1", "their-503-tag"), udp);
    expect(layer.findInviteFor(msg("CANCEL", "z9hG4bK-1"))).toBeUndefined();
    expect(log).toHaveLength(2);
    // Just before 64*T1 it is still remembered, and the layer sent nothing (no Timer G for a refusal).
    advance(64 * T.t1 - T.t1 - 1);
    expect(log).toHaveLength(2);
    expect(layer.refused).toBe(1);
    advance(1);
    expect(layer.refused).toBe(0);
    expect(layer.isRetransmission(msg("INVITE", "z9hG4bK-1"))).toBe(false);
    layer.receive(msg("INVITE", "z9hG4bK-1"), udp);
    expect(log.slice(2)).toEqual(["refuse INVITE -", "tx INVITE"]);
  });

  it("keeps each refusal's reason", () => {
    const { layer, log, state } = rig("event-loop-lag");
    layer.receive(msg("INVITE", "z9hG4bK-2", "their-tag"), udp);
    state.refusing = "dialogs";
    layer.receive(msg("INVITE", "z9hG4bK-2b"), udp);
    layer.receive(msg("INVITE", "z9hG4bK-2", "their-tag"), udp);
    layer.receive(msg("INVITE", "z9hG4bK-2b"), udp);
    expect(log).toEqual([
      "refuse INVITE event-loop-lag",
      "refuse INVITE dialogs",
      "again INVITE event-loop-lag",
      "again INVITE dialogs",
    ]);
  });

  it("remembers nothing over a reliable transport (its client does not retransmit)", () => {
    const { layer, log } = rig("transactions");
    layer.receive(msg("INVITE", "z9hG4bK-3"), tcp);
    expect(layer.refused).toBe(0);
    layer.receive(msg("ACK", "z9hG4bK-3", "x"), tcp);
    expect(log).toEqual(["refuse INVITE transactions", "ack x"]);
  });

  it("forgets every refusal at shutdown", () => {
    const { layer } = rig();
    for (let i = 0; i < 5; i++) layer.receive(msg("INVITE", `z9hG4bK-s${i}`), udp);
    expect(layer.refused).toBe(5);
    layer.terminateAll();
    expect(layer.refused).toBe(0);
    expect(layer.isRetransmission(msg("INVITE", "z9hG4bK-s0"))).toBe(false);
  });
});

describe("RefusedStore", () => {
  const store = (max?: number, first?: number) => {
    let now = 0;
    const scheduler = new Scheduler({ now: () => now });
    const forgotten: number[] = [];
    const s = new RefusedStore(
      { forgotten: (_hi, _lo, seq) => forgotten.push(seq) },
      scheduler,
      1000,
      max,
      first,
    );
    return {
      s,
      forgotten,
      advance: (ms: number) => {
        now += ms;
        scheduler.runDue();
      },
    };
  };

  it("forgets the oldest first when full (bounded), keeping each slot's reason across growth", () => {
    const { s, forgotten } = store(300);
    for (let i = 0; i < 300; i++) s.add(i, -i, i % 2 ? "dialogs" : "udp-receive-queue");
    expect(s.size).toBe(300);
    expect(s.reasonOf(257)).toBe("dialogs");
    expect(s.reasonOf(0)).toBe("udp-receive-queue");
    expect(s.add(1, 1, "transactions")).toBe(300);
    expect(forgotten).toEqual([0]);
    expect(s.size).toBe(300);
    expect(s.reasonOf(300)).toBe("transactions");
    expect(s.reasonOf(1)).toBe("dialogs");
  });

  it("ends each after its delay in order, with one timer, and shrinks back once empty", () => {
    const { s, forgotten, advance } = store();
    for (let i = 0; i < 600; i++) {
      s.add(i, i, "event-loop-lag");
      if (i === 299) advance(400);
    }
    expect(s.capacity).toBe(1024);
    advance(599);
    expect(forgotten).toHaveLength(0);
    advance(1);
    expect(forgotten).toHaveLength(300);
    expect(forgotten[299]).toBe(299);
    advance(400);
    expect(forgotten).toHaveLength(600);
    expect(s.size).toBe(0);
    expect(s.capacity).toBe(256);
    expect(s.add(9, 9, "transactions")).toBe(600);
    expect(s.reasonOf(600)).toBe("transactions");
  });

  it("numbers its slots across SEQ_WRAP, growing and forgetting in order", () => {
    const { s, forgotten, advance } = store(1000, SEQ_WRAP - 600);
    const seqs: number[] = [];
    for (let i = 0; i < 1200; i++) seqs.push(s.add(i, i, i % 3 ? "dialogs" : "transactions"));
    expect(seqs[599]).toBe(SEQ_WRAP - 1);
    expect(seqs[600]).toBe(0);
    // Full at 1000: the 200 oldest went first, in order.
    expect(forgotten).toEqual(seqs.slice(0, 200));
    for (let i = 200; i < 1200; i++) expect(s.reasonOf(seqs[i]!)).toBe(i % 3 ? "dialogs" : "transactions");
    advance(1000);
    expect(forgotten).toEqual(seqs);
  });
});
