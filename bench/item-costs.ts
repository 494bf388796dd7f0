/**
 * Measures what one item of each bounded store costs on the heap (issue 10
 * item 3), heap and ArrayBuffers, to check the fixed overheads in src/transaction/budget.ts:
 *   node --expose-gc --import tsx bench/item-costs.ts
 * Each line: heap growth per item, its wire octets, and the budget's
 * estimate for it (octets x factor + overhead).
 */
import { describeMessage, Journal } from "../src/control/journal.js";
import { parseDatagram } from "../src/sip/index.js";
import type { ParsedRequest } from "../src/sip/message.js";
import {
  createBudgets,
  ITEM_OVERHEAD,
  JOURNAL_OBJECT_OVERHEAD,
  PARSED_FACTOR,
} from "../src/transaction/budget.js";
import { Scheduler } from "../src/transaction/scheduler.js";
import { TransactionLayer } from "../src/transaction/transaction-layer.js";
import type { Flow } from "../src/transport/types.js";
import { DialogStore } from "../src/ua/dialogs.js";
import { Registrar } from "../src/ua/registrar.js";

const N = Number(process.env.N ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc --import tsx bench/item-costs.ts");
const flow: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "10.0.0.1", port: 5060 },
};
const T = { t1: 500, t2: 4000, t4: 5000 };

function text(method: string, i: number, extra = ""): string {
  return [
    `${method} sip:u${i}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-${i}-abcdef;rport`,
    "Max-Forwards: 70",
    `From: "Alice" <sip:alice${i}@example.test>;tag=f${i}`,
    `To: <sip:u${i}@example.test>`,
    `Call-ID: ${i}-0123456789abcdef@example.test`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:u${i}@10.0.0.1:5060;transport=udp>`,
    "User-Agent: bench/1.0",
    ...(extra ? [extra] : []),
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

function parse(t: string): ParsedRequest {
  const r = parseDatagram(Buffer.from(t, "latin1"));
  if (!r.ok || r.message.kind !== "request") throw new Error("bad fixture");
  return r.message;
}

/** The heap and the ArrayBuffers outside it (a journal's chunks, a store's arena). */
function held(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function measure(name: string, wire: number, estimate: number, fill: () => unknown): void {
  gc!();
  gc!();
  const before = held();
  const keep = fill();
  gc!();
  gc!();
  const per = (held() - before) / N;
  console.log(
    `${name.padEnd(26)} ${Math.round(per).toString().padStart(6)} B/item  wire ${wire} B  estimate ${estimate} B`,
  );
  return void keep;
}

const sample = text("OPTIONS", 1);
const budgets = createBudgets();
measure(
  "server transaction (UDP)",
  sample.length,
  sample.length * PARSED_FACTOR + ITEM_OVERHEAD.transactions,
  () => {
    const scheduler = new Scheduler({ now: () => 0 });
    const layer = new TransactionLayer(
      () => {},
      {
        onRequest: (tx) => tx.respond(200, Buffer.from(`SIP/2.0 200 OK\r\n${"h".repeat(300)}\r\n\r\n`)),
        onAck: () => {},
        // As the UAS for a transaction whose context held nothing more: its id is not kept.
        onStored: () => false,
      },
      scheduler,
      T,
      budgets,
    );
    for (let i = 0; i < N; i++) {
      const t = text("OPTIONS", i);
      layer.receive(parse(t), flow, t.length);
    }
    return [layer, scheduler];
  },
);
measure("registrar binding", 50, ITEM_OVERHEAD.registrar + 150, () => {
  const r = new Registrar();
  for (let i = 0; i < N; i++) r.register(parse(text("REGISTER", i)), flow);
  return r;
});
measure("dialog (store only)", 300, ITEM_OVERHEAD.dialogs + 350, () => {
  const scheduler = new Scheduler({ now: () => 0 });
  const d = new DialogStore(scheduler, T);
  for (let i = 0; i < N; i++) {
    const dialog = d.accept(
      `${i}-0123456789abcdef@example.test`,
      `lt${i}`,
      `rt${i}`,
      () => {},
      () => {},
      300,
    );
    dialog.setPeer({
      target: `sip:u${i}@10.0.0.1:5060`,
      from: `<sip:u${i}@example.test>;tag=lt${i}`,
      to: `"Alice" <sip:alice${i}@example.test>;tag=f${i}`,
      routeSet: [],
      flow,
      localCseq: 0,
    });
  }
  return [d, scheduler];
});
measure("journal entry (journaled)", sample.length, sample.length + ITEM_OVERHEAD.journal, () => {
  const j = new Journal(N, 1e12);
  for (let i = 0; i < N; i++) {
    // As the recorder journals a message received: the parser's fields, not kept.
    const wire = Buffer.from(text("OPTIONS", i), "latin1");
    j.receive(Date.now(), "udp", flow.local, flow.remote, false, wire, describeMessage(wire));
  }
  return j;
});
const read = sample.length + ITEM_OVERHEAD.journal + JOURNAL_OBJECT_OVERHEAD;
measure("journal entry (journaled, then read by a query)", sample.length, read, () => {
  const j = new Journal(N, 1e12);
  for (let i = 0; i < N; i++) {
    const wire = Buffer.from(text("OPTIONS", i), "latin1");
    j.receive(Date.now(), "udp", flow.local, flow.remote, false, wire, describeMessage(wire));
  }
  // verify/waitFor: the objects a query makes stay with their rows, with the header fields they read.
  if (j.entries().filter((e) => e.callId === undefined || e.transaction === undefined).length > 0)
    throw new Error("unread");
  return j;
});
measure("journal entry (added)", sample.length, read, () => {
  const j = new Journal(N, 1e12);
  for (let i = 0; i < N; i++) {
    const raw = text("OPTIONS", i);
    j.add({
      time: new Date().toISOString(),
      direction: "in",
      transport: "udp",
      local: flow.local,
      remote: flow.remote,
      raw,
      ...describeMessage(raw),
      retransmission: false,
    });
  }
  return j;
});
measure("pending outbound (NOTIFY)", sample.length, sample.length + ITEM_OVERHEAD.outbound, () => {
  const scheduler = new Scheduler({ now: () => 0 });
  const layer = new TransactionLayer(
    () => {},
    { onRequest: () => {}, onAck: () => {} },
    scheduler,
    T,
    budgets,
  );
  for (let i = 0; i < N; i++) {
    const bytes = Buffer.from(text("NOTIFY", i), "latin1");
    layer.sendRequest(flow, bytes, `z9hG4bK-${i}`, "NOTIFY", { final: () => {}, timeout: () => {} });
  }
  return [layer, scheduler];
});
// Manual-clock schedulers keep re-arming their timers: end here.
process.exit(0);
