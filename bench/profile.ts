/**
 * `npm run bench:profile`: where sipmock's CPU goes, flow by flow. For each
 * flow, sipmock (built, `--log-level error`, as in `npm run bench`) runs
 * under `node --cpu-prof` while SIPp UAC drives it at BENCH_PROFILE_RATE
 * calls/s (1000) for BENCH_PROFILE_SECONDS (8) over UDP, after
 * BENCH_WARMUP_SECONDS (2) at 250 calls/s as in `npm run bench` (a fresh
 * mock runs cold: sent 1,000 calls/s at once it reads them late and its
 * receive-queue check refuses some, which the profile would count); the
 * profile's self
 * time is summed by function and the top BENCH_PROFILE_TOP (15) entries are
 * printed as shares of the busy time (idle excluded) and written to
 * bench/results/profile.md, with the .cpuprofile files beside it (open them
 * in Chrome DevTools). For BENCHMARKS.md; loopback only, bounded.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FLOWS, SCENARIOS } from "./lib/flows.js";
import { freePort, servingPid, startServer, stopServer } from "./lib/servers.js";
import { runUac } from "./lib/sipp.js";

const env = process.env;
const RATE = Number(env.BENCH_PROFILE_RATE ?? 1000);
const SECONDS = Number(env.BENCH_PROFILE_SECONDS ?? 8);
const TOP = Number(env.BENCH_PROFILE_TOP ?? 15);
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 2);
const WARMUP_RATE = 250;
const ROOT = env.BENCH_ROOT ?? join(import.meta.dirname, "..");
const OUT = join(import.meta.dirname, "results");

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time by function (name, file, line), as shares of the samples that were not idle. */
export function topSelf(profile: CpuProfile, top: number): { share: number; where: string }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === "(idle)") return;
    const dt = profile.timeDeltas[i] ?? 0;
    const file = f.url.split("/").slice(-2).join("/");
    const where = `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
    self.set(where, (self.get(where) ?? 0) + dt);
    busy += dt;
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, t]) => ({ share: t / busy, where }));
}

async function profileFlow(flow: (typeof FLOWS)[number]): Promise<string> {
  const dir = join(OUT, `profile-${flow.name.replaceAll("/", "-")}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  env.BENCH_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${dir}`;
  const server = await startServer("sipmock", flow, "udp", port, ROOT);
  // The launcher writes a profile too (of an idle process): the server's is named by its pid.
  const serving = servingPid(server);
  const uac = { scenario: flow.uac, service: flow.service, transport: "udp" as const, port, instances: 1 };
  if (WARMUP_SECONDS > 0) await runUac({ ...uac, rate: WARMUP_RATE, seconds: WARMUP_SECONDS }, SCENARIOS);
  const r = await runUac({ ...uac, rate: RATE, seconds: SECONDS }, SCENARIOS);
  await stopServer(server);
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile") && f.includes(`.${serving}.`));
  if (!file) throw new Error(`no CPU profile was written in ${dir}`);
  const rows = topSelf(JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile, TOP);
  return [
    `### ${flow.name} over UDP at ${RATE} calls/s for ${SECONDS} s (${r.calls} calls, ${r.failed} failed)`,
    "",
    "| self time (share of busy) | function |",
    "|---|---|",
    ...rows.map((x) => `| ${(x.share * 100).toFixed(1)}% | \`${x.where}\` |`),
    "",
  ].join("\n");
}

const filter = env.BENCH_FLOWS?.split(",");
const parts = [`## CPU profiles (${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC)`, ""];
for (const flow of FLOWS.filter((f) => !filter || filter.includes(f.name))) {
  const md = await profileFlow(flow);
  process.stdout.write(`${md}\n`);
  parts.push(md);
}
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, "profile.md"), parts.join("\n"));
