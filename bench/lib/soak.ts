/**
 * Memory over a long run: sipmock answers a warm-up, then `calls` more at a
 * steady rate (half its capacity); RSS after the warm-up and after the soak
 * tell whether memory stays flat (issue 12: < +20 MB over 200,000 calls).
 */
import { peakRssMiB, rssMiB } from "./procfs.js";
import { type BenchFlow, freePort, servingPid, startServer, stopServer } from "./servers.js";
import { percentile, runUac } from "./sipp.js";

export interface SoakResult {
  readonly flow: string;
  readonly rate: number;
  readonly warmupCalls: number;
  readonly calls: number;
  readonly failed: number;
  readonly p99?: number;
  readonly rssAfterWarmupMiB?: number;
  readonly rssAfterMiB?: number;
  readonly peakRssMiB?: number;
}

export async function soak(o: {
  flow: BenchFlow;
  rate: number;
  calls: number;
  root: string;
  scenarios: string;
}): Promise<SoakResult> {
  const port = await freePort();
  const server = await startServer("sipmock", o.flow, "udp", port, o.root);
  const run = (calls: number) =>
    runUac(
      {
        scenario: o.flow.uac,
        service: o.flow.service,
        transport: "udp",
        port,
        rate: o.rate,
        seconds: Math.max(1, Math.round(calls / o.rate)),
        instances: Math.ceil(o.rate / 6000),
      },
      o.scenarios,
    );
  try {
    // Past 64*T1 (32 s) of traffic, so the live set (transactions, dialogs)
    // has stopped growing before the "after warm-up" reading; at least 20,000 calls.
    const warmupCalls = Math.max(Math.min(20_000, o.calls / 10), Math.round(o.rate * 40));
    await run(warmupCalls);
    const rssAfterWarmupMiB = rssMiB(servingPid(server));
    process.stderr.write(`  soak: ${o.rate}/s, RSS after ${warmupCalls} calls: ${rssAfterWarmupMiB} MiB\n`);
    const r = await run(o.calls);
    const p99 = percentile(r.times, 99);
    const result: SoakResult = {
      flow: o.flow.name,
      rate: o.rate,
      warmupCalls,
      calls: r.calls,
      failed: r.failed,
      ...(p99 !== undefined ? { p99 } : {}),
      ...(rssAfterWarmupMiB !== undefined ? { rssAfterWarmupMiB } : {}),
      rssAfterMiB: rssMiB(servingPid(server)) ?? 0,
      peakRssMiB: peakRssMiB(servingPid(server)) ?? 0,
    };
    process.stderr.write(`  soak: RSS after ${r.calls} more: ${result.rssAfterMiB} MiB\n`);
    return result;
  } finally {
    await stopServer(server);
  }
}

export function soakTable(results: readonly SoakResult[]): string {
  const lines = [
    "| soak (sipmock, UDP) | rate | calls after warm-up | failed | p99 | RSS after warm-up | RSS after | growth | peak RSS |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    const growth =
      r.rssAfterMiB !== undefined && r.rssAfterWarmupMiB !== undefined
        ? `${r.rssAfterMiB - r.rssAfterWarmupMiB >= 0 ? "+" : ""}${r.rssAfterMiB - r.rssAfterWarmupMiB} MiB`
        : "-";
    lines.push(
      `| ${r.flow} | ${r.rate}/s | ${r.calls} | ${r.failed} | ${r.p99 ?? "-"} ms | ${r.rssAfterWarmupMiB ?? "-"} MiB | ${r.rssAfterMiB ?? "-"} MiB | ${growth} | ${r.peakRssMiB ?? "-"} MiB |`,
    );
  }
  return lines.join("\n");
}
