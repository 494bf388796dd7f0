/**
 * `npm run bench`: sipmock against SIPp's own UAS (`sipp -sn uas` and two
 * small UAS scenarios), flow by flow and transport by transport, back to back
 * in the same run, and against the Node floor (bench/floor-uas.mjs: Node's
 * sockets and a minimal answer, no SIP stack; BENCH_FLOOR=0 leaves it out). Each server is driven by SIPp UAC instances at doubling
 * call rates until a step fails; a step passes with 0 failed calls and p99 <=
 * BENCH_P99_MS (50). Per step: CPU µs per call (the server process's user +
 * system time over the step, from /proc), p50/p99, retransmissions, kernel
 * UDP receive drops, RSS. Each server first gets BENCH_WARMUP_SECONDS (2)
 * of calls at the first rate, not measured: a fresh process's first
 * seconds (JIT compilation, first allocations) are not a step's verdict.
 * Then a memory soak, start-up times and the flood (issue 10). Writes
 * bench/results/latest.{md,json}. Loopback only, bounded.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { type FloodResult, flood, floodTable } from "./flood.js";
import { FLOWS } from "./lib/flows.js";
import { load1, peakRssMiB, rmemMax, rssMiB, treeCpuSeconds, udpDrops } from "./lib/procfs.js";
import { type MeasuredServer, measuredTable, type Row, ratioTable, type Step } from "./lib/report.js";
import {
  type BenchFlow,
  freePort,
  type ServerKind,
  servingPid,
  startServer,
  stopServer,
} from "./lib/servers.js";
import { type BenchTransport, percentile, runUac } from "./lib/sipp.js";
import { type SoakResult, soak, soakTable } from "./lib/soak.js";
import { startupTable, startupTimes } from "./startup.js";

const HERE = import.meta.dirname;
/** Which build to measure (BENCH_ROOT: another checkout, e.g. the commit before a change). */
const ROOT = process.env.BENCH_ROOT ?? join(HERE, "..");
const SCENARIOS = join(HERE, "scenarios");
const env = process.env;
const STEP_SECONDS = Number(env.BENCH_STEP_SECONDS ?? 5);
const RATES = (env.BENCH_RATES ?? "250,500,1000,2000,4000,8000,16000,32000").split(",").map(Number);
const P99_MS = Number(env.BENCH_P99_MS ?? 50);
/** The rate one SIPp UAC process is given at most; above it the rate is shared by several. */
const UAC_RATE = Number(env.BENCH_UAC_RATE ?? 6000);
const TRANSPORTS = (env.BENCH_TRANSPORTS ?? "udp,tcp").split(",") as BenchTransport[];
const FLOW_FILTER = env.BENCH_FLOWS?.split(",");
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 2);
const FLOOR = env.BENCH_FLOOR !== "0";

async function step(
  /** The process started (CPU: it and its children) and the one serving (RSS). */
  pid: number | undefined,
  serving: number | undefined,
  flow: BenchFlow,
  transport: BenchTransport,
  port: number,
  rate: number,
): Promise<Step> {
  const cpu0 = treeCpuSeconds(pid);
  const drops0 = udpDrops();
  const instances = Math.ceil(rate / UAC_RATE);
  const r = await runUac(
    { scenario: flow.uac, service: flow.service, transport, port, rate, seconds: STEP_SECONDS, instances },
    SCENARIOS,
  );
  const cpu = treeCpuSeconds(pid) - cpu0;
  const p50 = percentile(r.times, 50);
  const p99 = percentile(r.times, 99);
  const rss = rssMiB(serving);
  return {
    rate,
    calls: r.calls,
    failed: r.failed,
    retransmissions: r.retransmissions,
    drops: udpDrops() - drops0,
    cpuUsPerCall: Math.round((cpu * 1e6) / Math.max(1, r.calls)),
    cpuShare: Math.round((cpu / STEP_SECONDS) * 100),
    instances,
    pass: r.failed === 0 && p99 !== undefined && p99 <= P99_MS,
    ...(p50 !== undefined ? { p50 } : {}),
    ...(p99 !== undefined ? { p99 } : {}),
    ...(rss !== undefined ? { rssMiB: rss } : {}),
  };
}

async function measure(
  kind: ServerKind,
  flow: BenchFlow,
  transport: BenchTransport,
): Promise<MeasuredServer> {
  const port = await freePort();
  const server = await startServer(kind, flow, transport, port, ROOT);
  const serving = servingPid(server, kind);
  const steps: Step[] = [];
  let peak: number | undefined;
  try {
    if (WARMUP_SECONDS > 0) {
      // Not measured, the same for both servers: the first step then sees a warm process.
      const rate = RATES[0]!;
      await runUac(
        {
          scenario: flow.uac,
          service: flow.service,
          transport,
          port,
          rate,
          seconds: WARMUP_SECONDS,
          instances: 1,
        },
        SCENARIOS,
      );
    }
    for (const rate of RATES) {
      const s = await step(server.pid, serving, flow, transport, port, rate);
      steps.push(s);
      process.stderr.write(
        `  ${kind.padEnd(7)} ${transport} ${flow.name.padEnd(25)} ${String(rate).padStart(5)}/s failed=${s.failed} p50=${s.p50 ?? "-"} p99=${s.p99 ?? "-"} cpu=${s.cpuUsPerCall}µs/call (${s.cpuShare}%) retrans=${s.retransmissions} drops=${s.drops}\n`,
      );
      if (!s.pass) break;
    }
  } finally {
    peak = peakRssMiB(serving);
    await stopServer(server);
  }
  return { kind, steps, ...(peak !== undefined ? { peakRssMiB: peak } : {}) };
}

function sippVersion(): string {
  try {
    return /SIPp v?([\w.-]+)/.exec(execFileSync("sipp", ["-v"], { encoding: "utf8" }))?.[1] ?? "?";
  } catch (e) {
    return /SIPp v?([\w.-]+)/.exec(String((e as { stdout?: string }).stdout))?.[1] ?? "?";
  }
}

async function main(): Promise<void> {
  const loadBefore = load1();
  const started = new Date().toISOString();
  process.stderr.write(
    `rates ${RATES.join(", ")} calls/s, ${STEP_SECONDS} s a step, pass: 0 failed and p99 <= ${P99_MS} ms, ${TRANSPORTS.join("+")} on loopback\n`,
  );
  const rows: Row[] = [];
  for (const transport of TRANSPORTS) {
    for (const flow of FLOWS.filter((f) => !FLOW_FILTER || FLOW_FILTER.includes(f.name))) {
      const sipp = await measure("sipp", flow, transport);
      const sipmock = await measure("sipmock", flow, transport);
      const floor = FLOOR ? await measure("floor", flow, transport) : undefined;
      rows.push({ flow: flow.name, transport, sipmock, sipp, ...(floor ? { floor } : {}) });
    }
  }
  const soaks: SoakResult[] = [];
  const soakCalls = Number(env.BENCH_SOAK_CALLS ?? 200_000);
  if (soakCalls > 0) {
    const flow = FLOWS.find((f) => f.name === "INVITE/486/ACK")!;
    const cap = rows.find((r) => r.flow === flow.name && r.transport === "udp");
    const capacity = cap ? [...cap.sipmock.steps].reverse().find((s) => s.pass)?.rate : undefined;
    const rate = Math.max(100, Math.round((capacity ?? 500) / 2));
    soaks.push(await soak({ flow, rate, calls: soakCalls, root: ROOT, scenarios: SCENARIOS }));
  }
  const startup = env.BENCH_STARTUP === "0" ? undefined : await startupTimes(ROOT);
  const floods: FloodResult[] = [];
  for (const rate of (env.BENCH_FLOOD_RATES ?? "4000,8000").split(",").filter(Boolean).map(Number)) {
    floods.push(await flood(rate, 3));
  }
  const header = [
    `sipmock benchmark, started ${started}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `node ${process.version}, SIPp ${sippVersion()}, load average ${loadBefore} before and ${load1()} after, net.core.rmem_max ${rmemMax() ?? "?"}`,
    `steps of ${STEP_SECONDS} s at ${RATES.join(", ")} calls/s; a step passes with 0 failed calls and p99 <= ${P99_MS} ms; at most ${UAC_RATE} calls/s per SIPp UAC process`,
  ].join("\n");
  const sections = [
    header,
    ratioTable(rows),
    measuredTable(rows),
    ...(soaks.length ? [soakTable(soaks)] : []),
    ...(startup ? [startupTable(startup)] : []),
    ...(floods.length ? [floodTable(floods)] : []),
  ];
  const text = `${sections.join("\n\n")}\n`;
  process.stdout.write(`\n${text}`);
  mkdirSync(join(HERE, "results"), { recursive: true });
  writeFileSync(join(HERE, "results", "latest.md"), text);
  writeFileSync(
    join(HERE, "results", "latest.json"),
    JSON.stringify({ header, rows, soaks, startup, floods }, null, 2),
  );
}

await main();
