/**
 * `npm run bench`: drives sipmock and, as the reference, SIPp's own UAS with
 * SIPp UAC scenarios at increasing call rates. For each flow it reports the
 * highest rate with zero failed calls, p50/p99 response times at that rate,
 * sipmock's peak memory, and the ratio to SIPp. Loopback only, bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { type FloodResult, flood, floodTable, freeUdpPort, peakRss } from "./flood.js";

const HERE = import.meta.dirname;
const ROOT = join(HERE, "..");
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 3);
const RATES = (process.env.BENCH_RATES ?? "100,200,400,800,1600,3200,6400").split(",").map(Number);

interface Flow {
  readonly name: string;
  readonly uac: string;
  readonly service: string;
  /** How SIPp plays the reference server for this flow. */
  readonly referenceUas: string[];
}

const FLOWS: Flow[] = [
  {
    name: "INVITE/200/ACK/BYE",
    uac: "uac-invite-answer.xml",
    service: "bench",
    referenceUas: ["-sn", "uas"],
  },
  {
    name: "INVITE/486/ACK",
    uac: "uac-invite-486.xml",
    service: "486",
    referenceUas: ["-sf", join(HERE, "scenarios", "uas-486.xml")],
  },
  {
    name: "OPTIONS/200",
    uac: "uac-options.xml",
    service: "bench",
    referenceUas: ["-sf", join(HERE, "scenarios", "uas-options.xml")],
  },
];

interface StepResult {
  readonly rate: number;
  readonly calls: number;
  readonly failed: number;
  readonly p50?: number;
  readonly p99?: number;
}

interface ServerResult {
  readonly best?: StepResult;
  readonly steps: StepResult[];
  readonly peakRssMiB?: number;
}

function startServer(kind: "sipmock" | "sipp", flow: Flow, port: number): ChildProcess {
  const cwd = mkdtempSync(join(tmpdir(), "sipmock-bench-uas-"));
  const child =
    kind === "sipmock"
      ? spawn(
          process.execPath,
          [
            join(ROOT, "dist", "cli", "main.js"),
            "serve",
            "--listen",
            `udp:127.0.0.1:${port}`,
            "--log-level",
            "warn",
          ],
          {
            stdio: ["ignore", "ignore", "pipe"],
          },
        )
      : spawn("sipp", [...flow.referenceUas, "-i", "127.0.0.1", "-p", String(port), "-nostdin", "-t", "u1"], {
          stdio: ["ignore", "ignore", "pipe"],
          cwd,
        });
  child.stderr?.on("data", () => {});
  child.on("exit", () => rmSync(cwd, { recursive: true, force: true }));
  return child;
}

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runStep(flow: Flow, port: number, rate: number): Promise<StepResult> {
  const dir = mkdtempSync(join(tmpdir(), "sipmock-bench-"));
  const calls = rate * STEP_SECONDS;
  const args = [
    `127.0.0.1:${port}`,
    "-sf",
    join(HERE, "scenarios", flow.uac),
    "-s",
    flow.service,
    "-i",
    "127.0.0.1",
    "-t",
    "u1",
    "-r",
    String(rate),
    "-m",
    String(calls),
    "-l",
    String(rate * 4),
    "-nostdin",
    "-trace_rtt",
    "-rtt_freq",
    "1",
    "-timeout",
    `${STEP_SECONDS + 15}s`,
    "-timeout_error",
    "-recv_timeout",
    "5000",
  ];
  const code = await new Promise<number>((resolve) => {
    const child = spawn("sipp", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", () => {});
    child.on("exit", (c) => resolve(c ?? -1));
  });
  const rttFile = readdirSync(dir).find((f) => f.endsWith("_rtt.csv"));
  const times: number[] = [];
  if (rttFile) {
    for (const line of readFileSync(join(dir, rttFile), "utf8").split("\n").slice(1)) {
      const cols = line.split(";");
      const ms = Number(cols[1]);
      if (cols.length >= 2 && Number.isFinite(ms)) times.push(ms);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  times.sort((a, b) => a - b);
  // SIPp exits 0 only when every call succeeded.
  const failed = code === 0 ? 0 : Math.max(1, calls - times.length);
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  return {
    rate,
    calls,
    failed,
    ...(p50 !== undefined ? { p50 } : {}),
    ...(p99 !== undefined ? { p99 } : {}),
  };
}

async function measure(kind: "sipmock" | "sipp", flow: Flow): Promise<ServerResult> {
  const port = await freeUdpPort();
  const server = startServer(kind, flow, port);
  await new Promise((r) => setTimeout(r, 700));
  const steps: StepResult[] = [];
  let best: StepResult | undefined;
  try {
    for (const rate of RATES) {
      const step = await runStep(flow, port, rate);
      steps.push(step);
      process.stderr.write(
        `  ${kind.padEnd(7)} ${flow.name.padEnd(20)} ${String(rate).padStart(5)}/s failed=${step.failed} p50=${fmt(step.p50)} p99=${fmt(step.p99)}\n`,
      );
      if (step.failed > 0) break;
      best = step;
    }
  } catch (e) {
    process.stderr.write(`  ${kind} ${flow.name}: step failed to run: ${(e as Error).message}\n`);
  }
  const rss = kind === "sipmock" ? peakRss(server.pid) : undefined;
  server.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  return { ...(best ? { best } : {}), steps, ...(rss !== undefined ? { peakRssMiB: rss } : {}) };
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "-" : `${ms.toFixed(ms < 10 ? 2 : 1)}ms`;
}

async function main(): Promise<void> {
  const rows: Array<{ flow: string; sipmock: ServerResult; sipp: ServerResult }> = [];
  process.stderr.write(`rates ${RATES.join(", ")} calls/s, ${STEP_SECONDS} s per step, UDP on loopback\n`);
  for (const flow of FLOWS) {
    const sipmock = await measure("sipmock", flow);
    const sipp = await measure("sipp", flow);
    rows.push({ flow: flow.name, sipmock, sipp });
  }
  const lines = [
    `| flow | sipmock max calls/s (0 failed) | p50 | p99 | sipp -sn uas max calls/s | p50 | p99 | ratio | sipmock peak RSS |`,
    `|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of rows) {
    const a = r.sipmock.best;
    const b = r.sipp.best;
    const ratio = a && b ? (a.rate / b.rate).toFixed(2) : "-";
    const capped = (x: StepResult | undefined) =>
      x && x.rate === RATES[RATES.length - 1] ? `>= ${x.rate}` : String(x?.rate ?? 0);
    lines.push(
      `| ${r.flow} | ${capped(a)} | ${fmt(a?.p50)} | ${fmt(a?.p99)} | ${capped(b)} | ${fmt(b?.p50)} | ${fmt(b?.p99)} | ${ratio} | ${r.sipmock.peakRssMiB ?? "-"} MiB |`,
    );
  }
  // Issue 10: overload is answered, not dropped. Above capacity with a small
  // transaction budget, count the 503s, the INVITEs left without an answer,
  // the p99 and the RSS.
  const floods: FloodResult[] = [];
  for (const rate of (process.env.BENCH_FLOOD_RATES ?? "4000,8000").split(",").map(Number)) {
    floods.push(await flood(rate, STEP_SECONDS));
    process.stderr.write(`  flood ${rate}/s done\n`);
  }
  lines.push("", floodTable(floods));
  const header = `sipmock benchmark, ${new Date().toISOString()}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  const text = `${header}\n\n${lines.join("\n")}\n`;
  process.stdout.write(`\n${text}`);
  mkdirSync(join(HERE, "results"), { recursive: true });
  writeFileSync(join(HERE, "results", "latest.md"), text);
  writeFileSync(join(HERE, "results", "latest.json"), JSON.stringify({ header, rows }, null, 2));
}

await main();
