/**
 * Memory of the mock under sustained load, in process: no socket, no SIPp.
 * `startSipMock()` on in-memory listeners (the seams the deterministic
 * harness uses) and a manual scheduler, so RFC 3261 timers (H, I, J, K:
 * 64*T1 = 32 s) really fire as time advances at the chosen call rate and
 * transactions end as they would on the wire.
 *
 * For each flow (INVITE -> 486 -> ACK, OPTIONS -> 200, and the answered call
 * INVITE -> 100/180/200 -> ACK -> BYE -> 200 on the default scenario; and
 * apart, 486-tcp-noack: INVITE -> 486 over TCP with no ACK, a client gone) it
 * reports, after a forced GC: the live heap and RSS after the warm-up and
 * after N more calls (growth = a leak when the live heap grows), then the
 * bytes per live transaction and per live dialog (heap with them alive
 * minus heap once they ended, divided by how many there were), against
 * what the transactions budget charges for each (its estimate).
 *
 *   npm run build && node --expose-gc --import tsx bench/memory.ts [flow] [calls] [rate]
 *   flow: 486 | options | call | 486-tcp-noack | dialogs | all (default all); calls default 200000; rate default 1000/s
 *   (dialogs: bytes per answered call kept up, `calls` of them, default 20000;
 *   udp: the 486 flow over real UDP sockets in real time, `calls` = seconds, default 60)
 *   MEMORY_SNAPSHOT=dir: writes heap snapshots after the warm-up and at the end.
 *   MEMORY_JOURNAL=n: journal size (default the mock's, 10,000).
 *   MEMORY_NOGC=1 (udp): no forced GC at all, as the server runs.
 *   MEMORY_BUDGETS=default: the mock's byte budgets (else 4 GiB each: no 503 for a spent budget).
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeHeapSnapshot } from "node:v8";
import type * as Mock from "../src/control/sipmock.js";
import type * as Parser from "../src/sip/parser.js";
import type * as Sched from "../src/transaction/scheduler.js";
import type { Flow, InboundHandler, Listener } from "../src/transport/types.js";
import { benchRequest, SDP } from "./lib/messages.js";

// The built package (npm run build), as the CLI runs it: tsx's transform of
// src/ adds a name property to every function, which costs memory per closure.
const DIST = (p: string) => pathToFileURL(join(import.meta.dirname, "..", "dist", p)).href;
const { startSipMock } = (await import(DIST("control/sipmock.js"))) as typeof Mock;
const { parseDatagram } = (await import(DIST("sip/parser.js"))) as typeof Parser;
const { Scheduler } = (await import(DIST("transaction/scheduler.js"))) as typeof Sched;

/** 486-tcp-noack: INVITEs over TCP answered 486 and never acknowledged (each waits in Completed until Timer H). */
type Kind = "486" | "options" | "call" | "486-tcp-noack";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc --import tsx bench/memory.ts");

const PEER = { address: "192.0.2.10", port: 5062 };
const MIB = 1024 * 1024;

function request(
  method: string,
  user: string,
  i: number,
  extra: { toTag?: string; cseq?: number; sdp?: boolean } = {},
): Buffer {
  // An ACK to a non-2xx is in its INVITE's transaction (its branch).
  const branch = `${method === "ACK" && !extra.toTag ? "INVITE" : method}-mem`;
  return benchRequest(method, user, i, {
    label: "mem",
    branch,
    ...(extra.toTag ? { toTag: extra.toTag } : {}),
    ...(extra.cseq ? { cseq: extra.cseq } : {}),
    ...(extra.sdp ? { body: SDP } : {}),
  });
}

interface Rig {
  inject(b: Buffer): void;
  /** To tag of the last 200 sent for a Call-ID (answered calls). */
  readonly toTags: Map<string, string>;
  sent: number;
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
  /** Octets a store's budget holds charged now (its estimate; default the transactions'). */
  charged(store?: string): number;
  active(): number;
  dialogs(): number;
  pendingTimers(): number;
}

async function rig(kind: Kind): Promise<Rig> {
  let mono = 0;
  const scheduler = new Scheduler({ now: () => mono }, (e) => console.error(e), true);
  let onInbound: InboundHandler = () => {};
  const toTags = new Map<string, string>();
  const r = { sent: 0 };
  const journalSize = process.env.MEMORY_JOURNAL ? Number(process.env.MEMORY_JOURNAL) : undefined;
  const transport = kind === "486-tcp-noack" ? "tcp" : "udp";
  const mock = await startSipMock({
    listen: [`${transport}:127.0.0.1:5060`],
    mediaPort: 40000,
    ...(journalSize !== undefined ? { journalSize } : {}),
    // Budgets out of the way: this measures memory, not the 503s of a spent budget
    // (MEMORY_BUDGETS=default keeps the mock's defaults).
    limits: {
      eventLoopLag: () => 0,
      ...(process.env.MEMORY_BUDGETS === "default"
        ? {}
        : { budgets: { transactions: 4096 * MIB, dialogs: 4096 * MIB, journal: 4096 * MIB } }),
    },
    seams: {
      scheduler,
      now: () => Date.UTC(2026, 0, 1) + mono,
      openListener: async (spec, handler): Promise<Listener> => {
        onInbound = handler;
        const info = { transport: spec.transport, address: spec.host, port: spec.port || 5060 };
        return {
          info,
          send: async (flow: Flow, bytes: Buffer, onWire?: (f: Flow) => void) => {
            r.sent++;
            const st = bytes.subarray(8, 11).toString();
            statuses.set(st, (statuses.get(st) ?? 0) + 1);
            if (kind === "call" && bytes[0] === 0x53 && bytes.subarray(7, 12).toString() === pad200) {
              const text = bytes.toString("latin1");
              const callId = /\r\nCall-ID: ([^\r]+)/i.exec(text)?.[1];
              const tag = /\r\nTo: [^\r]*;tag=([^;\r]+)/i.exec(text)?.[1];
              // Copies: a regex match is a slice that would keep the whole response alive.
              if (callId && tag && /CSeq: \d+ INVITE/.test(text))
                toTags.set(` ${callId}`.slice(1), ` ${tag}`.slice(1));
            }
            onWire?.(flow);
          },
          close: async () => {},
        };
      },
    },
  });
  const flow: Flow = {
    transport,
    local: { address: "127.0.0.1", port: 5060 },
    remote: PEER,
  };
  return {
    inject: (bytes) =>
      onInbound({
        // A flow object per datagram, with the address a string of its own, as
        // the UDP listener makes them (over TCP, one connection's).
        flow: {
          transport,
          local: flow.local,
          remote: { address: ` ${PEER.address}`.slice(1), port: PEER.port },
          ...(transport === "tcp" ? { connectionId: 1 } : {}),
        },
        bytes,
        result: parseDatagram(bytes),
        receivedAt: Date.UTC(2026, 0, 1) + mono,
      }),
    toTags,
    get sent() {
      return r.sent;
    },
    async advance(ms) {
      mono += ms;
      scheduler.runDue();
      await new Promise((res) => setImmediate(res));
    },
    close: () => mock.close(),
    charged: (store = "transactions") =>
      Number(
        new RegExp(`sipmock_store_bytes\\{store="${store}"\\} (\\d+)`).exec(
          mock.metrics.render({ transactions: 0, dialogs: 0, journalEntries: 0, overrides: 0 }),
        )?.[1] ?? Number.NaN,
      ),
    active: () => mock.activeTransactions,
    dialogs: () => mock.activeDialogs,
    pendingTimers: () => scheduler.pending,
  };
}
const pad200 = " 200 ";
export const statuses = new Map<string, number>();

/** One call of the flow, numbered i; the answered call needs its 200's To tag for ACK and BYE. */
function oneCall(r: Rig, kind: Kind, i: number): void {
  if (kind === "options") {
    r.inject(request("OPTIONS", "bench", i));
    return;
  }
  if (kind === "486" || kind === "486-tcp-noack") {
    r.inject(request("INVITE", "486", i));
    if (kind === "486") r.inject(request("ACK", "486", i));
    return;
  }
  r.inject(request("INVITE", "bench", i, { sdp: true }));
}

/** The answered call's ACK and BYE, once its 200 went out (the callee hangs up `holdMs` later). */
function finishCall(r: Rig, i: number, what: "ACK" | "BYE"): void {
  const callId = `${i}-mem@192.0.2.10`;
  const toTag = r.toTags.get(callId);
  if (!toTag) return;
  if (what === "ACK") r.inject(request("ACK", "bench", i, { toTag }));
  else {
    r.inject(request("BYE", "bench", i, { toTag, cseq: 2 }));
    r.toTags.delete(callId);
  }
}

/**
 * How long each call's requests took to handle, in ms (performance.now()
 * around oneCall: the mock's work for them, in process, GC included), for
 * the longest pauses: a store that resized at once stopped everything.
 */
const handling: number[] = [];

/** Runs `count` calls at `rate` calls/s of simulated time, in 10 ms slices. */
async function drive(r: Rig, kind: Kind, from: number, count: number, rate: number): Promise<void> {
  const slice = 10;
  const perSlice = Math.max(1, Math.round((rate * slice) / 1000));
  const acks: number[] = [];
  const byes: Array<[number, number]> = [];
  let t = 0;
  for (let i = 0; i < count; i += perSlice) {
    for (let j = i; j < Math.min(count, i + perSlice); j++) {
      const t0 = performance.now();
      oneCall(r, kind, from + j);
      handling.push(performance.now() - t0);
      if (kind === "call") acks.push(from + j);
    }
    await r.advance(slice);
    t += slice;
    if (kind === "call") {
      // 200 sent at once by the default scenario; ACK one slice later, BYE a second after.
      for (const n of acks.splice(0)) {
        finishCall(r, n, "ACK");
        byes.push([n, t + 1000]);
      }
      while (byes.length && byes[0]![1] <= t) finishCall(r, byes.shift()![0], "BYE");
    }
  }
  for (const [n] of byes) finishCall(r, n, "BYE");
}

/** heap: V8's live heap; buffers: ArrayBuffer backing stores (off the V8 heap: Buffers); rss: the process. */
async function measure(): Promise<{ heap: number; buffers: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    await new Promise((res) => setImmediate(res));
    gc!();
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
}

/** The longest times a call's requests took, warm-up included (while the stores grow). */
function longest(): string {
  const sorted = handling.splice(0).sort((a, b) => b - a);
  const at = (q: number) => sorted[Math.floor(q * sorted.length)] ?? 0;
  return `handling a call's requests, in process (GC included): p99.9 ${at(0.001).toFixed(2)} ms, longest ${sorted
    .slice(0, 3)
    .map((t) => t.toFixed(1))
    .join(" / ")} ms of ${sorted.length.toLocaleString("en")}`;
}

const fmt = (b: number) => `${(b / MIB).toFixed(1)} MiB`;
const signed = (b: number) => `${b >= 0 ? "+" : ""}${(b / MIB).toFixed(1)} MiB`;

async function flow(kind: Kind, calls: number, rate: number): Promise<void> {
  const r = await rig(kind);
  // Past 64*T1 of simulated time, so every flow has reached its steady number of live transactions.
  const warm = Math.max(20_000, rate * 40);
  await drive(r, kind, 0, warm, rate);
  const w = await measure();
  const snap = process.env.MEMORY_SNAPSHOT;
  if (snap) writeHeapSnapshot(`${snap}/${kind}-warm.heapsnapshot`);
  const liveWarm = r.active();
  await drive(r, kind, warm, calls, rate);
  const e = await measure();
  if (snap) writeHeapSnapshot(`${snap}/${kind}-end.heapsnapshot`);
  const live = r.active();
  const dialogs = r.dialogs();
  const charged = r.charged();
  // Every timer runs out (64*T1 and T4 past): what is left is what no longer depends on calls.
  await r.advance(40_000);
  await r.advance(40_000);
  const idle = await measure();
  if (snap) writeHeapSnapshot(`${snap}/${kind}-idle.heapsnapshot`);
  const perTx = live > 0 ? (e.heap - idle.heap) / live : 0;
  const perTxBuffers = live > 0 ? (e.buffers - idle.buffers) / live : 0;
  console.log(
    [
      `## ${kind}: ${calls.toLocaleString("en")} calls at ${rate}/s after ${warm.toLocaleString("en")} warm-up (${r.sent.toLocaleString("en")} messages sent)`,
      `live heap: warm ${fmt(w.heap)} -> end ${fmt(e.heap)} (${signed(e.heap - w.heap)}); idle after the timers ran out ${fmt(idle.heap)}`,
      `buffers:   warm ${fmt(w.buffers)} -> end ${fmt(e.buffers)} (${signed(e.buffers - w.buffers)}); idle ${fmt(idle.buffers)}`,
      `RSS:       warm ${fmt(w.rss)} -> end ${fmt(e.rss)} (${signed(e.rss - w.rss)}); idle ${fmt(idle.rss)}`,
      `live transactions: warm ${liveWarm}, end ${live}, idle ${r.active()}; dialogs at end ${dialogs}, idle ${r.dialogs()}; pending timers idle ${r.pendingTimers()}`,
      `per live transaction${kind === "call" ? " (and dialog)" : ""}: ${Math.round(perTx)} B of heap + ${Math.round(perTxBuffers)} B of buffers (end - idle, / ${live}); the transactions budget charges ${live > 0 ? Math.round(charged / live) : 0} B each`,
      longest(),
    ].join("\n"),
  );
  await r.close();
  console.log(`sent: ${[...statuses].map(([k, v]) => `${k} x${v}`).join(", ")}`);
  statuses.clear();
}

/**
 * Bytes per live dialog: `n` answered and acknowledged calls kept up (no
 * BYE) once their transactions ended, against the same mock after a BYE
 * for each and their transactions ended too.
 */
async function dialogCost(n: number): Promise<void> {
  // A journal of one entry: the last 10,000 messages differ in size between the two measures.
  process.env.MEMORY_JOURNAL ??= "1";
  const r = await rig("call");
  for (let i = 0; i < n; i += 10) {
    for (let j = i; j < Math.min(n, i + 10); j++) oneCall(r, "call", j);
    await r.advance(10);
    for (let j = i; j < Math.min(n, i + 10); j++) finishCall(r, j, "ACK");
  }
  await r.advance(40_000);
  await r.advance(40_000);
  const up = await measure();
  const charged = r.charged("dialogs");
  const snap = process.env.MEMORY_SNAPSHOT;
  if (snap) writeHeapSnapshot(`${snap}/dialogs-up.heapsnapshot`);
  const dialogs = r.dialogs();
  for (let i = 0; i < n; i++) finishCall(r, i, "BYE");
  await r.advance(40_000);
  await r.advance(40_000);
  const down = await measure();
  if (snap) writeHeapSnapshot(`${snap}/dialogs-down.heapsnapshot`);
  console.log(
    [
      `## dialogs: ${dialogs.toLocaleString("en")} answered calls up (transactions ended: ${r.active()})`,
      `per live dialog: ${Math.round((up.heap - down.heap) / dialogs)} B of heap + ${Math.round((up.buffers - down.buffers) / dialogs)} B of buffers (up - after BYE, / ${dialogs}; ${r.dialogs()} left); the dialogs budget charges ${Math.round(charged / dialogs)} B each`,
    ].join("\n"),
  );
  await r.close();
}

/**
 * The 486 flow over real UDP sockets and real time (the mock's own scheduler,
 * setTimeout): a client on 127.0.0.1 sends INVITE and, on the 486, the ACK,
 * at `rate` calls/s for `seconds`; the live heap (after a forced GC), the
 * buffers and RSS every 10 s. Tells V8 not returning memory (RSS grows, the
 * live heap does not) from a leak.
 */
async function udpSoak(seconds: number, rate: number): Promise<void> {
  const { createSocket } = await import("node:dgram");
  const mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], mediaPort: 40000 });
  const port = mock.address("udp").port;
  const sock = createSocket("udp4");
  await new Promise<void>((res) => sock.bind(0, "127.0.0.1", () => res()));
  const me = sock.address().port;
  let answered = 0;
  sock.on("message", (msg) => {
    if (msg.subarray(8, 11).toString() !== "486") return;
    const i = Number(/branch=z9hG4bK-(\d+)-/.exec(msg.toString("latin1"))?.[1]);
    const tag = /\r\nTo: [^\r]*;tag=([^;\r]+)/i.exec(msg.toString("latin1"))?.[1] ?? "";
    answered++;
    sock.send(udpRequest("ACK", i, me, tag), port, "127.0.0.1");
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let sent = 0;
  const rows: string[] = [];
  for (let tick = 0; performance.now() - t0 < seconds * 1000; tick++) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due) sock.send(udpRequest("INVITE", sent++, me), port, "127.0.0.1");
    await new Promise((res) => setTimeout(res, 5));
    if (tick % 2000 === 1999 || performance.now() - t0 >= seconds * 1000) {
      // As the server lives (no forced GC), then the live heap after one.
      const raw = process.memoryUsage();
      const m = process.env.MEMORY_NOGC
        ? { heap: Number.NaN, buffers: raw.arrayBuffers, rss: raw.rss }
        : await measure();
      rows.push(
        `t=${Math.round((performance.now() - t0) / 1000)} s calls ${sent.toLocaleString("en")} answered ${answered.toLocaleString("en")} (${cpuPerCall(cpu0, answered)} µs CPU/call, client included): RSS ${fmt(raw.rss)}, heap used ${fmt(raw.heapUsed)} of ${fmt(raw.heapTotal)}; after GC: live heap ${fmt(m.heap)}, buffers ${fmt(m.buffers)}, RSS ${fmt(m.rss)}; transactions ${mock.activeTransactions}`,
      );
      console.log(rows.at(-1));
    }
  }
  sock.close();
  await mock.close();
}

function cpuPerCall(since: NodeJS.CpuUsage, calls: number): string {
  const c = process.cpuUsage(since);
  return ((c.user + c.system) / Math.max(1, calls)).toFixed(0);
}

function udpRequest(method: string, i: number, port: number, toTag = ""): Buffer {
  return Buffer.from(
    [
      `${method} sip:486@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${i}-soak;rport`,
      "Max-Forwards: 70",
      `From: <sip:alice@example.test>;tag=f${i}`,
      `To: <sip:486@example.test>${toTag ? `;tag=${toTag}` : ""}`,
      `Call-ID: ${i}-soak@127.0.0.1`,
      `CSeq: 1 ${method}`,
      `Contact: <sip:alice@127.0.0.1:${port}>`,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
    "latin1",
  );
}

async function main(): Promise<void> {
  const [which = "all", callsArg, rateArg] = process.argv.slice(2);
  const calls = Number(callsArg ?? 200_000);
  const rate = Number(rateArg ?? 1000);
  if (which === "udp") {
    await udpSoak(Number(callsArg ?? 60), Number(rateArg ?? 1000));
    return;
  }
  if (which === "dialogs") {
    await dialogCost(Number(callsArg ?? 20_000));
    return;
  }
  const kinds: Kind[] = which === "all" ? ["486", "options", "call"] : [which as Kind];
  for (const k of kinds) await flow(k, calls, rate);
  if (which === "all") await dialogCost(20_000);
}

await main();
