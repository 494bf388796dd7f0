/**
 * The flood step of `npm run bench` (issue 10): SIPp floods sipmock with
 * INVITEs above what it can hold, with a small transaction budget so that the
 * overload path is what is measured. It reports how many INVITEs were shed
 * with `503` + `Retry-After` (from sipmock's /metrics), how many got no final
 * answer at all (SIPp's failed calls: silent drops would show here), the p99
 * of the final answers and sipmock's peak RSS. Loopback only, bounded.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { servingPid, sipmockEntry, waitBound } from "./lib/servers.js";

const HERE = import.meta.dirname;
/** Which build to flood (BENCH_ROOT, as for npm run bench). */
const ROOT = process.env.BENCH_ROOT ?? join(HERE, "..");

export interface FloodResult {
  readonly rate: number;
  readonly seconds: number;
  readonly budget: string;
  readonly invites: number;
  readonly shed503: number;
  readonly noAnswer: number;
  readonly p99?: number;
  readonly peakRssMiB?: number;
}

/** A free UDP port on loopback (shared with run.ts). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function metric(admin: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(name)) sum += Number(line.split(" ").pop());
  return sum;
}

/** The process's peak resident set (VmHWM) in MiB (shared with run.ts). */
export function peakRss(pid: number | undefined): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export async function flood(
  rate: number,
  seconds: number,
  budget = "transactions=512KiB",
): Promise<FloodResult> {
  const port = await freeUdpPort();
  const admin = await freeTcpPort();
  const server = spawn(
    process.execPath,
    [
      sipmockEntry(ROOT),
      "serve",
      "--listen",
      `udp:127.0.0.1:${port}`,
      "--log-level",
      "error",
      "--admin",
      String(admin),
      "--budget",
      budget,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  server.stderr?.on("data", () => {});
  // Not a fixed wait: the executable starts its server child (one more node
  // start, 700-1,100 ms here), and INVITEs sent before the socket is bound
  // are answered only on SIPp's retransmissions, seconds late.
  try {
    await waitBound("udp", port, server);
  } catch (err) {
    server.kill("SIGKILL");
    throw err;
  }
  const dir = mkdtempSync(join(tmpdir(), "sipmock-flood-"));
  const invites = rate * seconds;
  const args = [
    `127.0.0.1:${port}`,
    "-sf",
    join(HERE, "scenarios", "uac-invite-flood.xml"),
    "-i",
    "127.0.0.1",
    "-t",
    "u1",
    "-r",
    String(rate),
    "-m",
    String(invites),
    "-l",
    String(rate * 4),
    "-nostdin",
    "-trace_rtt",
    "-rtt_freq",
    "1",
    "-trace_stat",
    "-timeout",
    `${seconds + 20}s`,
    "-recv_timeout",
    "5000",
  ];
  await new Promise<number>((resolve) => {
    const child = spawn("sipp", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", () => {});
    child.on("exit", (c) => resolve(c ?? -1));
  });
  const times: number[] = [];
  const rttFile = readdirSync(dir).find((f) => f.endsWith("_rtt.csv"));
  if (rttFile)
    for (const line of readFileSync(join(dir, rttFile), "utf8").split("\n").slice(1)) {
      const ms = Number(line.split(";")[1]);
      if (Number.isFinite(ms) && line.includes(";")) times.push(ms);
    }
  // SIPp's statistics file: the last row's FailedCall(C) column.
  let noAnswer = 0;
  const statFile = readdirSync(dir).find((f) => f.endsWith("_.csv"));
  if (statFile) {
    const rows = readFileSync(join(dir, statFile), "utf8").trim().split("\n");
    const head = rows[0]!.split(";");
    const last = rows[rows.length - 1]!.split(";");
    const i = head.indexOf("FailedCall(C)");
    if (i >= 0) noAnswer = Number(last[i]);
  }
  rmSync(dir, { recursive: true, force: true });
  const shed503 = await metric(admin, "sipmock_overload_rejections_total");
  const rss = peakRss(servingPid(server));
  server.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  times.sort((a, b) => a - b);
  const p99 = times.length ? times[Math.min(times.length - 1, Math.floor(0.99 * times.length))] : undefined;
  return {
    rate,
    seconds,
    budget,
    invites,
    shed503,
    noAnswer,
    ...(p99 !== undefined ? { p99 } : {}),
    ...(rss !== undefined ? { peakRssMiB: rss } : {}),
  };
}

export function floodTable(results: readonly FloodResult[]): string {
  const lines = [
    "| flood (INVITE -> 486, UDP) | budget | INVITEs | shed with 503 + Retry-After | no final answer | p99 of final answers | sipmock peak RSS |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of results)
    lines.push(
      `| ${r.rate}/s for ${r.seconds} s | --budget ${r.budget} | ${r.invites} | ${r.shed503} | ${r.noAnswer} | ${r.p99 === undefined ? "-" : `${r.p99.toFixed(1)}ms`} | ${r.peakRssMiB ?? "-"} MiB |`,
    );
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rates = (process.env.BENCH_FLOOD_RATES ?? "4000,8000").split(",").map(Number);
  const results: FloodResult[] = [];
  for (const rate of rates) results.push(await flood(rate, Number(process.env.BENCH_FLOOD_SECONDS ?? 3)));
  process.stdout.write(`${floodTable(results)}\n`);
}
