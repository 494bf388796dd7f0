/**
 * A browser softphone end to end: JsSIP (from the npm registry, bundled with
 * esbuild) in Debian's headless Chromium (driven by playwright-core, never a
 * downloaded browser), fake media devices. It registers with digest auth
 * over WebSocket, calls sip:486@ and sip:200@, hangs up the answered call;
 * the test asserts what JsSIP saw and what the mock's journal holds. Then
 * the other way round: a second page registers and the mock calls it
 * (mock.call), JsSIP rings and rejects the call with 486.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { build } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
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

/**
 * A softphone that only takes calls: registers as alice, reports every
 * incoming session in window.results and rejects it with 486 once JsSIP has
 * sent its 180 Ringing ("progress" with originator local). Answering is not
 * tried: the mock's offer is plain RTP/AVP, which Chromium refuses
 * ("Called with SDP without DTLS fingerprint", JsSIP answers 488).
 */
const CALLEE_PAGE = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>sipmock JsSIP callee</title></head>
  <body>
    <script src="/jssip.js"></script>
    <script>
      const params = new URLSearchParams(location.search);
      window.results = { events: [] };
      const note = (e) => window.results.events.push(e);
      const ua = new JsSIP.UA({
        sockets: [new JsSIP.WebSocketInterface(params.get("ws"))],
        uri: "sip:alice@" + params.get("domain"),
        password: "secret",
        register: true,
        session_timers: false,
      });
      ua.on("registered", (e) => {
        note({ event: "registered", status: e.response.status_code, contact: ua.contact.uri.toString() });
      });
      ua.on("registrationFailed", (e) => note({ event: "registrationFailed", cause: e.cause }));
      ua.on("newRTCSession", ({ originator, session, request }) => {
        const from = session.remote_identity.uri.toString();
        const call = (e) => note({ callId: request.call_id, ...e });
        call({ event: "newRTCSession", originator, from, direction: session.direction });
        // window.nextAction: "reject" (486 after the 180, the default) or "answer".
        const action = window.nextAction || "reject";
        session.on("progress", (e) => {
          call({ event: "progress", originator: e.originator });
          if (action === "reject") setTimeout(() => session.isEnded() || session.terminate({ status_code: 486 }), 200);
        });
        if (action === "answer") setTimeout(() => session.answer({ mediaConstraints: { audio: true, video: false } }), 100);
        session.on("accepted", () => call({ event: "accepted" }));
        session.on("confirmed", () => call({ event: "confirmed" }));
        session.on("failed", (e) => call({ event: "failed", originator: e.originator, cause: e.cause }));
        session.on("ended", (e) => call({ event: "ended", originator: e.originator, cause: e.cause }));
      });
      ua.start();
    </script>
  </body>
</html>`;

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
    } else if (req.url?.startsWith("/callee")) {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(CALLEE_PAGE);
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

type PageEvent = Record<string, unknown>;

describe("the mock calls JsSIP in headless Chromium over WebSocket", () => {
  let callee: SipMock;
  let tab: Page;
  let contact: string;

  const pageEvents = (): Promise<PageEvent[]> =>
    tab.evaluate(() => (globalThis as unknown as { results: { events: PageEvent[] } }).results.events);

  /** Waits until the page noted an event for the call. */
  const waitForCallEvent = (callId: string, event: string) =>
    tab.waitForFunction(
      ([id, name]) =>
        (globalThis as unknown as { results: { events: PageEvent[] } }).results.events.some(
          (e) => e.callId === id && e.event === name,
        ),
      [callId, event] as const,
      { timeout: 10_000 },
    );

  beforeAll(async () => {
    callee = await startSipMock({
      listen: ["ws:127.0.0.1:0"],
      logger: silentLogger,
      scenario: scenarioFromYaml(SCENARIO),
    });
    tab = await browser.newPage();
    const wsPort = callee.address("ws").port;
    const webPort = (web.address() as AddressInfo).port;
    await tab.goto(
      `http://127.0.0.1:${webPort}/callee?ws=${encodeURIComponent(`ws://127.0.0.1:${wsPort}`)}&domain=127.0.0.1`,
    );
    await tab.waitForFunction(
      () =>
        (globalThis as unknown as { results: { events: PageEvent[] } }).results.events.some(
          (e) => e.event === "registered",
        ),
      null,
      { timeout: 30_000 },
    );
    contact = (await pageEvents()).find((e) => e.event === "registered")!.contact as string;
  }, 60_000);

  afterAll(async () => {
    await tab?.close();
    await callee?.close();
  });

  it("INVITE to alice's registered ws Contact, 180 Ringing, rejected with 486 and ACKed in the same transaction", async () => {
    // JsSIP's Contact is sip:<random>@<random>.invalid;transport=ws.
    expect(contact).toMatch(/^sip:[a-z0-9]+@[a-z0-9]+\.invalid;transport=ws$/);
    const registered = callee.journal.entries({ method: "REGISTER", direction: "in" }).at(-1)!;
    expect(registered.raw).toContain(`\r\nContact: <${contact}>`);

    const outcome = await callee.call("alice");
    expect(outcome.status).toBe(486);
    expect(outcome.reason).toBe("Busy Here");
    expect(outcome.contact).toBe(contact);
    // JsSIP's InviteServerTransaction sends 100 Trying at once, RTCSession a 180.
    expect(outcome.provisional).toEqual([100, 180]);

    const invites = callee.journal.entries({ method: "INVITE", direction: "out", callId: outcome.callId });
    const invite = invites.filter((e) => e.kind === "request");
    expect(invite).toHaveLength(1);
    expect(invite[0]!.transport).toBe("ws");
    expect(invite[0]!.raw.startsWith(`INVITE ${contact} SIP/2.0\r\n`)).toBe(true);
    expect(invite[0]!.raw).toMatch(/\r\nVia: SIP\/2\.0\/WS /);
    expect(invite[0]!.raw).toMatch(/\r\nContent-Type: application\/sdp\r\n/);
    const branch = /\r\nVia: [^\r]*;branch=([^;,\s]+)/.exec(invite[0]!.raw)![1]!;

    const answers = callee.journal
      .entries({ direction: "in", callId: outcome.callId })
      .filter((e) => e.kind === "response");
    expect(answers.map((e) => `${e.status} ${e.reason}`)).toEqual([
      "100 Trying",
      "180 Ringing",
      "486 Busy Here",
    ]);
    // Sent over the connection alice registered on (RFC 7118 5: there is no other way).
    expect(invite[0]!.remote).toEqual(registered.remote);
    for (const e of answers) {
      expect(e.transport).toBe("ws");
      expect(e.remote).toEqual(registered.remote);
      expect(e.transaction).toBe(invite[0]!.transaction);
    }

    const acks = callee.journal.entries({ method: "ACK", direction: "out", callId: outcome.callId });
    expect(acks).toHaveLength(1);
    expect(acks[0]!.transport).toBe("ws");
    expect(acks[0]!.remote).toEqual(registered.remote);
    expect(acks[0]!.raw.startsWith(`ACK ${contact} SIP/2.0\r\n`)).toBe(true);
    // 17.1.1.3: the ACK for a non-2xx has the INVITE's branch and its To tag from the 486.
    expect(acks[0]!.raw).toContain(`;branch=${branch}`);
    expect(acks[0]!.transaction).toBe(invite[0]!.transaction);
    const busyTo = /\r\nTo: ([^\r]*)/.exec(answers[2]!.raw)![1];
    expect(acks[0]!.to).toBe(busyTo);

    await waitForCallEvent(outcome.callId, "failed");
    const seen = (await pageEvents()).filter((e) => e.callId === outcome.callId);
    expect(seen).toEqual([
      {
        callId: outcome.callId,
        event: "newRTCSession",
        originator: "remote",
        from: "sip:sipmock@127.0.0.1",
        direction: "incoming",
      },
      { callId: outcome.callId, event: "progress", originator: "local" },
      // JsSIP names any rejection of an incoming call by the app "Rejected", whatever the status.
      { callId: outcome.callId, event: "failed", originator: "local", cause: "Rejected" },
    ]);
  });

  it("a WebRTC offer (DTLS-SRTP, ICE lite) the browser answers; the call is ACKed, then the mock hangs up", async () => {
    await tab.evaluate(() => {
      (globalThis as unknown as { nextAction: string }).nextAction = "answer";
    });
    const outcome = await callee.call("alice");
    expect(outcome.status, JSON.stringify(outcome)).toBe(200);
    const invite = callee.journal
      .entries({ method: "INVITE", direction: "out", callId: outcome.callId })
      .find((e) => e.kind === "request")!;
    expect(invite.raw).toMatch(/\r\nm=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    expect(invite.raw).toMatch(/\r\na=fingerprint:sha-256 [0-9A-F:]+\r\n/);
    expect(invite.raw).toMatch(/\r\na=setup:actpass\r\n/);
    expect(invite.raw).toMatch(/\r\na=ice-lite\r\n/);
    // The browser's answer: DTLS-SRTP too.
    const ok = outcome.response!;
    expect(ok.body.toString("latin1")).toMatch(/\r\na=fingerprint:sha-256 /);
    expect(callee.dialogs().find((d) => d.callId === outcome.callId)?.remoteSdp).toMatch(
      /UDP\/TLS\/RTP\/SAVPF/,
    );
    await waitForCallEvent(outcome.callId, "confirmed");
    expect(callee.bye(outcome.callId)).toBe(1);
    await waitForCallEvent(outcome.callId, "ended");
    const seen = (await pageEvents()).filter((e) => e.callId === outcome.callId);
    expect(seen.map((e) => e.event)).toEqual(["newRTCSession", "progress", "accepted", "confirmed", "ended"]);
    expect(seen.at(-1)).toMatchObject({ originator: "remote", cause: "Terminated" });
    // The browser answered the mock's BYE with 200.
    await expect
      .poll(() =>
        callee.journal
          .entries({ direction: "in", callId: outcome.callId })
          .some((e) => e.status === 200 && e.cseq?.endsWith("BYE")),
      )
      .toBe(true);
  });
});
