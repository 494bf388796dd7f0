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
 * The parent only relays SIGINT, SIGTERM and SIGHUP; the child's exit status
 * is the parent's. The child is in the parent's process group, as one job
 * of a shell: a terminal's Ctrl-Z stops both and `fg` continues both. A
 * terminal's Ctrl-C (or a `pkill -f`) reaches the child twice, directly and
 * relayed: it acts on the first (freshSignals), as a second one would mean
 * "stop now" to `serve`. The child ends itself gracefully when the parent
 * is gone (killed with SIGKILL, say); left stopped by it, it is ended by the
 * kernel (SIGHUP to a stopped, orphaned process group).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";

export const DEFAULT_NODE_FLAGS = "--single-threaded-gc";
/** Set in the child's environment to the parent's pid: the child runs the command itself. */
export const CHILD_ENV = "SIPMOCK_LAUNCHER_PID";
/** The commands that run a server, worth a child with other V8 flags. */
const SERVER_COMMANDS = new Set(["serve", "respond"]);
const RELAYED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
/** How often the child looks for its parent. */
const PARENT_CHECK_MS = 500;
/**
 * How long after a signal the child takes the same signal again as the same
 * one (a terminal's Ctrl-C, `pkill -f`, tree-kill and systemd's
 * control-group kill reach both the launcher and the child, which then gets
 * it twice: once directly, once relayed; a second signal means "stop now"
 * to serve).
 */
export const REPEAT_WINDOW_MS = 1000;
/** Node flags of the launcher the child does not inherit: a debugger port or a file watcher of its own. */
const NOT_INHERITED = /^--(inspect|debug|watch)/;

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
  const inherited = process.execArgv.filter((a) => !NOT_INHERITED.test(a) && !flags.includes(a));
  // Listening before the child exists: a signal in between is relayed once it does.
  let child: ChildProcess | undefined;
  const pending: NodeJS.Signals[] = [];
  const relay = (signal: NodeJS.Signals) => (child ? child.kill(signal) : pending.push(signal));
  for (const signal of RELAYED) process.on(signal, relay);
  child = spawn(process.execPath, [...inherited, ...flags, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, [CHILD_ENV]: String(process.pid) },
  });
  for (const signal of pending) child.kill(signal);
  child.on("error", (e) => {
    process.stderr.write(`sipmock: could not start node ${flags.join(" ")}: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    for (const s of RELAYED) process.off(s, relay);
    endLikeChild(signal);
  });
}

/**
 * The launcher's end when its child was ended by `signal`: the status a
 * shell reports for it (128 + the signal's number). A signal that was
 * relayed (or SIGKILL) ends this process too, as the shell expects; a crash
 * (SIGSEGV, SIGABRT) is only reported, so no core dump blames the launcher.
 * As PID 1 (a container's entrypoint) the re-raised signal is ignored by the
 * kernel and the exit code stands.
 */
function endLikeChild(signal: NodeJS.Signals): void {
  process.exitCode = 128 + (constants.signals[signal] ?? 0);
  if (signal === "SIGKILL" || RELAYED.includes(signal)) process.kill(process.pid, signal);
  else process.exit();
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

/**
 * In the child: whether a signal is one to act on, not the same signal
 * again within REPEAT_WINDOW_MS of the last one acted on (it reached the
 * launcher too, which relayed it). Outside a launcher every signal counts.
 */
export function freshSignals(
  env: NodeJS.ProcessEnv,
  now: () => number = () => performance.now(),
): (signal: string) => boolean {
  if (env[CHILD_ENV] === undefined) return () => true;
  const last = new Map<string, number>();
  return (signal) => {
    const t = now();
    const before = last.get(signal);
    if (before !== undefined && t - before < REPEAT_WINDOW_MS) return false;
    last.set(signal, t);
    return true;
  };
}
