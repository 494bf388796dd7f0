/**
 * The `sipmock` executable runs a server command (serve, respond) in a child
 * `node` started with V8 flags a process cannot set on itself once running
 * (node:v8 setFlagsFromString of a GC flag after start-up crashes it). The
 * default, `--single-threaded-gc`, keeps V8's garbage collector on the main
 * thread: measured under SIPp load (BENCHMARKS.md, 2026-12-06), 20-30% less
 * CPU per call than V8's helper threads marking and scavenging beside it, on
 * a machine whose cores the load generator shares. SIPMOCK_NODE_FLAGS
 * replaces the flags ("" runs the command in this process).
 *
 * The parent only relays: the child runs in a process group of its own, so
 * a terminal's Ctrl-C reaches it once (from the parent), not twice (a second
 * signal means "stop now" to `serve`); SIGINT, SIGTERM and SIGHUP are passed
 * on; the child's exit status is the parent's. The child ends itself
 * gracefully when the parent is gone (killed with SIGKILL, say).
 */
import { spawn } from "node:child_process";

export const DEFAULT_NODE_FLAGS = "--single-threaded-gc";
/** Set in the child's environment to the parent's pid: the child runs the command itself. */
export const CHILD_ENV = "SIPMOCK_LAUNCHER_PID";
/** The commands that run a server, worth a child with other V8 flags. */
const SERVER_COMMANDS = new Set(["serve", "respond"]);
const RELAYED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
/** How often the child looks for its parent. */
const PARENT_CHECK_MS = 500;

/**
 * The node flags to run this command line with in a child, or undefined to
 * run it here: not a server command, already a child, no flags asked, every
 * flag already given to this node, or Windows (a process group of its own
 * there is a console window of its own).
 */
export function relaunchFlags(
  argv: readonly string[],
  execArgv: readonly string[],
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string[] | undefined {
  if (platform === "win32" || env[CHILD_ENV] !== undefined) return undefined;
  const command = argv.slice(2).find((a) => !a.startsWith("-"));
  if (command === undefined || !SERVER_COMMANDS.has(command)) return undefined;
  const flags = (env.SIPMOCK_NODE_FLAGS ?? DEFAULT_NODE_FLAGS).split(/\s+/).filter(Boolean);
  if (flags.every((f) => execArgv.includes(f))) return undefined;
  return flags;
}

/** Runs this command line again in a child node with `flags`; this process relays until the child ends. */
export function relaunch(flags: readonly string[]): void {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, ...process.argv.slice(1)], {
    stdio: "inherit",
    detached: true,
    env: { ...process.env, [CHILD_ENV]: String(process.pid) },
  });
  const relay = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of RELAYED) process.on(signal, relay);
  child.on("error", (e) => {
    process.stderr.write(`sipmock: could not start node ${flags.join(" ")}: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    // Ended by a signal: so does this process, for the shell to see it.
    for (const s of RELAYED) process.off(s, relay);
    process.kill(process.pid, signal);
  });
}

/**
 * In the child: SIGTERM to itself (the graceful shutdown of `serve`) once
 * the launcher is gone, so a killed launcher never leaves a server holding
 * its ports. The timer does not keep the process alive.
 */
export function followParent(env: NodeJS.ProcessEnv): void {
  const parent = Number(env[CHILD_ENV]);
  if (!Number.isInteger(parent) || parent <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, "SIGTERM");
  }, PARENT_CHECK_MS);
  timer.unref();
}
