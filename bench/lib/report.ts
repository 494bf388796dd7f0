/** The benchmark's tables: the ratios to SIPp's UAS (and to the Node floor) first, then every step's numbers. */
import type { BenchTransport } from "./sipp.js";

export interface Step {
  readonly rate: number;
  readonly calls: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly drops: number;
  readonly cpuUsPerCall: number;
  /** Share of one core the server used over the step, %. */
  readonly cpuShare: number;
  readonly instances: number;
  readonly pass: boolean;
  readonly p50?: number;
  readonly p99?: number;
  readonly rssMiB?: number;
}

export interface MeasuredServer {
  readonly kind: "sipmock" | "sipp" | "floor";
  readonly steps: readonly Step[];
  readonly peakRssMiB?: number;
}

export interface Row {
  readonly flow: string;
  readonly transport: BenchTransport;
  readonly sipmock: MeasuredServer;
  readonly sipp: MeasuredServer;
  /** bench/floor-uas.mjs: Node's sockets and a minimal answer, no SIP stack (BENCH_FLOOR=0 leaves it out). */
  readonly floor?: MeasuredServer;
}

export function capacity(m: MeasuredServer): Step | undefined {
  let best: Step | undefined;
  for (const s of m.steps) {
    if (!s.pass) break;
    best = s;
  }
  return best;
}

/** The capacity, written ">= N" when the last rate tried still passed (the true limit is higher). */
function capText(m: MeasuredServer): string {
  const c = capacity(m);
  if (!c) return "0";
  return m.steps[m.steps.length - 1]?.pass ? `>= ${c.rate}` : String(c.rate);
}

const ms = (v: number | undefined) => (v === undefined ? "-" : `${v < 10 ? v.toFixed(2) : v.toFixed(0)}`);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? "-" : (a / b).toFixed(2);

/**
 * CPU per call of each server at the highest rate sipmock and SIPp's UAS
 * both passed: the same load for both. The floor's step at that rate, when
 * it was run (its CPU per call at the same load, pass or not).
 */
function commonStep(r: Row): { rate: number; a?: Step; b?: Step; f?: Step } | undefined {
  const ca = capacity(r.sipmock)?.rate ?? 0;
  const cb = capacity(r.sipp)?.rate ?? 0;
  const rate = Math.min(ca, cb);
  if (rate === 0) return undefined;
  const a = r.sipmock.steps.find((s) => s.rate === rate);
  const b = r.sipp.steps.find((s) => s.rate === rate);
  const f = r.floor?.steps.find((s) => s.rate === rate);
  return { rate, ...(a ? { a } : {}), ...(b ? { b } : {}), ...(f ? { f } : {}) };
}

export function ratioTable(rows: readonly Row[]): string {
  const lines = [
    "| flow | transport | sipmock capacity | `sipp` UAS capacity | capacity ratio | common rate | sipmock CPU µs/call | `sipp` UAS CPU µs/call | CPU ratio (sipmock/sipp) | sipmock p99 at half its capacity | sipmock RSS at capacity / peak | Node floor capacity | Node floor CPU µs/call | CPU ratio (floor/sipp) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const ca = capacity(r.sipmock);
    const cb = capacity(r.sipp);
    const common = commonStep(r);
    const half = ca ? r.sipmock.steps.find((s) => s.rate * 2 === ca.rate) : undefined;
    lines.push(
      `| ${r.flow} | ${r.transport} | ${capText(r.sipmock)} | ${capText(r.sipp)} | ${ratio(ca?.rate, cb?.rate)} | ${common?.rate ?? "-"} | ${common?.a?.cpuUsPerCall ?? "-"} | ${common?.b?.cpuUsPerCall ?? "-"} | ${ratio(common?.a?.cpuUsPerCall, common?.b?.cpuUsPerCall)} | ${half ? `${ms(half.p99)} ms` : "-"} | ${ca?.rssMiB ?? "-"} / ${r.sipmock.peakRssMiB ?? "-"} MiB | ${r.floor ? capText(r.floor) : "-"} | ${common?.f?.cpuUsPerCall ?? "-"} | ${ratio(common?.f?.cpuUsPerCall, common?.b?.cpuUsPerCall)} |`,
    );
  }
  return lines.join("\n");
}

export function measuredTable(rows: readonly Row[]): string {
  const lines = [
    "| flow | transport | server | calls/s | UACs | failed | p50 ms | p99 ms | CPU µs/call | CPU % of a core | retransmissions | kernel drops | RSS MiB |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows)
    for (const m of [r.sipmock, r.sipp, ...(r.floor ? [r.floor] : [])])
      for (const s of m.steps)
        lines.push(
          `| ${r.flow} | ${r.transport} | ${m.kind} | ${s.rate}${s.pass ? "" : " (fail)"} | ${s.instances} | ${s.failed} | ${ms(s.p50)} | ${ms(s.p99)} | ${s.cpuUsPerCall} | ${s.cpuShare} | ${s.retransmissions} | ${s.drops} | ${s.rssMiB ?? "-"} |`,
        );
  return lines.join("\n");
}
