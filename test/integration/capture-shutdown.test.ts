/**
 * Capture and graceful shutdown: `serve --journal FILE.jsonl --pcap FILE.pcap`
 * under SIPp load, stopped with SIGTERM mid-run. The server exits 0, every
 * journal line is whole, and tshark reads back exactly the messages of the
 * journal, in order, with nothing malformed.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freeUdpPort, start } from "../helpers/cli.js";
import { freeLocalPort } from "../peers/sipp.js";

const dir = mkdtempSync(join(tmpdir(), "sipmock-capture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tshark(args: string[]): string[] {
  const r = spawnSync("tshark", args, { encoding: "utf8", timeout: 30_000 });
  if (r.error)
    throw new Error(`tshark could not run (${r.error.message}); install it: apt-get install -y tshark`);
  return r.stdout.split("\n").filter((l) => l !== "");
}

describe("capture and graceful shutdown under load", () => {
  it("SIGTERM mid-run: exit 0, JSONL and pcap hold the same messages, none lost or torn", async () => {
    const jsonl = join(dir, "journal.jsonl");
    const pcap = join(dir, "capture.pcap");
    const port = await freeUdpPort();
    const s = await start([
      "serve",
      "--listen",
      `udp:127.0.0.1:${port}`,
      "--journal",
      jsonl,
      "--pcap",
      pcap,
      "--drain-timeout",
      "300",
      "--log-level",
      "warn",
    ]);
    const local = await freeLocalPort("u1");
    const sipp: ChildProcess = spawn(
      "sipp",
      [
        "-sn",
        "uac",
        "-s",
        "alice",
        "-m",
        "2000",
        "-r",
        "200",
        "-i",
        "127.0.0.1",
        "-p",
        String(local),
        "-nostdin",
        "-nd",
        "-timeout",
        "20s",
        `127.0.0.1:${port}`,
      ],
      { stdio: "ignore", cwd: dir },
    );
    sipp.on("error", (e) => {
      throw new Error(`sipp could not run (${e.message}); install it: apt-get install -y sip-tester`);
    });
    await sleep(1500);
    const exit = new Promise<number | null>((r) => s.child.on("exit", (code) => r(code)));
    s.child.kill("SIGTERM");
    expect(await exit).toBe(0);
    sipp.kill("SIGKILL");

    const text = readFileSync(jsonl, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const lines = text
      .trimEnd()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            id: number;
            kind: string;
            direction: string;
            callId?: string;
            raw: string;
            method?: string;
          },
      );
    expect(lines.map((e) => e.id)).toEqual(lines.map((_e, i) => i + 1));
    // The pcap holds the SIP messages; the calls' media entries (kind media) are JSONL only.
    const entries = lines.filter((e) => e.kind !== "media" && e.kind !== "dtmf");
    expect(entries.length).toBeGreaterThan(200);
    expect(new Set(entries.filter((e) => e.method === "INVITE").map((e) => e.callId)).size).toBeGreaterThan(
      50,
    );

    const decode = ["-r", pcap, "-d", `udp.port==${port},sip`];
    const frames = tshark([...decode, "-T", "fields", "-e", "frame.number", "-e", "sip.Call-ID"]);
    expect(frames).toHaveLength(entries.length);
    expect(frames.map((f) => f.split("\t")[1])).toEqual(entries.map((e) => e.callId));
    expect(
      tshark([
        ...decode,
        "-Y",
        "_ws.malformed || _ws.expert.severity >= error",
        "-T",
        "fields",
        "-e",
        "frame.number",
      ]),
    ).toEqual([]);
    // Each captured packet carries the journal's bytes exactly (first lines compared).
    const firstLines = tshark([
      ...decode,
      "-T",
      "fields",
      "-e",
      "sip.Request-Line",
      "-e",
      "sip.Status-Line",
    ]).map((l) => l.replace(/\t/g, ""));
    expect(firstLines).toEqual(entries.map((e) => e.raw.split("\r\n")[0]));
  }, 60_000);

  it("TCP: synthesised segments reassemble into the same SIP messages", async () => {
    const pcap = join(dir, "tcp.pcap");
    const jsonl = join(dir, "tcp.jsonl");
    const port = await freeUdpPort();
    const s = await start([
      "serve",
      "--listen",
      `udp:127.0.0.1:${port}`,
      "--listen",
      `tcp:127.0.0.1:${port}`,
      "--journal",
      jsonl,
      "--pcap",
      pcap,
      "--log-level",
      "warn",
    ]);
    const local = await freeLocalPort("t1");
    const r = spawnSync(
      "sipp",
      [
        "-sn",
        "uac",
        "-s",
        "alice",
        "-m",
        "5",
        "-r",
        "10",
        "-t",
        "t1",
        "-i",
        "127.0.0.1",
        "-p",
        String(local),
        "-nostdin",
        "-nd",
        "-timeout",
        "10s",
        `127.0.0.1:${port}`,
      ],
      { cwd: dir, timeout: 15_000 },
    );
    expect(r.status).toBe(0);
    const exit = new Promise<number | null>((res) => s.child.on("exit", (code) => res(code)));
    s.child.kill("SIGINT");
    expect(await exit).toBe(0);
    const entries = readFileSync(jsonl, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; raw: string; transport: string })
      // The calls' RTP statistics (kind media, over UDP) are not SIP messages of the capture.
      .filter((e) => e.kind !== "media");
    expect(entries.every((e) => e.transport === "tcp")).toBe(true);
    const decode = ["-r", pcap, "-d", `tcp.port==${port},sip`, "-o", "tcp.analyze_sequence_numbers:TRUE"];
    const lines = tshark([
      ...decode,
      "-Y",
      "sip",
      "-T",
      "fields",
      "-e",
      "sip.Request-Line",
      "-e",
      "sip.Status-Line",
    ]).map((l) => l.replace(/\t/g, ""));
    expect(lines).toEqual(entries.map((e) => e.raw.split("\r\n")[0]));
    expect(
      tshark([
        ...decode,
        "-Y",
        "_ws.malformed || _ws.expert.severity >= error || tcp.analysis.flags",
        "-T",
        "fields",
        "-e",
        "frame.number",
      ]),
    ).toEqual([]);
  }, 60_000);
});
