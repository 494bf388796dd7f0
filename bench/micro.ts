/**
 * Micro-benchmarks (ops/s) that guard the hot path against regressions,
 * without sockets or SIPp: the parser on an INVITE with SDP, the serializer
 * on a 200 OK, and whole requests through `startSipMock()` on in-memory
 * listeners (the seams the deterministic harness uses): INVITE -> 486 -> ACK,
 * OPTIONS -> 200 and the answered call INVITE -> 200 -> ACK -> BYE, with RTP
 * (`call`) or signalling only (`call-no-rtp`, mediaPort), journal on, in µs
 * of this process's CPU per call.
 * `npm run bench:micro`; compare runs on the same machine only.
 */
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { benchRequest, SDP } from "./lib/messages.js";

const ROOT = join(import.meta.dirname, "..");
const DIST = (p: string) => pathToFileURL(join(ROOT, "dist", p)).href;

type Parse = (b: Buffer) => { ok: boolean };
type Serialize = (m: {
  startLine: string;
  headers: Iterable<{ name: string; value: string }>;
  body: Buffer;
}) => Buffer;

/** In-dialog requests: the To tag the mock chose, the CSeq number, a branch of their own. */
interface InDialog {
  readonly toTag: string;
  readonly cseq: number;
  readonly branch: string;
}

function request(method: string, user: string, i: number, body = "", dialog?: InDialog): Buffer {
  return benchRequest(method, user, i, { label: "micro", body, ...dialog });
}

function ops(name: string, n: number, fn: (i: number) => void): string {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i);
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const cpu = process.cpuUsage(t0);
  const wall = performance.now() - w0;
  const us = (cpu.user + cpu.system) / n;
  return `| ${name} | ${Math.round((n / wall) * 1000).toLocaleString("en")} | ${us.toFixed(2)} |`;
}

/** Calls per second of simulated time (timers fire at their RFC 3261 times), MICRO_RATE. */
const RATE = Number(process.env.MICRO_RATE ?? 500);
const WALL = Date.UTC(2026, 0, 1);

interface Fake {
  inject(b: Buffer): void;
  sent: number;
  /** 503s: the mock shed load, so the number would not be the cost of a call. */
  shed: number;
}

type Kind = "486" | "options" | "call" | "call-no-rtp";

async function inProcess(kind: Kind, n: number): Promise<string> {
  const { startSipMock } = (await import(DIST("index.js"))) as {
    startSipMock: (o: object) => Promise<{ close(): Promise<void> }>;
  };
  const { parseDatagram } = (await import(DIST("sip/index.js"))) as { parseDatagram: Parse };
  const { Scheduler } = (await import(DIST("transaction/scheduler.js"))) as {
    Scheduler: new (
      clock: { now(): number },
      onError: (e: unknown) => void,
      manual: boolean,
    ) => { runDue(): void; pending: number };
  };
  const fake: Fake = { inject: () => {}, sent: 0, shed: 0 };
  // The caller's RTP goes to a socket of ours that reads and drops it.
  const sink = createSocket("udp4").on("message", () => {});
  await new Promise<void>((r) => sink.bind(0, "127.0.0.1", () => r()));
  const sdp = SDP.replaceAll("192.0.2.10", "127.0.0.1").replace("49170", String(sink.address().port));
  const from = { address: "192.0.2.10", port: 5062 };
  // Simulated time: the RFC 3261 timers (Timer H/I/J/K...) fire as they would at
  // MICRO_RATE calls/s, so transactions end and the live set is what a real
  // run at that rate holds (without it they all stay, and the mock sheds load).
  let clock = 0;
  const scheduler = new Scheduler({ now: () => clock }, (e) => console.error(e), true);
  const answering = kind === "call" || kind === "call-no-rtp";
  const mock = await startSipMock({
    listen: ["udp:127.0.0.1:5060"],
    // MICRO_JOURNAL=n: a journal of n entries (default 10,000); 1 shows what holding entries costs.
    ...(process.env.MICRO_JOURNAL ? { journalSize: Number(process.env.MICRO_JOURNAL) } : {}),
    // Signalling only (--media-port): the SDP names this port, no RTP socket per call.
    ...(kind === "call-no-rtp" ? { mediaPort: 40000 } : {}),
    seams: {
      scheduler,
      now: () => WALL + clock,
      openListener: async (
        spec: { transport: "udp"; host: string; port: number },
        onInbound: (m: object) => void,
      ) => {
        const info = { transport: spec.transport, address: spec.host, port: spec.port || 5060 };
        fake.inject = (bytes) =>
          onInbound({
            flow: { transport: "udp", local: { address: info.address, port: info.port }, remote: from },
            bytes,
            result: parseDatagram(bytes),
            receivedAt: WALL + clock,
          });
        return {
          info,
          send: async (flow: object, b: Buffer, onWire?: (f: object) => void) => {
            fake.sent++;
            if (answering) answered(b);
            if (b[8] === 0x35 && b[9] === 0x30 && b[10] === 0x33) fake.shed++; // "SIP/2.0 503"
            onWire?.(flow);
          },
          close: async () => {},
        };
      },
    },
  });
  // The answered call: the 200 to each INVITE names the mock's To tag; ACK and BYE follow it.
  const toTags = new Map<number, string>();
  const answered = (b: Buffer) => {
    if (b[8] !== 0x32 || b[9] !== 0x30 || b[10] !== 0x30) return; // "SIP/2.0 200"
    const text = b.toString("latin1");
    if (!text.includes("\r\nCSeq: 1 INVITE\r\n")) return;
    const tag = /\r\nTo: [^\r]*;tag=([^;\r]+)/.exec(text)?.[1];
    const call = /\r\nCall-ID: (\d+)-micro/.exec(text)?.[1];
    if (tag && call) toTags.set(Number(call), tag);
  };
  const one = (i: number) => {
    if (kind === "options") fake.inject(request("OPTIONS", "bench", i));
    else if (answering) fake.inject(request("INVITE", "bench", i, sdp));
    else {
      fake.inject(request("INVITE", "486", i));
      fake.inject(request("ACK", "486", i));
    }
  };
  // An answered call's 200 comes once its RTP sockets are bound: then the ACK and the BYE.
  const hangUp = async (from: number, to: number) => {
    for (let k = 0; k < 1000 && toTags.size < to - from; k++) await new Promise((r) => setImmediate(r));
    for (let i = from; i < to; i++) {
      const toTag = toTags.get(i);
      if (!toTag) throw new Error(`call ${i} was not answered`);
      fake.inject(request("ACK", "bench", i, "", { toTag, cseq: 1, branch: "ack" }));
      fake.inject(request("BYE", "bench", i, "", { toTag, cseq: 2, branch: "bye" }));
    }
    toTags.clear();
  };
  // Let the journal's and metrics' deferred work run between batches, as the event loop would,
  // and move the simulated clock on by the batch's share of a second.
  const batch = async (count: number, base: number) => {
    for (let i = 0; i < count; i += 100) {
      const end = Math.min(count, i + 100);
      for (let j = i; j < end; j++) one(base + j);
      if (answering) await hangUp(base + i, base + end);
      clock += (100 / RATE) * 1000;
      scheduler.runDue();
      await new Promise((r) => setImmediate(r));
    }
  };
  await batch(2000, 0);
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  await batch(n, 1_000_000);
  const cpu = process.cpuUsage(t0);
  const wall = performance.now() - w0;
  await mock.close();
  if (fake.shed > 0) throw new Error(`the mock shed ${fake.shed} requests with 503: lower MICRO_RATE`);
  if (fake.sent < n)
    throw new Error(`only ${fake.sent} responses for ${n} calls: is dist/ built with the seams?`);
  sink.close();
  const flow = {
    options: "OPTIONS -> 200",
    "486": "INVITE -> 486 -> ACK",
    call: "INVITE -> 200 -> ACK -> BYE (RTP on)",
    "call-no-rtp": "INVITE -> 200 -> ACK -> BYE (signalling only, mediaPort)",
  };
  const name = `${flow[kind]}, in process at ${RATE}/s simulated`;
  return `| ${name} | ${Math.round((n / wall) * 1000).toLocaleString("en")} calls/s | ${((cpu.user + cpu.system) / n).toFixed(1)} µs/call |`;
}

async function main(): Promise<void> {
  const { parseDatagram, serialize } = (await import(DIST("sip/index.js"))) as {
    parseDatagram: Parse;
    serialize: Serialize;
  };
  const invite = request("INVITE", "bench", 1, SDP);
  const headers = [
    {
      name: "Via",
      value: "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1-micro;rport=5062;received=192.0.2.10",
    },
    { name: "From", value: '"Alice" <sip:alice@example.test>;tag=f1' },
    { name: "To", value: "<sip:bench@example.test>;tag=abcdef123456" },
    { name: "Call-ID", value: "1-micro@192.0.2.10" },
    { name: "CSeq", value: "1 INVITE" },
    { name: "Contact", value: "<sip:sipmock@127.0.0.1:5060>" },
    { name: "Server", value: "sipmock/0.1.0" },
    { name: "Content-Type", value: "application/sdp" },
    { name: "Content-Length", value: String(SDP.length) },
  ];
  const body = Buffer.from(SDP, "latin1");
  const n = Number(process.env.MICRO_N ?? 50_000);
  // MICRO_ONLY=486 (or options, call, call-no-rtp, parse, serialize) runs one line, e.g. under --cpu-prof.
  const only = process.env.MICRO_ONLY;
  const want = (k: string) => !only || only === k;
  const lines = ["| micro-benchmark | ops/s | CPU µs/op |", "|---|---|---|"];
  if (want("parse"))
    lines.push(ops("parse an INVITE with SDP (parseDatagram)", n, () => parseDatagram(invite)));
  if (want("serialize"))
    lines.push(
      ops("serialize a 200 OK with SDP", n, () => serialize({ startLine: "SIP/2.0 200 OK", headers, body })),
    );
  if (want("486")) lines.push(await inProcess("486", Math.round(n / 5)));
  if (want("options")) lines.push(await inProcess("options", Math.round(n / 5)));
  if (want("call")) lines.push(await inProcess("call", Math.round(n / 20)));
  if (want("call-no-rtp")) lines.push(await inProcess("call-no-rtp", Math.round(n / 20)));
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
