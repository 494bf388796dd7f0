/**
 * SIPp as the load generator: one or several UAC instances (a single SIPp
 * tops out below the rates SIPp's own UAS reaches), each with its own local
 * port, their results merged: calls, failed calls, retransmissions, and every
 * response time (-trace_rtt) for the percentiles.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

export type BenchTransport = "udp" | "tcp";

export interface UacRun {
  readonly scenario: string;
  readonly service: string;
  readonly transport: BenchTransport;
  readonly port: number;
  readonly rate: number;
  readonly seconds: number;
  /** How many SIPp UAC processes share the rate. */
  readonly instances: number;
}

export interface UacResult {
  readonly calls: number;
  readonly failed: number;
  readonly retransmissions: number;
  /** Response times in ms, sorted. */
  readonly times: number[];
}

/** SIPp's -t: one socket per instance over UDP, one connection per instance over TCP. */
export const SIPP_TRANSPORT: Record<BenchTransport, string> = { udp: "u1", tcp: "t1" };

function lastStat(dir: string, column: string): number {
  const file = readdirSync(dir).find((f) => f.endsWith("_.csv"));
  if (!file) return 0;
  const rows = readFileSync(join(dir, file), "utf8").trim().split("\n");
  const head = rows[0]!.split(";");
  const i = head.indexOf(column);
  return i < 0 ? 0 : Number(rows[rows.length - 1]!.split(";")[i]) || 0;
}

function rtts(dir: string): number[] {
  const file = readdirSync(dir).find((f) => f.endsWith("_rtt.csv"));
  const out: number[] = [];
  if (!file) return out;
  for (const line of readFileSync(join(dir, file), "utf8").split("\n").slice(1)) {
    const cols = line.split(";");
    const ms = Number(cols[1]);
    if (cols.length >= 2 && Number.isFinite(ms)) out.push(ms);
  }
  return out;
}

async function one(run: UacRun, rate: number, calls: number, scenarioDir: string): Promise<UacResult> {
  const dir = mkdtempSync(join(tmpdir(), "sipmock-bench-uac-"));
  // A local port of its own: instances started together otherwise race for
  // SIPp's default one, and the loser exits ("Unable to listen main socket").
  const localPort = await freePort();
  const args = [
    `127.0.0.1:${run.port}`,
    ...["-p", String(localPort)],
    ...["-sf", join(scenarioDir, run.scenario), "-s", run.service, "-i", "127.0.0.1"],
    ...["-t", SIPP_TRANSPORT[run.transport], "-r", String(rate), "-m", String(calls)],
    ...["-l", String(Math.max(100, rate * 4)), "-nostdin", "-trace_rtt", "-rtt_freq", "1"],
    ...["-trace_stat", "-fd", "1", "-timeout", `${run.seconds + 15}s`, "-timeout_error"],
    ...["-recv_timeout", "5000"],
  ];
  const code = await new Promise<number>((resolve) => {
    const child = spawn("sipp", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", () => {});
    child.on("exit", (c) => resolve(c ?? -1));
  });
  const times = rtts(dir);
  const failedStat = lastStat(dir, "FailedCall(C)");
  const retransmissions = lastStat(dir, "Retransmissions(C)");
  rmSync(dir, { recursive: true, force: true });
  // SIPp exits 0 only when every call succeeded; calls it never finished count as failed too.
  const failed = code === 0 ? 0 : Math.max(1, failedStat, calls - times.length);
  return { calls, failed, retransmissions, times };
}

/** Runs the instances side by side for `seconds` at `rate` calls/s in all. */
export async function runUac(run: UacRun, scenarioDir: string): Promise<UacResult> {
  const n = Math.max(1, run.instances);
  const each = Math.max(1, Math.round(run.rate / n));
  const calls = each * run.seconds;
  const results = await Promise.all(Array.from({ length: n }, () => one(run, each, calls, scenarioDir)));
  const times = results.flatMap((r) => r.times).sort((a, b) => a - b);
  return {
    calls: calls * n,
    failed: results.reduce((s, r) => s + r.failed, 0),
    retransmissions: results.reduce((s, r) => s + r.retransmissions, 0),
    times,
  };
}

export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
