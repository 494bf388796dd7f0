/**
 * Podman (Debian package podman) as the container engine of the image test:
 * builds docker/Dockerfile on a base made locally (scripts/container-base.sh,
 * as no registry image can be pulled), runs containers with ports mapped to
 * ephemeral loopback ports, and removes what it made.
 *
 * Every podman call gets its own containers.conf (CONTAINERS_CONF): runc,
 * because crun refuses hosts with cgroup v1 plus a cgroup2 mount carrying
 * controllers ("cgroups in hybrid mode not supported"), and ulimits within
 * this process's hard limits, because podman's defaults (nofile 1048576 and
 * nproc as high) are refused where the hard limit is lower ("setrlimit
 * RLIMIT_NOFILE: Operation not permitted").
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/cli.js";

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function hardNofile(): string {
  const v = spawnSync("bash", ["-c", "ulimit -Hn"], { encoding: "utf8" }).stdout.trim();
  return v === "unlimited" ? "-1" : v;
}

const work = mkdtempSync(join(tmpdir(), "sipmock-podman-"));
const conf = join(work, "containers.conf");
writeFileSync(
  conf,
  [
    "[containers]",
    // nproc: 4096 is plenty, and runc was refused 65536 under a hard limit of 96362.
    `default_ulimits = ["nofile=${hardNofile()}:${hardNofile()}", "nproc=4096:4096"]`,
    "[engine]",
    'runtime = "runc"',
    "",
  ].join("\n"),
);
// BUILDAH_FORMAT: podman builds OCI images by default, and OCI has no HEALTHCHECK.
const env = { ...process.env, CONTAINERS_CONF: conf, BUILDAH_FORMAT: "docker" };

/** Runs a command to its end (asynchronously: the test's own sockets keep working meanwhile). */
export function exec(
  command: string,
  args: readonly string[],
  timeoutMs = 60_000,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (e) => {
      clearTimeout(killer);
      reject(new Error(`${command} could not run (${e.message})`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

export function podman(args: readonly string[], timeoutMs?: number): Promise<Run> {
  return exec("podman", args, timeoutMs);
}

/** podman ARGS, which must exit 0; its stdout. */
export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) {
    throw new Error(`podman ${args.join(" ")}: exit ${r.code}\n${(r.stderr || r.stdout).slice(-3000)}`);
  }
  return r.stdout;
}

/**
 * The base (Debian bookworm + Node 20 + npm) made by scripts/container-base.sh,
 * the stand-in for node:20-bookworm-slim and debian:bookworm-slim.
 */
export async function buildBase(tag: string): Promise<void> {
  const made = await exec("bash", [join(ROOT, "scripts", "container-base.sh"), tag], 10 * 60_000);
  if (made.code !== 0) throw new Error(`scripts/container-base.sh: exit ${made.code}\n${made.stderr}`);
}

/** The image of docker/Dockerfile built on `base`. */
export async function buildImage(tag: string, base: string): Promise<void> {
  await podmanOk(
    [
      "build",
      "--layers=false",
      "--build-arg",
      `NODE_IMAGE=${base}`,
      "-f",
      "docker/Dockerfile",
      "-t",
      tag,
      ".",
    ],
    10 * 60_000,
  );
}

export interface Container {
  readonly name: string;
  /** 127.0.0.1:PORT on the host for a container port ("5060/udp"). */
  mapped(port: string): Promise<{ host: string; port: number }>;
  output(): string;
  remove(): Promise<void>;
}

/**
 * `podman run --rm` in the foreground (its output is the server's), every
 * port in `ports` published on an ephemeral 127.0.0.1 port; resolves once the
 * output matches `ready`.
 */
export async function runContainer(
  image: string,
  name: string,
  opts: {
    ports: readonly string[];
    env?: Readonly<Record<string, string>>;
    args?: readonly string[];
    ready: RegExp;
  },
): Promise<Container> {
  const child: ChildProcess = spawn(
    "podman",
    [
      "run",
      "--rm",
      "--name",
      name,
      ...opts.ports.flatMap((p) => ["-p", `127.0.0.1::${p}`]),
      ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      image,
      ...(opts.args ?? []),
    ],
    { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (d: string) => {
    out += d;
    for (const w of [...waiters]) w();
  };
  child.stdout?.setEncoding("utf8").on("data", onData);
  child.stderr?.setEncoding("utf8").on("data", onData);
  const exited = new Promise<void>((r) => child.once("close", () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${name} not ready in 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (opts.ready.test(out)) done();
    };
    const done = (e?: Error) => {
      clearTimeout(timer);
      waiters.delete(check);
      e ? reject(e) : resolve();
    };
    waiters.add(check);
    void exited.then(() => done(new Error(`${name} exited before it was ready:\n${out}`)));
    check();
  });
  return {
    name,
    async mapped(port) {
      const line = (await podmanOk(["port", name, port])).trim().split("\n")[0] ?? "";
      const m = /^(.+):(\d+)$/.exec(line);
      if (!m) throw new Error(`podman port ${name} ${port}: ${line}`);
      return { host: m[1]!, port: Number(m[2]) };
    },
    output: () => out,
    async remove() {
      await podman(["rm", "--force", "--time", "0", name]);
      await exited;
    },
  };
}

export async function removeImages(images: readonly string[]): Promise<void> {
  if (images.length > 0) await podman(["rmi", "--force", ...images]);
}

/** The containers.conf of this process. */
export function removeConf(): void {
  rmSync(work, { recursive: true, force: true });
}
