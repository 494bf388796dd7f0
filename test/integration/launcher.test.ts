/**
 * The `sipmock` executable (dist/cli/bin.js, the package's bin) as a user
 * runs it: `serve` answers from a child node with --single-threaded-gc
 * (sipsak is the peer), signals reach that child once, its exit status is
 * the launcher's, and a launcher killed outright leaves no server behind.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freeUdpPort, ROOT, waitForOutput } from "../helpers/cli.js";
import { request, statusOf, udpClient } from "../helpers/wire-client.js";

const LAUNCHER = join(ROOT, "dist", "cli", "bin.js");

interface Launched {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every launcher started, and its server: none is left running when a test fails half-way. */
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    const servers = alive(pid) ? childrenOf(pid) : [];
    for (const p of [pid, ...servers]) if (alive(p)) process.kill(p, "SIGKILL");
  }
});

/** Starts the executable (in a process group of its own, as a shell's job is) and waits for its banner. */
async function launch(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Launched> {
  const { SIPMOCK_NODE_FLAGS: _, ...inherited } = process.env;
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...inherited, ...env },
  });
  started.push(child.pid!);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("exit", (code, signal) => r({ code, signal })),
  );
  const until = Date.now() + 10_000;
  while (!/listening on udp:/.test(out)) {
    if (child.exitCode !== null) return { child, output: () => out, exited };
    if (Date.now() > until) throw new Error(`no banner: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, output: () => out, exited };
}

/**
 * Starts the executable as a job of a shell with job control (`set -m`):
 * in a process group of its own within the shell's session, as from a
 * terminal (a group without a parent in its session would have the
 * kernel discard SIGTSTP). The launcher's pid, once it has a server.
 */
async function launchAsJob(args: string[]): Promise<{ launcher: number; server: number }> {
  const quoted = [process.execPath, LAUNCHER, ...args].map((a) => `'${a}'`).join(" ");
  const { SIPMOCK_NODE_FLAGS: _, ...env } = process.env;
  const shell = spawn("bash", ["-c", `set -m; ${quoted} & echo "job $!"; wait -f $!`], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  started.push(shell.pid!);
  let out = "";
  shell.stdout!.on("data", (d) => (out += d));
  shell.stderr!.on("data", (d) => (out += d));
  await waitForOutput(() => out, /job \d+/);
  const launcher = Number(/job (\d+)/.exec(out)![1]);
  started.push(launcher);
  await waitForOutput(() => out, /listening on udp:/);
  const [server] = childrenOf(launcher);
  return { launcher, server: server! };
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

/** The process group of a process (/proc/<pid>/stat, field 5, after the parenthesised name). */
function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/** The state letter of a process (/proc/<pid>/stat, field 3): R, S, T (stopped)... */
function stateOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.charAt(stat.lastIndexOf(")") + 2);
}

/** Waits (up to 5 s) until the process's state passes `ok`. */
async function untilState(pid: number, ok: (state: string) => boolean): Promise<void> {
  const until = Date.now() + 5000;
  while (!ok(stateOf(pid))) {
    if (Date.now() > until) throw new Error(`process ${pid} stayed in state ${stateOf(pid)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits (up to 8 s) until the process is gone (a zombie counts as gone: nothing of it runs). */
async function untilGone(pid: number): Promise<void> {
  const until = Date.now() + 8000;
  while (alive(pid) && stateOf(pid) !== "Z") {
    if (Date.now() > until) throw new Error(`process ${pid} is still there, state ${stateOf(pid)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sipsak(uri: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("sipsak", ["-vvv", "-s", uri], { encoding: "utf8", timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code === "string")
        reject(new Error(`sipsak could not run (${err.code}); install it: apt-get install -y sipsak`));
      else resolve(`${stdout}${stderr}`);
    }),
  );
}

const count = (text: string, what: string) => text.split(what).length - 1;

describe("the sipmock executable", () => {
  it("serve answers sipsak from a child node with --single-threaded-gc; SIGTERM stops it gracefully", async () => {
    const port = await freeUdpPort();
    const l = await launch(["serve", "--listen", `udp:127.0.0.1:${port}`, "--log-level", "warn"]);
    const [server] = childrenOf(l.child.pid!);
    expect(server).toBeDefined();
    expect(cmdline(server!)).toEqual([
      process.execPath,
      "--single-threaded-gc",
      LAUNCHER,
      ...l.child.spawnargs.slice(2),
    ]);
    expect(await sipsak(`sip:486@127.0.0.1:${port}`)).toContain("SIP/2.0 486 Busy Here");
    l.child.kill("SIGTERM");
    expect(await l.exited).toEqual({ code: 0, signal: null });
    expect(count(l.output(), "SIGTERM received, shutting down")).toBe(1);
    expect(alive(server!)).toBe(false);
  });

  it("a Ctrl-C to the launcher's process group stops the server gracefully once, exit 0", async () => {
    const port = await freeUdpPort();
    const l = await launch(["respond", "486", "--listen", `udp:127.0.0.1:${port}`]);
    // The server is in the launcher's group (one job to a shell): it gets
    // the terminal's SIGINT and the launcher's relay of it, and acts on one.
    const [server] = childrenOf(l.child.pid!);
    expect(processGroup(server!)).toBe(l.child.pid);
    // What a terminal does: SIGINT to the whole foreground group. Acted on twice would mean "stop now" (130).
    process.kill(-l.child.pid!, "SIGINT");
    expect(await l.exited).toEqual({ code: 0, signal: null });
    expect(count(l.output(), "SIGINT received, shutting down")).toBe(1);
  });

  it("a SIGTERM sent to both processes (pkill -f, a service manager) stops the server gracefully once", async () => {
    // A call that rings keeps the server draining (up to --drain-timeout) after the first SIGTERM.
    const dir = mkdtempSync(join(tmpdir(), "sipmock-launcher-"));
    const file = join(dir, "slow.yaml");
    writeFileSync(
      file,
      "name: slow\nrules:\n  - match: { method: INVITE }\n    steps: [{ send: 180 }, { wait: 20s }, { respond: 486 }]\n  - default: true\n",
    );
    const port = await freeUdpPort();
    const l = await launch([
      ...["serve", "--listen", `udp:127.0.0.1:${port}`, "--log-level", "warn"],
      ...["--scenario", file, "--drain-timeout", "3000"],
    ]);
    const [server] = childrenOf(l.child.pid!);
    const target = { host: "127.0.0.1", port };
    const c = await udpClient(target);
    try {
      await c.send(request("INVITE", "bob", target, { localPort: c.port }));
      await c.waitFor((r) => statusOf(r) === 180);
      // The launcher's relay first, then the server's own copy, once the first was taken:
      // a second signal acted on would be "stop now" (exit 130, no drain).
      l.child.kill("SIGTERM");
      await waitForOutput(l.output, /SIGTERM received, shutting down/);
      process.kill(server!, "SIGTERM");
      expect(await l.exited).toEqual({ code: 0, signal: null });
      expect(count(l.output(), "SIGTERM received, shutting down")).toBe(1);
    } finally {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("Ctrl-Z stops the server with the launcher; fg continues both, and the server answers", async () => {
    const port = await freeUdpPort();
    const { launcher, server } = await launchAsJob(["respond", "486", "--listen", `udp:127.0.0.1:${port}`]);
    expect(processGroup(server)).toBe(launcher);
    // What a terminal does: SIGTSTP to the foreground job's group; on fg, SIGCONT to it.
    process.kill(-launcher, "SIGTSTP");
    await untilState(server, (s) => s === "T");
    await untilState(launcher, (s) => s === "T");
    process.kill(-launcher, "SIGCONT");
    await untilState(server, (s) => s !== "T");
    // (respond 486 answers INVITEs with 486; sipsak's OPTIONS gets 200.)
    expect(await sipsak(`sip:bob@127.0.0.1:${port}`)).toContain("SIP/2.0 200 OK");
    process.kill(launcher, "SIGTERM");
    await untilGone(server);
  });

  it("a server left stopped by a launcher killed outright is ended (its group is orphaned)", async () => {
    const port = await freeUdpPort();
    const { launcher, server } = await launchAsJob(["serve", "--listen", `udp:127.0.0.1:${port}`]);
    process.kill(-launcher, "SIGTSTP");
    await untilState(server, (s) => s === "T");
    process.kill(launcher, "SIGKILL");
    await untilGone(server);
  });

  it("a server killed outright ends the launcher the same way", async () => {
    const port = await freeUdpPort();
    const l = await launch(["serve", "--listen", `udp:127.0.0.1:${port}`, "--log-level", "warn"]);
    const [server] = childrenOf(l.child.pid!);
    process.kill(server!, "SIGKILL");
    expect(await l.exited).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("a launcher killed outright leaves no server: the child stops itself", async () => {
    const port = await freeUdpPort();
    const l = await launch(["serve", "--listen", `udp:127.0.0.1:${port}`, "--log-level", "warn"]);
    const [server] = childrenOf(l.child.pid!);
    l.child.kill("SIGKILL");
    await l.exited;
    const until = Date.now() + 8000;
    while (alive(server!) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(alive(server!)).toBe(false);
    expect(l.output()).toContain("SIGTERM received, shutting down");
  });

  it("the server's exit status is the launcher's: a bad flag exits 2 with its one line", async () => {
    const l = await launch(["serve", "--listen", "udp:127.0.0.1:99999"]);
    expect(await l.exited).toEqual({ code: 2, signal: null });
    expect(l.output()).toMatch(/^sipmock: .*99999.*\n$/);
  });

  it("SIPMOCK_NODE_FLAGS names the flags; empty serves from the launcher's own process", async () => {
    const port = await freeUdpPort();
    const flagged = await launch(["serve", "--listen", `udp:127.0.0.1:${port}`, "--log-level", "warn"], {
      SIPMOCK_NODE_FLAGS: "--single-threaded-gc --heap-growing-percent=20",
    });
    const [server] = childrenOf(flagged.child.pid!);
    expect(cmdline(server!).slice(1, 3)).toEqual(["--single-threaded-gc", "--heap-growing-percent=20"]);
    flagged.child.kill("SIGTERM");
    await flagged.exited;

    const here = await launch(["serve", "--listen", `udp:127.0.0.1:${port}`, "--log-level", "warn"], {
      SIPMOCK_NODE_FLAGS: "",
    });
    expect(childrenOf(here.child.pid!)).toEqual([]);
    expect(await sipsak(`sip:200@127.0.0.1:${port}`)).toContain("SIP/2.0 200 OK");
    here.child.kill("SIGTERM");
    expect(await here.exited).toEqual({ code: 0, signal: null });
  });
});
