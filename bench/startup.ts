/**
 * How fast a mock starts and stops (issue 12): `startSipMock()` to listening
 * and `close()`, in process, as a test suite that starts a mock per test sees
 * it; and the CLI from spawn to a bound socket. Run alone with
 * `npm run build && tsx bench/startup.ts`.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { freePort, startServer, stopServer } from "./lib/servers.js";
import { percentile } from "./lib/sipp.js";

export interface StartupTimes {
  readonly embeddedStart: { p50: number; p95: number; n: number };
  readonly embeddedClose: { p50: number; p95: number; n: number };
  readonly cliStart: { p50: number; p95: number; n: number };
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number | undefined) => Math.round((v ?? 0) * 10) / 10;
  return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), n: values.length };
}

export async function startupTimes(root: string, n = 30, cliRuns = 5): Promise<StartupTimes> {
  const api = (await import(pathToFileURL(join(root, "dist", "index.js")).href)) as {
    startSipMock: (o?: object) => Promise<{ close(): Promise<void> }>;
  };
  const starts: number[] = [];
  const closes: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const mock = await api.startSipMock();
    const t1 = performance.now();
    await mock.close();
    closes.push(performance.now() - t1);
    starts.push(t1 - t0);
  }
  const cli: number[] = [];
  const flow = { name: "-", uac: "-", service: "-", referenceUas: [] };
  for (let i = 0; i < cliRuns; i++) {
    const port = await freePort();
    const t0 = performance.now();
    const server = await startServer("sipmock", flow, "udp", port, root);
    cli.push(performance.now() - t0);
    await stopServer(server);
  }
  return { embeddedStart: summary(starts), embeddedClose: summary(closes), cliStart: summary(cli) };
}

export function startupTable(t: StartupTimes): string {
  return [
    "| start-up | p50 | p95 | runs |",
    "|---|---|---|---|",
    `| \`startSipMock()\` to listening (embedded defaults) | ${t.embeddedStart.p50} ms | ${t.embeddedStart.p95} ms | ${t.embeddedStart.n} |`,
    `| \`close()\` | ${t.embeddedClose.p50} ms | ${t.embeddedClose.p95} ms | ${t.embeddedClose.n} |`,
    `| CLI \`sipmock serve\` spawn to a bound UDP socket | ${t.cliStart.p50} ms | ${t.cliStart.p95} ms | ${t.cliStart.n} |`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${startupTable(await startupTimes(join(import.meta.dirname, "..")))}\n`);
}
