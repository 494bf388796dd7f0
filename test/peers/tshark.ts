/**
 * tshark (Wireshark's dissectors) as an independent judge of the bytes on the
 * wire: capture loopback traffic to and from one port, then ask tshark for
 * malformed packets and error-level expert info, and for the SIP it decoded.
 * Capturing needs root or capture rights.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Capture {
  readonly file: string;
  /**
   * Resolves once everything sent so far is in the file: dumpcap writes a
   * moment late, and what it has not written when stopped is lost. A
   * marker datagram (to the first port) is sent until tshark reads it back.
   */
  drain(): Promise<void>;
  /** Stops tshark (SIGINT, so it flushes) and resolves when it has exited. */
  stop(): Promise<void>;
  /** Removes the capture directory. */
  dispose(): void;
}

/** Starts capturing on lo for `port` (or ports; UDP and TCP); resolves once tshark is capturing. */
export async function startCapture(port: number | readonly number[], timeoutMs = 10_000): Promise<Capture> {
  const dir = mkdtempSync(join(tmpdir(), "sipmock-tshark-"));
  const file = join(dir, "capture.pcapng");
  const filter = (typeof port === "number" ? [port] : port).map((p) => `udp port ${p} or tcp port ${p}`);
  // Its own process group, so a kill reaches dumpcap too (killed alone, tshark leaves it capturing).
  const child: ChildProcess = spawn("tshark", ["-i", "lo", "-f", filter.join(" or "), "-w", file], {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  const killAll = () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
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
    if (!exited) killAll();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // "Capturing on" comes a moment before dumpcap really sees packets: a
  // datagram sent right after it was missing from the file in a trial.
  await new Promise((r) => setTimeout(r, 500));
  const ports = typeof port === "number" ? [port] : port;
  return {
    file,
    async drain() {
      const marker = `${MARKER}-${process.pid}-${Date.now()}`;
      const socket = createSocket("udp4");
      try {
        for (const end = Date.now() + 10_000; Date.now() < end; ) {
          await new Promise<void>((r) => socket.send(marker, ports[0]!, "127.0.0.1", () => r()));
          const seen = await new Promise<string>((resolve) =>
            execFile(
              "tshark",
              ["-r", file, "-Y", `udp contains "${marker}"`, "-T", "fields", "-e", "frame.number"],
              { encoding: "utf8", timeout: 10_000 },
              // A file still being written may end in a cut packet: tshark says so and prints what it read.
              (_err, stdout) => resolve(stdout ?? ""),
            ),
          );
          if (seen.trim() !== "") return;
        }
      } finally {
        socket.close();
      }
      throw new Error(`tshark did not catch up with the traffic within 10 s (${file})`);
    },
    async stop() {
      if (exited) return;
      child.kill("SIGINT");
      const killer = setTimeout(killAll, 5000);
      await exit;
      clearTimeout(killer);
    },
    dispose() {
      if (!exited) killAll();
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

/** The payload of Capture.drain's datagrams, which sipMessages leaves out. */
const MARKER = "sipmock-capture-marker";

export interface WireMessage {
  readonly transport: "udp" | "tcp";
  /** "address:port" of the sender and of the receiver. */
  readonly from: string;
  readonly to: string;
  /** The SIP message, byte for byte (latin1). */
  readonly text: string;
}

/**
 * Every SIP message in a capture with the addresses it travelled between:
 * a datagram is one message, TCP payloads are reassembled per direction and
 * split by Content-Length (RFC 3261 18.3). Reads live captures and the
 * mock's own --pcap alike.
 */
export function sipMessages(file: string): WireMessage[] {
  const r = spawnSync(
    "tshark",
    [
      "-r",
      file,
      "-Y",
      "udp.length > 8 || tcp.len > 0",
      "-T",
      "fields",
      "-E",
      "separator=\t",
      ...["-e", "ip.src", "-e", "ip.dst", "-e", "udp.srcport", "-e", "udp.dstport"],
      ...["-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.payload", "-e", "tcp.payload"],
    ],
    { encoding: "utf8", timeout: 20_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error || r.status !== 0) {
    throw new Error(`tshark -r failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}`);
  }
  const out: WireMessage[] = [];
  const streams = new Map<string, Buffer>();
  for (const line of r.stdout.split("\n")) {
    if (line.trim() === "") continue;
    const [src, dst, us, ud, ts, td, up, tp] = line.split("\t");
    if (us) {
      const text = Buffer.from((up ?? "").replace(/:/g, ""), "hex").toString("latin1");
      if (text.startsWith(MARKER)) continue;
      out.push({
        transport: "udp",
        from: `${src}:${us}`,
        to: `${dst}:${ud}`,
        text,
      });
      continue;
    }
    const key = `${src}:${ts}>${dst}:${td}`;
    const pending = Buffer.concat([
      streams.get(key) ?? Buffer.alloc(0),
      Buffer.from((tp ?? "").replace(/:/g, ""), "hex"),
    ]);
    const { messages, rest } = splitStream(pending);
    streams.set(key, rest);
    for (const m of messages) {
      out.push({ transport: "tcp", from: `${src}:${ts}`, to: `${dst}:${td}`, text: m.toString("latin1") });
    }
  }
  return out;
}

/** Whole SIP messages at the start of a TCP byte stream (the head, then Content-Length octets). */
function splitStream(bytes: Buffer): { messages: Buffer[]; rest: Buffer } {
  const out: Buffer[] = [];
  let off = 0;
  for (;;) {
    // CRLF keep-alives (RFC 5626 3.5.1) between messages are skipped.
    while (bytes[off] === 0x0d || bytes[off] === 0x0a) off++;
    const end = bytes.indexOf("\r\n\r\n", off, "latin1");
    if (end < 0) break;
    const head = bytes.subarray(off, end).toString("latin1");
    const length = Number(/^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head)?.[1] ?? 0);
    if (end + 4 + length > bytes.length) break;
    out.push(bytes.subarray(off, end + 4 + length));
    off = end + 4 + length;
  }
  return { messages: out, rest: bytes.subarray(off) };
}
