/**
 * Budget accounting and the overload decision (issue 10 items 3, 4, 5, 9)
 * with real message bytes, a manual clock and an injected event-loop lag.
 */
import { describe, expect, it } from "vitest";
import { type ParsedRequest, parseDatagram } from "../../src/sip/index.js";
import {
  ByteBudget,
  COMPLETED_TRANSACTION_OVERHEAD,
  createBudgets,
  DEFAULT_BUDGETS,
  ITEM_OVERHEAD,
  PARSED_FACTOR,
  parseSize,
} from "../../src/transaction/budget.js";
import { OverloadDetector } from "../../src/transaction/overload.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import type { ServerTransaction } from "../../src/transaction/server-transaction.js";
import { TransactionLayer } from "../../src/transaction/transaction-layer.js";
import { ConnectionGate } from "../../src/transport/connection-limits.js";
import { KnownPeers } from "../../src/transport/known-peers.js";
import type { Flow } from "../../src/transport/types.js";
import { Registrar } from "../../src/ua/registrar.js";

const T = { t1: 500, t2: 4000, t4: 5000 };
const udp: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "10.0.0.1", port: 5060 },
};

function wire(text: string): { bytes: Buffer; request: ParsedRequest } {
  const bytes = Buffer.from(text.replace(/\n/g, "\r\n"), "latin1");
  const r = parseDatagram(bytes);
  if (!r.ok || r.message.kind !== "request")
    throw new Error(`bad fixture: ${r.ok ? "response" : r.error.detail}`);
  return { bytes, request: r.message };
}

const register = (user: string, contact: string, expires = 3600) =>
  wire(`REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-${user}
Max-Forwards: 70
From: <sip:${user}@example.test>;tag=f1
To: <sip:${user}@example.test>
Call-ID: reg-${user}@example.test
CSeq: 1 REGISTER
Contact: ${contact}
Expires: ${expires}
Content-Length: 0

`).request;

const options = (branch: string, pad = "") =>
  wire(`OPTIONS sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}
Max-Forwards: 70
From: <sip:a@example.test>;tag=f1
To: <sip:127.0.0.1>
Call-ID: ${branch}@example.test
CSeq: 1 OPTIONS
X-Pad: ${pad}
Content-Length: 0

`);

describe("registrar budget", () => {
  it("charges each binding its Contact octets plus the overhead, and refuses a new AOR with 503 when spent", () => {
    let now = 0;
    const big = `<sip:alice@10.0.0.1:5060;x=${"a".repeat(60_000)}>`;
    const budget = new ByteBudget("registrar", 200_000);
    const reg = new Registrar(
      { defaultExpires: 3600, minExpires: 60, maxExpires: 86400, maxBindingsPerAor: 10 },
      () => now,
      budget,
    );
    const first = reg.register(register("alice", big));
    expect(first.ok).toBe(true);
    // The AOR key, the Contact as kept, its URI and the Call-ID, plus the overhead.
    const aor = "sip:alice@example.test";
    const uri = big.slice(1, -1);
    expect(budget.used).toBe(aor.length + ITEM_OVERHEAD.registrar + big.length + uri.length + 22);
    expect(budget.items).toBe(1);

    const second = reg.register(register("bob", big.replace("alice", "bob")));
    expect(second).toMatchObject({ ok: false, status: 503 });
    expect(reg.size).toBe(1);
    expect(budget.refused).toBe(1);

    // A refresh of the existing binding does not grow the registrar: accepted.
    expect(reg.register(register("alice", big)).ok).toBe(true);
    // Removing it frees every octet.
    expect(reg.register(register("alice", big, 0)).ok).toBe(true);
    expect(budget.used).toBe(0);
    expect(reg.register(register("bob", big.replace("alice", "bob"), 60)).ok).toBe(true);

    // Bindings that expired unseen are freed when the budget runs short.
    now += 61_000;
    expect(reg.register(register("carol", big.replace("alice", "carol"))).ok).toBe(true);
    expect(reg.snapshot().map((s) => s.aor)).toEqual(["sip:carol@example.test"]);
  });
});

const registerWithPath = (user: string, path: readonly string[]) =>
  wire(`REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-${user}
Max-Forwards: 70
From: <sip:${user}@example.test>;tag=f1
To: <sip:${user}@example.test>
Call-ID: reg-${user}@example.test
CSeq: 1 REGISTER
Contact: <sip:${user}@10.0.0.1:5060>
${path.map((p) => `Path: ${p}`).join("\n")}
Expires: 3600
Content-Length: 0

`).request;

describe("registrar Path", () => {
  const limits = { defaultExpires: 3600, minExpires: 60, maxExpires: 86400, maxBindingsPerAor: 10 };

  it("charges the Path kept with a binding: a big Path against a small budget gets 503", () => {
    const path = [`<sip:proxy.example.test;lr;x=${"p".repeat(3000)}>`];
    const budget = new ByteBudget("registrar", 2000);
    const reg = new Registrar(limits, () => 0, budget);
    // Without the Path the binding costs well under the budget...
    const small = reg.register(registerWithPath("bob", []));
    expect(small.ok).toBe(true);
    const withoutPath = budget.used;
    expect(withoutPath).toBeLessThan(1500);
    // ...with a 3 KB one it does not fit.
    const outcome = reg.register(registerWithPath("alice", path));
    expect(outcome).toMatchObject({ ok: false, status: 503 });
    expect(reg.size).toBe(1);
    // Within a large budget it is charged octet for octet, and freed on removal.
    const roomy = new ByteBudget("registrar", 200_000);
    const reg2 = new Registrar(limits, () => 0, roomy);
    expect(reg2.register(registerWithPath("bob", [])).ok).toBe(true);
    const base = roomy.used;
    expect(reg2.register(registerWithPath("bob", path)).ok).toBe(true);
    expect(roomy.used - base).toBe(path[0]!.length);
  });

  it("refuses a REGISTER whose Path exceeds 10 entries or 4 KiB with 400", () => {
    const reg = new Registrar(limits, () => 0, new ByteBudget("registrar", 10_000_000));
    const eleven = Array.from({ length: 11 }, (_, i) => `<sip:p${i}.example.test;lr>`);
    expect(reg.register(registerWithPath("alice", eleven))).toMatchObject({
      ok: false,
      status: 400,
      detail: expect.stringContaining("Path too long: 11 entries"),
    });
    const huge = [`<sip:proxy.example.test;lr;x=${"p".repeat(60_000)}>`];
    expect(reg.register(registerWithPath("alice", huge))).toMatchObject({ ok: false, status: 400 });
    expect(reg.size).toBe(0);
    const ten = eleven.slice(0, 10);
    expect(reg.register(registerWithPath("alice", ten)).ok).toBe(true);
  });
});

describe("transaction and outbound budgets", () => {
  it("charges a server transaction PARSED_FACTOR x its wire octets plus the overhead until its final response, then what it keeps until it terminates", () => {
    let now = 0;
    const scheduler = new Scheduler({ now: () => now });
    const budgets = createBudgets();
    const sent: string[] = [];
    let kept: ServerTransaction | undefined;
    let whileTrying = 0;
    const layer = new TransactionLayer(
      (_f, bytes) => sent.push(bytes.toString()),
      {
        onRequest: (tx) => {
          kept = tx;
          expect(tx.request.headers.get("X-Pad")).toHaveLength(5000);
          whileTrying = budgets.transactions.used;
          tx.respond(200, Buffer.from("SIP/2.0 200 OK\r\n\r\n"));
        },
        onAck: () => {},
      },
      scheduler,
      T,
      budgets,
    );
    const { bytes, request } = options("z9hG4bK-b1", "x".repeat(5000));
    layer.receive(request, udp, bytes.length);
    expect(whileTrying).toBe(bytes.length * PARSED_FACTOR + ITEM_OVERHEAD.transactions);
    // Completed for 32 s, it keeps what identifies the request, not its header rows,
    // and the final response's bytes: it is charged that from now on.
    const cost = COMPLETED_TRANSACTION_OVERHEAD + "SIP/2.0 200 OK\r\n\r\n".length;
    expect(budgets.transactions.used).toBe(cost);
    expect(budgets.transactions.items).toBe(1);
    expect(kept!.request.headers.size).toBe(0);
    expect(kept!.request.core.callId).toBe("z9hG4bK-b1@example.test");
    // A retransmission is absorbed by the transaction (the 200 again): nothing more charged.
    layer.receive(request, udp, bytes.length);
    expect(sent).toEqual(["SIP/2.0 200 OK\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n"]);
    expect(budgets.transactions.used).toBe(cost);
    // Timer J (64*T1 over UDP) frees it.
    now += 64 * T.t1;
    scheduler.runDue();
    expect(layer.size).toBe(0);
    expect(budgets.transactions.used).toBe(0);
    expect(budgets.transactions.items).toBe(0);
  });

  it("a request the TU refuses (503 under overload) leaves no transaction and no charge", () => {
    const scheduler = new Scheduler({ now: () => 0 });
    const budgets = createBudgets();
    const refused: string[] = [];
    const layer = new TransactionLayer(
      () => {},
      {
        onRequest: () => {
          throw new Error("must not be created");
        },
        refuse: (r) => (refused.push(r.method) > 0 ? "transactions" : undefined),
        onAck: () => {},
      },
      scheduler,
      T,
      budgets,
    );
    const { bytes, request } = options("z9hG4bK-r1");
    layer.receive(request, udp, bytes.length);
    expect(refused).toEqual(["OPTIONS"]);
    expect(layer.size).toBe(0);
    expect(budgets.transactions.used).toBe(0);
  });

  it("charges a client transaction its request octets until it ends, and sends once when told not to retransmit", () => {
    let now = 0;
    const scheduler = new Scheduler({ now: () => now });
    const budgets = createBudgets({ outbound: 4000 });
    const sent: boolean[] = [];
    const layer = new TransactionLayer(
      (_f, _b, retrans) => sent.push(retrans),
      { onAck: () => {}, onRequest: () => {} },
      scheduler,
      T,
      budgets,
    );
    const bytes = Buffer.alloc(1000, 0x41);
    expect(layer.outboundFits(bytes.length)).toBe(true);
    let timedOut = false;
    layer.sendRequest(udp, bytes, "z9hG4bK-c1", "NOTIFY", { timeout: () => (timedOut = true) }, false);
    expect(budgets.outbound.used).toBe(1000 + ITEM_OVERHEAD.outbound);
    expect(layer.outboundFits(bytes.length)).toBe(false);
    for (let t = 0; t < 64 * T.t1; t += 100) {
      now = t;
      scheduler.runDue();
    }
    now = 64 * T.t1;
    scheduler.runDue();
    // Timer E never fired: one copy, no retransmission, then Timer F.
    expect(sent).toEqual([false]);
    expect(timedOut).toBe(true);
    expect(budgets.outbound.used).toBe(0);
  });
});

describe("overload decision", () => {
  const detector = (over: {
    lag?: number;
    budgets?: ReturnType<typeof createBudgets>;
    maxLagMs?: number;
    maxQueueDelayMs?: number;
  }) => {
    let now = 0;
    let lag = over.lag ?? 0;
    let queueDelay = 0;
    const reports: string[] = [];
    const d = new OverloadDetector({
      budgets: over.budgets ?? createBudgets(),
      maxLagMs: over.maxLagMs ?? 1000,
      lag: () => lag,
      maxQueueDelayMs: over.maxQueueDelayMs ?? 500,
      queueDelay: () => queueDelay,
      retryAfterS: 7,
      clock: { now: () => now },
      report: (m) => reports.push(m),
    });
    return {
      d,
      reports,
      setLag: (ms: number) => (lag = ms),
      setQueueDelay: (ms: number) => (queueDelay = ms),
      tick: (ms: number) => (now += ms),
    };
  };

  it("says overloaded while the injected event-loop lag is above the maximum, and not when 0 disables it", () => {
    const { d, setLag } = detector({});
    expect(d.load()).toBeUndefined();
    setLag(1500);
    expect(d.load()).toBe("event-loop-lag");
    setLag(200);
    expect(d.load()).toBeUndefined();
    const off = detector({ lag: 60_000, maxLagMs: 0 });
    expect(off.d.load()).toBeUndefined();
  });

  it("says overloaded while UDP datagrams wait in the receive queue longer than the maximum, and not when 0 disables it", () => {
    const { d, setQueueDelay, reports } = detector({});
    setQueueDelay(500);
    expect(d.load()).toBeUndefined();
    setQueueDelay(501);
    expect(d.load()).toBe("udp-receive-queue");
    expect(d.queueDelayMs).toBe(501);
    d.refused("udp-receive-queue");
    expect(reports).toEqual([
      "overload: answered 503 (Retry-After 7) to new requests: 1 for the UDP receive queue",
    ]);
    setQueueDelay(20);
    expect(d.load()).toBeUndefined();
    const off = detector({ maxQueueDelayMs: 0 });
    off.setQueueDelay(60_000);
    expect(off.d.load()).toBeUndefined();
  });

  it("refuses every new request when the transaction budget is spent, and only the store's own when a store is full", () => {
    const budgets = createBudgets({ transactions: 10_000, dialogs: 3000 });
    const { d } = detector({ budgets });
    expect(d.full("dialogs", 2500)).toBe(false);
    budgets.dialogs.charge(2000);
    expect(d.full("dialogs", 2500)).toBe(true);
    expect(d.load()).toBeUndefined();
    expect(d.full("subscriptions", 2500)).toBe(false);
    expect(d.noRoomForTransaction()).toBe(false);
    budgets.transactions.charge(7000);
    expect(d.noRoomForTransaction()).toBe(true);
    // A spent transactions budget is not load (no held-dialog exemption for it).
    expect(d.load()).toBeUndefined();
    budgets.transactions.release(7000);
    expect(d.noRoomForTransaction()).toBe(false);
  });

  it("a spent transactions budget has a fixed headroom for the BYEs it lets through: limit/16, between 64 KiB and 1 MiB", () => {
    for (const [limit, headroom] of [
      [10_000, 65_536],
      [4 * 1024 * 1024, 262_144],
      [256 * 1024 * 1024, 1_048_576],
    ] as const) {
      const budgets = createBudgets({ transactions: limit });
      const { d } = detector({ budgets });
      budgets.transactions.charge(limit);
      expect(d.noRoomForTransaction()).toBe(true);
      expect(d.fitsHeadroom(headroom)).toBe(true);
      expect(d.fitsHeadroom(headroom + 1)).toBe(false);
      budgets.transactions.charge(headroom);
      expect(d.fitsHeadroom(1)).toBe(false);
    }
  });

  it("counts every refusal and reports at most once per second on the manual clock", () => {
    const { d, reports, tick } = detector({});
    for (let i = 0; i < 100; i++) d.refused("event-loop-lag");
    d.refused("registrar");
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain("1 for event-loop lag");
    tick(999);
    d.refused("registrar");
    expect(reports).toHaveLength(1);
    tick(1);
    d.refused("transactions");
    expect(reports).toHaveLength(2);
    expect(reports[1]).toBe(
      "overload: answered 503 (Retry-After 7) to new requests: 99 for event-loop lag, 2 for the registrar budget, 1 for the transactions budget",
    );
    expect(Object.fromEntries(d.rejections)).toEqual({
      "event-loop-lag": 100,
      registrar: 2,
      transactions: 1,
    });
  });
});

describe("connection caps and known peers", () => {
  it("caps connections in total and per source address, releasing on close", () => {
    const gate = new ConnectionGate({ maxConnections: 3, maxPerSource: 2 });
    const a1 = gate.admit("10.0.0.1");
    const a2 = gate.admit("10.0.0.1");
    expect(a1 && a2).toBeTruthy();
    expect(gate.admit("10.0.0.1")).toBeUndefined();
    const b1 = gate.admit("10.0.0.2");
    expect(b1).toBeTruthy();
    expect(gate.admit("10.0.0.3")).toBeUndefined();
    expect(Object.fromEntries(gate.refused)).toEqual({ "per-source": 1, total: 1 });
    a1!();
    a1!();
    expect(gate.open).toBe(2);
    expect(gate.admit("10.0.0.1")).toBeTruthy();
  });

  it("remembers source addresses, oldest forgotten first", () => {
    const k = new KnownPeers(2);
    k.add("10.0.0.1");
    k.add("10.0.0.2");
    k.add("10.0.0.1");
    expect(k.has("10.0.0.1")).toBe(true);
    expect(k.has("10.0.0.9")).toBe(false);
    k.add("10.0.0.3");
    expect(k.has("10.0.0.1")).toBe(false);
    expect(k.has("10.0.0.3")).toBe(true);
  });
});

describe("sizes", () => {
  it("parses sizes with binary units", () => {
    expect(parseSize("64MiB")).toBe(64 * 1024 * 1024);
    expect(parseSize("4KiB")).toBe(4096);
    expect(parseSize("1.5k")).toBe(1536);
    expect(parseSize("123")).toBe(123);
    expect(parseSize("lots")).toBeUndefined();
    expect(DEFAULT_BUDGETS.transactions).toBe(256 * 1024 * 1024);
  });
});

describe("known peers", () => {
  it("one key per host: a dual-stack socket's ::ffff:a.b.c.d is a.b.c.d", () => {
    const peers = new KnownPeers();
    peers.add("::ffff:127.0.0.1");
    expect(peers.has("127.0.0.1")).toBe(true);
    expect(peers.has("::ffff:127.0.0.1")).toBe(true);
    peers.add("10.0.0.7");
    expect(peers.has("::ffff:10.0.0.7")).toBe(true);
    expect(peers.has("10.0.0.8")).toBe(false);
    expect(peers.has("::1")).toBe(false);
  });
});
