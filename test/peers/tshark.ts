/**
 * tshark (Wireshark's dissectors) as an independent judge of the bytes on the
 * wire: capture loopback traffic to and from one port, then ask tshark for
 * malformed packets and error-level expert info, and for the SIP it decoded.
 * Capturing needs root or capture rights.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Capture {
  readonly file: string;
  /** Stops tshark (SIGINT, so it flushes) and resolves when it has exited. */
  stop(): Promise<void>;
  /** Removes the capture directory. */
  dispose(): void;
}

/** Starts capturing on lo for `port` (UDP and TCP); resolves once tshark is capturing. */
export async function startCapture(port: number, timeoutMs = 10_000): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), "sipmock-tshark-"));
  const file = join(dir, "capture.pcapng");
  const child: ChildProcess = spawn(
    "tshark",
    ["-i", "lo", "-f", `udp port ${port} or tcp port ${port}`, "-w", file],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`tshark did not start capturing: ${stderr}`)),
        timeoutMs,
      );
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(new Error(`tshark could not run (${err.message}); install it: apt-get install -y tshark`));
      });
      child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        if (stderr.includes("Capturing on")) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`tshark exited before capturing: ${stderr}`));
      });
    });
  } catch (err) {
    if (!exited) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // "Capturing on" comes a moment before dumpcap really sees packets: a
  // datagram sent right after it was missing from the file in a trial.
  await new Promise((r) => setTimeout(r, 500));
  return {
    file,
    async stop() {
      if (exited) return;
      child.kill("SIGINT");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exit;
      clearTimeout(killer);
    },
    dispose() {
      if (!exited) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `tshark -r file` with SIP decoding forced on `port`; returns stdout lines (throws on a tshark error). */
export function readCapture(file: string, port: number, args: readonly string[]): string[] {
  const r = spawnSync(
    "tshark",
    ["-r", file, "-d", `udp.port==${port},sip`, "-d", `tcp.port==${port},sip`, ...args],
    { encoding: "utf8", timeout: 20_000 },
  );
  if (r.error || r.status !== 0) {
    throw new Error(`tshark -r failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}`);
  }
  return r.stdout.split("\n").filter((l) => l.trim() !== "");
}

/** Frame numbers tshark calls malformed or flags with error-level expert info. */
export function problemFrames(file: string, port: number): string[] {
  return readCapture(file, port, [
    "-Y",
    "_ws.malformed || _ws.expert.severity >= error",
    "-T",
    "fields",
    "-e",
    "frame.number",
    "-e",
    "_ws.expert.message",
  ]);
}

/** The SIP first lines tshark decoded, in order (Request-Line or Status-Line). */
export function sipFirstLines(file: string, port: number): string[] {
  return readCapture(file, port, [
    "-Y",
    "sip",
    "-T",
    "fields",
    "-E",
    "occurrence=f",
    "-e",
    "sip.Request-Line",
    "-e",
    "sip.Status-Line",
  ]).map((l) => l.replace(/\t/g, "").trim());
}
