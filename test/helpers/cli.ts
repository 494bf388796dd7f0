/**
 * Running the built CLI (npm test builds first): dist/cli/main.js, the
 * program the `sipmock` executable (dist/cli/bin.js) runs, in its server
 * child for serve and respond; the launcher itself is covered by
 * test/integration/launcher.test.ts and, installed, by package.test.ts.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const BIN = join(ROOT, "dist", "cli", "main.js");
export const SCENARIOS = join(ROOT, "scenarios");

export function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 10_000, cwd: ROOT });
}

export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts the CLI and resolves once the banner says it listens. */
export function start(args: string[]): Promise<{ child: ChildProcess; output: () => string; port: number }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: ROOT });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 10_000);
    const check = () => {
      const m = /listening on udp:127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, output: () => out, port: Number(m[1]) });
      }
    };
    child.stderr!.on("data", check);
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

export async function waitForOutput(output: () => string, re: RegExp, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!re.test(output())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `sipmock ctl` without blocking this process (the test's client may have to answer the mock meanwhile). */
export function ctlAsync(
  admin: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "ctl", "--admin", admin, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 10_000);
    child.on("exit", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
