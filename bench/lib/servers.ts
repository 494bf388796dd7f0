/**
 * The servers the benchmark compares, started the same way on the same
 * transport: sipmock's CLI (built, run as its bin `sipmock` runs: a launcher
 * and the server in a child node with `--single-threaded-gc`; `--log-level
 * error` as the README says for load tests, the journal on at its default
 * bound), SIPp's own UAS, and the floor (bench/floor-uas.mjs: the least a
 * SIP UAS in Node can do, no SIP stack), which says how much of sipmock's
 * cost is Node's and how much its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { relaunchFlags } from "../../src/cli/launcher.js";
import { childPids } from "./procfs.js";
import { type BenchTransport, SIPP_TRANSPORT } from "./sipp.js";

export { freePort } from "./ports.js";

export type ServerKind = "sipmock" | "sipp" | "floor";

export interface BenchFlow {
  readonly name: string;
  /** SIPp UAC scenario file (bench/scenarios). */
  readonly uac: string;
  /** Request-URI user: what sipmock's default dial-a-code answers. */
  readonly service: string;
  /** How SIPp plays the reference server for this flow. */
  readonly referenceUas: readonly string[];
  /** sipmock flags of this flow (besides --log-level error and BENCH_SIPMOCK_ARGS). */
  readonly sipmockArgs?: readonly string[];
}

/** Whether a socket is bound (UDP) or listening (TCP) on 127.0.0.1:port, from /proc/net. */
function bound(transport: BenchTransport, port: number): boolean {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const rows = readFileSync(`/proc/net/${transport}`, "utf8").split("\n").slice(1);
  return rows.some((row) => {
    const cols = row.trim().split(/\s+/);
    return cols[1] === hex && (transport === "udp" || cols[3] === "0A");
  });
}

/** Waits until the child listens on 127.0.0.1:port (it throws if the child exits first, or after 15 s). */
export async function waitBound(transport: BenchTransport, port: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + 15_000;
  while (!bound(transport, port)) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before listening`);
    if (Date.now() > until) throw new Error(`nothing listening on ${transport}:127.0.0.1:${port} after 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The command line that starts `kind` as this flow's UAS on 127.0.0.1:port. */
function commandOf(
  kind: ServerKind,
  flow: BenchFlow,
  transport: BenchTransport,
  port: number,
  root: string,
): [string, string[]] {
  if (kind === "floor")
    return [process.execPath, [join(import.meta.dirname, "..", "floor-uas.mjs"), transport, String(port)]];
  if (kind === "sipp")
    return [
      "sipp",
      [
        ...flow.referenceUas,
        "-i",
        "127.0.0.1",
        "-p",
        String(port),
        "-nostdin",
        "-t",
        SIPP_TRANSPORT[transport],
      ],
    ];
  const extra = [
    ...(flow.sipmockArgs ?? []),
    ...(process.env.BENCH_SIPMOCK_ARGS ?? "").split(" ").filter(Boolean),
  ];
  return [
    process.execPath,
    [
      ...nodeArgs(),
      sipmockEntry(root),
      ...["serve", "--listen", `${transport}:127.0.0.1:${port}`, "--log-level", "error", ...extra],
    ],
  ];
}

export async function startServer(
  kind: ServerKind,
  flow: BenchFlow,
  transport: BenchTransport,
  port: number,
  root: string,
): Promise<ChildProcess> {
  const cwd = mkdtempSync(join(tmpdir(), "sipmock-bench-uas-"));
  const [command, args] = commandOf(kind, flow, transport, port, root);
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], cwd });
  child.stderr?.on("data", () => {});
  child.on("exit", () => rmSync(cwd, { recursive: true, force: true }));
  await waitBound(transport, port, child);
  return child;
}

/**
 * The `sipmock` executable of a checkout: dist/cli/bin.js, the launcher
 * (since 2026-12-06); in a checkout from before it (BENCH_ROOT), the CLI
 * itself, dist/cli/main.js, as users ran it then.
 */
export function sipmockEntry(root: string): string {
  const launcher = join(root, "dist", "cli", "bin.js");
  return existsSync(launcher) ? launcher : join(root, "dist", "cli", "main.js");
}

/**
 * The process that serves: the `sipmock` executable (bin.js, as users run
 * it) serves from a child node with its V8 flags; SIPp, the floor and an
 * older checkout's main.js serve from the process started.
 */
export function servingPid(child: ChildProcess, kind: ServerKind = "sipmock"): number | undefined {
  const serving = childPids(child.pid)[0];
  if (serving !== undefined) return serving;
  if (kind === "sipmock" && child.spawnargs.some((a) => a.endsWith(join("cli", "main.js")))) return child.pid;
  // Not silently the idle launcher: the executable starts a child unless its flags say otherwise.
  const args = ["node", "bin.js", "serve"];
  if (kind === "sipmock" && relaunchFlags(args, nodeArgs(), process.env) !== undefined)
    throw new Error(`the sipmock executable (pid ${child.pid}) has no server child`);
  return child.pid;
}

/** BENCH_NODE_ARGS: node flags of the sipmock executable (its server child inherits them). */
function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
