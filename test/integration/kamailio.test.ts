/**
 * The mock behind a real stateful proxy (Kamailio, written at run time by
 * test/peers/kamailio.ts), with SIPp as the phone.
 *
 * 1. A phone registers *through* the proxy (Contact
 *    sip:phone@127.0.0.1:P;transport=X, no Path, no ;ob) while the proxy
 *    reaches the mock over another leg. The mock's INVITE must go to the
 *    Contact (RFC 3261 10.3, 8.1.2; RFC 3263 4.1: its transport, address and
 *    port), not down the proxy's connection; the proxy is restarted first,
 *    so that connection is gone. SIPp, listening only at the Contact, must
 *    get the INVITE and the BYE.
 * 2. The phone calls through the proxy (record-routed, UDP to the proxy,
 *    TCP from the proxy to the mock); the proxy restarts; the mock's BYE
 *    follows the route set over a new TCP connection. The journal, the log
 *    and the mock's --pcap must name the addresses really used, which a
 *    tshark capture of lo is the judge of.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger, type SipMock, startSipMock } from "../../src/index.js";
import { type Kamailio, startKamailio } from "../peers/kamailio.js";
import { freeLocalPort, runSipp, type SippResult, type SippTransport } from "../peers/sipp.js";
import { type Capture, sipMessages, startCapture, type WireMessage } from "../peers/tshark.js";

const T1 = 100;

let dir: string;
let mock: SipMock | undefined;
let proxy: Kamailio | undefined;
let capture: Capture | undefined;
let logLines: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sipmock-kamailio-test-"));
  logLines = [];
});
afterEach(async () => {
  await proxy?.stop();
  await mock?.close();
  capture?.dispose();
  proxy = undefined;
  mock = undefined;
  capture = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function startAll(
  mockLeg: "udp" | "tcp",
  phonePorts: readonly number[] = [],
  proxyOptions: { readonly path?: boolean; readonly recordRoute?: boolean } = {},
): Promise<{ mock: SipMock; proxy: Kamailio; pcap: string }> {
  const pcap = join(dir, "mock.pcap");
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: createLogger("info", false, (line) => logLines.push(line)),
    timers: { t1: T1 },
    pcapFile: pcap,
  });
  const next = mock.address(mockLeg);
  proxy = await startKamailio({
    next: { host: "127.0.0.1", port: next.port, transport: mockLeg },
    ...proxyOptions,
  });
  // The mock's listeners, the proxy and the phone: every connection the mock opens goes to one of them.
  capture = await startCapture([
    mock.address("udp").port,
    mock.address("tcp").port,
    proxy.port,
    ...phonePorts,
  ]);
  return { mock, proxy, pcap };
}

const HEAD = `<?xml version="1.0" encoding="ISO-8859-1" ?>`;

function registerScenario(contact: string): string {
  return `${HEAD}
<scenario name="register through the proxy">
  <send retrans="500">
    <![CDATA[
REGISTER sip:127.0.0.1:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:phone@127.0.0.1>;tag=[pid]reg[call_number]
To: <sip:phone@127.0.0.1>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <${contact}>
Max-Forwards: 70
Expires: 300
Content-Length: 0

]]>
  </send>
  <recv response="200"/>
</scenario>
`;
}

const SDP_ANSWER = [
  "v=0",
  "o=phone 1 1 IN IP4 [local_ip]",
  "s=-",
  "c=IN IP4 [local_ip]",
  "t=0 0",
  "m=audio 49172 RTP/AVP 0",
  "a=rtpmap:0 PCMU/8000",
].join("\n");

/** The called phone: INVITE, 180, 200 with SDP, ACK, then BYE answered 200 (`recordRoute`: the INVITE's Record-Route echoed). */
const phoneUas = (recordRoute: boolean) => `${HEAD}
<scenario name="phone">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]phone[call_number]
[last_Call-ID:]
[last_CSeq:]
${recordRoute ? "[last_Record-Route:]\n" : ""}Contact: <sip:phone@[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]>
  </send>
  <send retrans="500">
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]phone[call_number]
[last_Call-ID:]
[last_CSeq:]
${recordRoute ? "[last_Record-Route:]\n" : ""}Contact: <sip:phone@[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

${SDP_ANSWER}
]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
</scenario>
`;

/** The calling phone, through the proxy: INVITE, 200 (route set kept), ACK along it, then the mock's BYE, 200. */
const PHONE_UAC = `${HEAD}
<scenario name="caller through the proxy">
  <send retrans="500">
    <![CDATA[
INVITE sip:alice@127.0.0.1:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:phone@127.0.0.1>;tag=[pid]caller[call_number]
To: <sip:alice@127.0.0.1>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:phone@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

${SDP_ANSWER}
]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
[routes]
From: <sip:phone@127.0.0.1>;tag=[pid]caller[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv request="BYE"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
</scenario>
`;

function ok(r: SippResult, what: string): void {
  expect(r.exitCode, `${what}: ${r.summary}`).toBe(0);
}

/** Until `check` holds, polling the mock's state (a SIPp run ends on its own, not on an event of ours). */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Until the mock has journaled the 200 to its BYE. */
function byeAnswered(mock: SipMock): Promise<void> {
  return until(
    () =>
      mock.journal.entries().some((e) => e.direction === "in" && e.status === 200 && e.cseq?.endsWith("BYE")),
    "the 200 to the BYE",
  );
}

/** Messages as comparable lines: transport, from, to, first line, Call-ID and CSeq, the bytes' length. */
function lines(messages: readonly WireMessage[]): string[] {
  return messages
    .map((m) => {
      const first = m.text.slice(0, m.text.indexOf("\r\n"));
      const callId = /^(?:call-id|i)[ \t]*:[ \t]*(.*)$/im.exec(m.text)?.[1]?.trim();
      const cseq = /^cseq[ \t]*:[ \t]*(.*)$/im.exec(m.text)?.[1]?.trim();
      return `${m.transport} ${m.from} -> ${m.to} | ${first} | ${callId} | ${cseq} | ${m.text.length}`;
    })
    .sort();
}

/**
 * The mock's own pcap and tshark's capture of lo hold the same messages
 * between the same addresses. The capture also holds what the proxy and the
 * phones said to each other: only messages with one end at a port of the
 * mock (its listeners, and the ports its journal names) are compared, so a
 * message the mock recorded with a wrong port is still found missing.
 */
async function capturesAgree(pcap: string): Promise<WireMessage[]> {
  const mockPorts = new Set([
    mock!.address("udp").port,
    mock!.address("tcp").port,
    ...mock!.journal.entries().map((e) => e.local.port),
  ]);
  await mock!.close();
  await capture!.drain();
  await capture!.stop();
  const ours = sipMessages(pcap);
  const port = (end: string) => Number(end.slice(end.lastIndexOf(":") + 1));
  const wire = sipMessages(capture!.file).filter(
    (m) => mockPorts.has(port(m.from)) || mockPorts.has(port(m.to)),
  );
  expect(ours.length).toBeGreaterThan(0);
  expect(lines(ours)).toEqual(lines(wire));
  // Byte for byte, too.
  expect(ours.map((m) => m.text).sort()).toEqual(wire.map((m) => m.text).sort());
  return ours;
}

const LEGS: ReadonlyArray<{ phone: SippTransport; mockLeg: "udp" | "tcp" }> = [
  { phone: "u1", mockLeg: "tcp" },
  { phone: "t1", mockLeg: "udp" },
  { phone: "u1", mockLeg: "udp" },
];

describe("the mock behind Kamailio", () => {
  for (const { phone, mockLeg } of LEGS) {
    const phoneTransport = phone === "u1" ? "udp" : "tcp";
    it(`a phone registered over ${phoneTransport} through the proxy (${mockLeg} to the mock) gets the mock's INVITE and BYE at its Contact, after the proxy restarted`, async () => {
      const phonePort = await freeLocalPort(phone);
      const { mock, proxy, pcap } = await startAll(mockLeg, [phonePort]);
      const contact = `sip:phone@127.0.0.1:${phonePort};transport=${phoneTransport}`;
      const answering = runSipp({
        scenarioXml: phoneUas(false),
        target: `127.0.0.1:${proxy.port}`,
        transport: phone,
        localPort: phonePort,
        timeoutMs: 30_000,
      });
      const registered = await runSipp({
        scenarioXml: registerScenario(contact),
        target: `127.0.0.1:${proxy.port}`,
        transport: phone,
      });
      ok(registered, `REGISTER through Kamailio; kamailio log: ${proxy.log().slice(-1500)}`);
      const register = mock.requests({ method: "REGISTER" })[0]!;
      // The REGISTER came from the proxy, over the proxy's leg.
      expect(register.transport).toBe(mockLeg);
      expect(register.remote.port).not.toBe(phonePort);
      expect(mock.registrations()[0]?.contacts.map((c) => c.uri)).toEqual([contact]);

      await proxy.restart();
      const result = await mock.call("phone");
      expect(result.status, JSON.stringify(result)).toBe(200);
      expect(mock.bye(result.callId)).toBe(1);
      const phoneRun = await answering;
      ok(phoneRun, "the phone got INVITE and BYE at its Contact");

      // Journal and log name the phone's Contact for both requests.
      const out = mock.journal
        .entries()
        .filter((e) => e.direction === "out" && (e.method === "INVITE" || e.method === "BYE"));
      expect(out.map((e) => `${e.method} ${e.transport} ${e.remote.address}:${e.remote.port}`)).toEqual([
        `INVITE ${phoneTransport} 127.0.0.1:${phonePort}`,
        `BYE ${phoneTransport} 127.0.0.1:${phonePort}`,
      ]);
      const logged = logLines.filter((l) => / -> \S+ (INVITE|BYE)\b/.test(l));
      expect(logged.length).toBeGreaterThanOrEqual(2);
      for (const l of logged) expect(l).toContain(`-> ${phoneTransport}:127.0.0.1:${phonePort} `);

      const messages = await capturesAgree(pcap);
      expect(
        messages.filter((m) => /^(INVITE|BYE) sip:phone@/.test(m.text)).map((m) => `${m.transport} ${m.to}`),
      ).toEqual([`${phoneTransport} 127.0.0.1:${phonePort}`, `${phoneTransport} 127.0.0.1:${phonePort}`]);
    }, 60_000);
  }

  it("a phone registered with a Path (RFC 3327): the mock's INVITE and BYE go along it, over a new connection once the proxy restarted", async () => {
    const phonePort = await freeLocalPort("u1");
    const { mock, proxy, pcap } = await startAll("tcp", [phonePort], { path: true });
    const contact = `sip:phone@127.0.0.1:${phonePort};transport=udp`;
    const answering = runSipp({
      scenarioXml: phoneUas(true),
      target: `127.0.0.1:${proxy.port}`,
      transport: "u1",
      localPort: phonePort,
      timeoutMs: 30_000,
    });
    const registered = await runSipp({
      scenarioXml: registerScenario(contact),
      target: `127.0.0.1:${proxy.port}`,
      transport: "u1",
    });
    ok(registered, `REGISTER through Kamailio; kamailio log: ${proxy.log().slice(-1500)}`);
    const register = mock.requests({ method: "REGISTER" })[0]!;
    const path = /^Path:\s*(.*)$/im.exec(register.raw)?.[1]?.trim();
    expect(path).toContain(`127.0.0.1:${proxy.port}`);

    await proxy.restart();
    const result = await mock.call("phone");
    expect(result.status, JSON.stringify(result)).toBe(200);
    expect(mock.bye(result.callId)).toBe(1);
    ok(await answering, "the phone got INVITE and BYE through the proxy");
    // The phone's SIPp ends once it has sent its 200 to the BYE; the proxy relays it
    // a moment later: the captures are compared once the mock has it.
    await byeAnswered(mock);

    const out = mock.journal
      .entries({ direction: "out" })
      .filter((e) => e.method === "INVITE" || e.method === "BYE");
    // To the proxy (the Path, then its Record-Route), from the mock's new connection.
    for (const e of out) {
      expect(`${e.method} ${e.transport} ${e.remote.address}:${e.remote.port}`).toBe(
        `${e.method} tcp 127.0.0.1:${proxy.port}`,
      );
      expect(e.local.port).not.toBe(mock.address("tcp").port);
    }
    const invite = out.find((e) => e.method === "INVITE")!;
    expect(invite.raw.startsWith(`INVITE ${contact} SIP/2.0\r\n`)).toBe(true);
    expect(invite.raw).toMatch(new RegExp(`^Route: ${path!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\r$`, "m"));
    await capturesAgree(pcap);
  }, 60_000);

  it("without a Record-Route, a call along a Path goes end to end after the INVITE: ACK and BYE at the phone's TCP Contact", async () => {
    const phonePort = await freeLocalPort("t1");
    const { mock, proxy, pcap } = await startAll("tcp", [phonePort], { path: true, recordRoute: false });
    const contact = `sip:phone@127.0.0.1:${phonePort};transport=tcp`;
    const answering = runSipp({
      scenarioXml: phoneUas(false),
      target: `127.0.0.1:${proxy.port}`,
      transport: "t1",
      localPort: phonePort,
      timeoutMs: 30_000,
    });
    const registered = await runSipp({
      scenarioXml: registerScenario(contact),
      target: `127.0.0.1:${proxy.port}`,
      transport: "t1",
    });
    ok(registered, `REGISTER through Kamailio; kamailio log: ${proxy.log().slice(-1500)}`);
    const result = await mock.call("phone");
    expect(result.status, JSON.stringify(result)).toBe(200);
    expect(mock.bye(result.callId)).toBe(1);
    ok(await answering, "the phone got the INVITE through the proxy, then the ACK and the BYE from the mock");

    // The INVITE along the Path, on the connection the proxy relayed the REGISTER on (still open).
    const proxyEnd = mock.requests({ method: "REGISTER" })[0]!.remote;
    const out = mock.journal.entries({ direction: "out" }).filter((e) => e.kind === "request");
    expect(out.map((e) => `${e.method} ${e.transport} ${e.remote.address}:${e.remote.port}`)).toEqual([
      `INVITE tcp 127.0.0.1:${proxyEnd.port}`,
      `ACK tcp 127.0.0.1:${phonePort}`,
      `BYE tcp 127.0.0.1:${phonePort}`,
    ]);
    await capturesAgree(pcap);
  }, 60_000);

  it("after the proxy restarted, the mock's BYE takes a new TCP connection; journal, log and pcap name it", async () => {
    const { mock, proxy, pcap } = await startAll("tcp");
    const caller = runSipp({
      scenarioXml: PHONE_UAC,
      target: `127.0.0.1:${proxy.port}`,
      transport: "u1",
      timeoutMs: 30_000,
    });
    await until(() => mock.dialogs().some((d) => d.confirmed), "the phone's call to be up (ACK received)");
    const invite = mock.requests({ method: "INVITE" })[0]!;
    expect(invite.transport).toBe("tcp");
    const oldConnection = invite.remote;

    await proxy.restart();
    expect(mock.bye(invite.callId!)).toBe(1);
    const called = await caller;
    ok(called, "the phone got the mock's BYE through the restarted proxy");
    await byeAnswered(mock);

    const bye = mock.journal.entries().find((e) => e.direction === "out" && e.method === "BYE")!;
    // The proxy's listening port (its Record-Route), from a port of the mock's new connection.
    expect(bye.remote).toEqual({ address: "127.0.0.1", port: proxy.port });
    expect(bye.remote).not.toEqual(oldConnection);
    expect(bye.local.port).not.toBe(mock.address("tcp").port);
    const answer = mock.journal.entries().find((e) => e.direction === "in" && e.cseq?.endsWith("BYE"))!;
    expect(answer.local).toEqual(bye.local);
    expect(answer.remote).toEqual(bye.remote);
    const logged = logLines.find((l) => / -> \S+ BYE\b/.test(l));
    expect(logged).toContain(`-> tcp:127.0.0.1:${proxy.port} `);

    const messages = await capturesAgree(pcap);
    const byeOnWire = messages.find((m) => m.text.startsWith("BYE "))!;
    expect(byeOnWire.from).toBe(`127.0.0.1:${bye.local.port}`);
    expect(byeOnWire.to).toBe(`127.0.0.1:${proxy.port}`);
  }, 60_000);
});
