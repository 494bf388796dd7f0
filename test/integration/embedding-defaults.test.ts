/**
 * startSipMock() with no options, from the installed package (`import "sipmock"`
 * in a separate Node process, as a test suite would): loopback only, one free
 * port shared by UDP and TCP, and not a word on the console unless asked.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, waitForOutput } from "../helpers/cli.js";
import { request, statusOf, tcpClient, udpClient } from "../helpers/wire-client.js";

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  mocks: Array<{ listeners: Array<{ transport: string; address: string; port: number }> }>;
}

/** Starts mocks in a child process: one per options object; they close when stdin ends. */
async function startInPackage(options: string[]): Promise<Started> {
  const script = `
import { createLogger, startSipMock } from "sipmock";
const mocks = await Promise.all([${options.map((o) => `startSipMock(${o})`).join(", ")}]);
process.stdout.write(JSON.stringify(mocks.map((m) => ({ listeners: m.listeners }))) + "\\n");
process.stdin.resume();
process.stdin.on("end", async () => {
  await Promise.all(mocks.map((m) => m.close()));
  process.stdout.write("closed\\n");
});
`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  await waitForOutput(() => out + err, /\]\n|Error/, 10_000);
  expect(err).toBe("");
  return { child, stdout: () => out, stderr: () => err, mocks: JSON.parse(out.split("\n")[0]!) };
}

async function stop(s: Started): Promise<void> {
  const exit = new Promise((r) => s.child.on("exit", r));
  s.child.stdin!.end();
  await exit;
}

describe("startSipMock() defaults, embedded in a test suite", () => {
  it("two mocks started at once: each on 127.0.0.1, UDP and TCP on one free port, silent while answering", async () => {
    const s = await startInPackage(["", "{}"]);
    try {
      const ports = s.mocks.map((m) => {
        expect(m.listeners.map((l) => `${l.transport}:${l.address}`)).toEqual([
          "udp:127.0.0.1",
          "tcp:127.0.0.1",
        ]);
        expect(m.listeners[0]!.port).toBe(m.listeners[1]!.port);
        expect(m.listeners[0]!.port).not.toBe(5060);
        return m.listeners[0]!.port;
      });
      expect(ports[0]).not.toBe(ports[1]);
      for (const port of ports) {
        const target = { host: "127.0.0.1", port };
        const u = await udpClient(target);
        await u.send(request("OPTIONS", "bob", target, { localPort: u.port }));
        expect(statusOf(await u.waitFor((m) => statusOf(m) >= 200))).toBe(200);
        await u.close();
        const t = await tcpClient(target);
        await t.send(request("OPTIONS", "bob", target, { transport: "TCP", localPort: t.port }));
        expect(statusOf(await t.waitFor((m) => statusOf(m) >= 200))).toBe(200);
        await t.close();
      }
      await stop(s);
      expect(s.stdout()).toMatch(/\nclosed\n$/);
      // Nothing was logged: the embedded default is silent.
      expect(s.stderr()).toBe("");
    } finally {
      s.child.kill();
    }
  });

  it('logger: createLogger("info") asks for the one-line-per-message log on stderr', async () => {
    const s = await startInPackage(['{ logger: createLogger("info") }']);
    try {
      const target = { host: "127.0.0.1", port: s.mocks[0]!.listeners[0]!.port };
      const u = await udpClient(target);
      await u.send(request("OPTIONS", "bob", target, { localPort: u.port, callId: "asked@test" }));
      await u.waitFor((m) => statusOf(m) >= 200);
      await u.close();
      await waitForOutput(s.stderr, /-> udp:127\.0\.0\.1:\d+ 200 OK asked@test/);
      expect(s.stderr()).toMatch(/<- udp:127\.0\.0\.1:\d+ OPTIONS asked@test/);
      await stop(s);
    } finally {
      s.child.kill();
    }
  });

  it("the README's option table documents every startSipMock option", () => {
    const source = readFileSync(join(ROOT, "src", "control", "mock", "options.ts"), "utf8");
    const body = /export interface SipMockOptions \{([\s\S]*?)\n\}/.exec(source)![1]!;
    const options = [...body.matchAll(/^ {2}readonly (\w+)\?:/gm)].map((m) => m[1]!);
    expect(options.length).toBeGreaterThan(15);
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = /\n## Embedding in a test suite\n([\s\S]*?)\n## /.exec(readme)![1]!;
    const documented = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]!);
    expect(documented.sort()).toEqual([...options].sort());
  });
});
