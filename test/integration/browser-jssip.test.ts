/**
 * A browser softphone end to end: JsSIP (from the npm registry, bundled with
 * esbuild) in Debian's headless Chromium (driven by playwright-core, never a
 * downloaded browser), fake media devices. It registers with digest auth
 * over WebSocket, calls sip:486@ and sip:200@, hangs up the answered call;
 * the test asserts what JsSIP saw and what the mock's journal holds.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { build } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, scenarioFromYaml, silentLogger, startSipMock } from "../../src/index.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CHROMIUM = "/usr/bin/chromium";

const SCENARIO = `
name: browser
auth:
  realm: example.test
  users: { alice: secret }
  algorithms: [MD5]
  methods: [REGISTER]
rules:
  - name: dial-a-code
    match: { requestUri: { user: "^[1-6][0-9][0-9]$" } }
    dialACode: true
`;

let mock: SipMock;
let web: Server;
let browser: Browser;
let results: { events: Array<Record<string, unknown>>; done?: boolean };

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["ws:127.0.0.1:0"],
    logger: silentLogger,
    scenario: scenarioFromYaml(SCENARIO),
  });
  const bundle = await build({
    entryPoints: [join(ROOT, "node_modules", "jssip", "lib", "JsSIP.js")],
    bundle: true,
    format: "iife",
    globalName: "JsSIP",
    platform: "browser",
    write: false,
    logLevel: "error",
  });
  const page = readFileSync(join(ROOT, "test", "browser", "softphone.html"));
  web = createServer((req, res) => {
    if (req.url?.startsWith("/jssip.js")) {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(bundle.outputFiles[0]!.contents);
    } else {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(page);
    }
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", () => r()));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
    ],
  });
  const tab = await browser.newPage();
  const wsPort = mock.address("ws").port;
  const webPort = (web.address() as AddressInfo).port;
  await tab.goto(
    `http://127.0.0.1:${webPort}/?ws=${encodeURIComponent(`ws://127.0.0.1:${wsPort}`)}&domain=127.0.0.1`,
  );
  const consoleLines: string[] = [];
  tab.on("console", (m) => consoleLines.push(m.text()));
  tab.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
  try {
    await tab.waitForFunction(
      () => (globalThis as unknown as { results?: { done?: boolean } }).results?.done === true,
      null,
      { timeout: 30_000 },
    );
  } catch (e) {
    const flow = mock.journal.entries().map((x) => `${x.direction} ${x.method ?? `${x.status} ${x.reason}`}`);
    throw new Error(`${(e as Error).message}\npage: ${consoleLines.join("\n")}\nmock: ${flow.join(", ")}`);
  }
  results = await tab.evaluate(() => (globalThis as unknown as { results: typeof results }).results);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  web?.close();
  await mock?.close();
});

describe("JsSIP in headless Chromium over WebSocket", () => {
  it("registers with digest auth: 401, then 200 for the right credentials (verified)", () => {
    expect(results.events[0]).toEqual({ event: "registered", status: 200 });
    const registers = mock.journal.entries({ method: "REGISTER", direction: "out" }).map((e) => e.status);
    expect(registers).toEqual([401, 200]);
    const retry = mock.requests({ method: "REGISTER", headers: { Authorization: { present: true } } });
    expect(retry).toHaveLength(1);
    expect(retry[0]!.raw).toMatch(
      /\r\nAuthorization: Digest [^\r]*username="alice"[^\r]*response="[0-9a-f]{32}"/,
    );
  });

  it("sip:486@ fails with Busy, 486 Busy Here", () => {
    expect(results.events.find((e) => e.call === "sip:486@127.0.0.1" && e.event === "failed")).toEqual({
      call: "sip:486@127.0.0.1",
      event: "failed",
      cause: "Busy",
      status: 486,
      reason: "Busy Here",
    });
  });

  it("sip:200@ is answered (JsSIP accepts the SDP answer), then ends cleanly with BYE and 200", () => {
    const call = results.events.filter((e) => e.call === "sip:200@127.0.0.1").map((e) => e.event);
    expect(call).toEqual(["confirmed", "ended"]);
    expect(results.events.find((e) => e.call === "sip:200@127.0.0.1" && e.event === "ended")).toMatchObject({
      cause: "Terminated",
      originator: "local",
    });
    const bye = mock.requests({ method: "BYE" });
    expect(bye).toHaveLength(1);
    const byeResponse = mock.journal.entries({ method: "BYE", direction: "out" });
    expect(byeResponse.map((e) => `${e.status} ${e.reason}`)).toEqual(["200 OK"]);
    expect(mock.requests({ method: "ACK" }).length).toBeGreaterThanOrEqual(1);
  });

  it("every message went over WebSocket with a Via of SIP/2.0/WS", () => {
    const inbound = mock.journal.entries({ direction: "in" });
    expect(inbound.length).toBeGreaterThan(5);
    for (const e of inbound) {
      expect(e.transport).toBe("ws");
      expect(e.raw).toMatch(/\r\nVia: SIP\/2\.0\/WS /);
    }
  });
});
