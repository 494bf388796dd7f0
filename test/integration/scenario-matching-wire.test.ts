/**
 * Request matching, sequences per scope, scenario state and templates on the
 * wire: requests from our raw client (so every header is under control) to a
 * mock loaded from a YAML file, answers read back byte for byte.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { header, statusOf, tcpClient, udpClient, type WireClient } from "../helpers/wire-client.js";

const SCENARIO = `
name: matching
initialState: Out
rules:
  - { name: vip caller, match: { method: MESSAGE, from: { displayName: "^VIP" } }, respond: 202, reason: Accepted VIP }
  - { name: zoiper, match: { method: MESSAGE, headers: { User-Agent: "^Zoiper" } }, respond: 488 }
  - { name: no subject, match: { method: MESSAGE, headers: { Subject: { present: false } } }, respond: 400, reason: Subject Required }
  - name: to carol
    match: { method: MESSAGE, to: { user: { equals: carol } } }
    respond: 200
    headers: { X-Echo: "{{header.Subject}} from {{from.user}} #{{counter}} on {{transport}}" }
  - { name: pcma offer, match: { method: INVITE, body: { sdpCodec: PCMA } }, respond: 415, reason: No PCMA Here }
  - { name: tcp only, match: { method: OPTIONS, transport: tcp }, respond: 403, reason: Not On TCP }
  - { name: loopback, match: { method: OPTIONS, source: 127.0.0.0/8, requestUri: { user: "^lo$" } }, respond: 418, reason: Loopback }
  - name: per call
    match: { method: SUBSCRIBE, requestUri: { user: "^call$" } }
    sequence: { scope: call, answers: [ { respond: 500 }, { respond: 200, headers: { Expires: 60 } } ] }
  - name: per from
    match: { method: SUBSCRIBE, requestUri: { user: "^from$" } }
    sequence: { scope: from, after: cycle, answers: [ { respond: 503 }, { respond: 200, headers: { Expires: 60 } } ] }
  - { name: login, match: { method: PUBLISH }, requireState: Out, setState: In, respond: 200, headers: { SIP-ETag: e1 } }
  - { name: logged in, match: { method: INFO }, requireState: In, respond: 200 }
  - { name: logged out, match: { method: INFO }, requireState: Out, respond: 403 }
  - { name: twice, match: { method: NOTIFY }, times: 2, respond: 489 }
`;

let mock: SipMock;
let dir: string;
let udp: { host: string; port: number };
let tcp: { host: string; port: number };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sipmock-match-"));
  const file = join(dir, "matching.yaml");
  writeFileSync(file, SCENARIO);
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    scenario: file,
    logger: silentLogger,
  });
  udp = { host: "127.0.0.1", port: mock.address("udp").port };
  tcp = { host: "127.0.0.1", port: mock.address("tcp").port };
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
interface Msg {
  method: string;
  user?: string;
  from?: string;
  to?: string;
  callId?: string;
  headers?: string[];
  body?: string;
}

function message(c: WireClient, transport: "UDP" | "TCP", m: Msg): string {
  n++;
  const target = transport === "UDP" ? udp : tcp;
  const body = m.body ?? "";
  return [
    `${m.method} sip:${m.user ?? "bob"}@127.0.0.1:${target.port} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${c.port};branch=z9hG4bK-match-${process.pid}-${n};rport`,
    "Max-Forwards: 70",
    `From: ${m.from ?? "<sip:alice@example.test>"};tag=t${n}`,
    `To: ${m.to ?? "<sip:bob@example.test>"}`,
    `Call-ID: ${m.callId ?? `match-${process.pid}-${n}`}`,
    `CSeq: ${n} ${m.method}`,
    ...(m.headers ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

async function ask(m: Msg, transport: "UDP" | "TCP" = "UDP") {
  const c = transport === "UDP" ? await udpClient(udp) : await tcpClient(tcp);
  await c.send(message(c, transport, m));
  const r = await c.waitFor((x) => statusOf(x) >= 200);
  await c.close();
  return { line: r.text.split("\r\n")[0], r };
}

describe("matching on the wire", () => {
  it("From display name", async () => {
    expect((await ask({ method: "MESSAGE", from: '"VIP Anna" <sip:anna@x.test>' })).line).toBe(
      "SIP/2.0 202 Accepted VIP",
    );
  });

  it("a header regex", async () => {
    expect((await ask({ method: "MESSAGE", headers: ["User-Agent: Zoiper 5.6", "Subject: hi"] })).line).toBe(
      "SIP/2.0 488 Not Acceptable Here",
    );
  });

  it("a header's absence", async () => {
    expect((await ask({ method: "MESSAGE" })).line).toBe("SIP/2.0 400 Subject Required");
  });

  it("To user, with templates filled from the request", async () => {
    const a = await ask({ method: "MESSAGE", to: "<sip:carol@example.test>", headers: ["Subject: lunch"] });
    expect(a.line).toBe("SIP/2.0 200 OK");
    expect(header(a.r, "X-Echo")).toBe("lunch from alice #1 on udp");
    const b = await ask(
      { method: "MESSAGE", to: "<sip:carol@example.test>", headers: ["Subject: again"] },
      "TCP",
    );
    expect(header(b.r, "X-Echo")).toBe("again from alice #2 on tcp");
  });

  it("an SDP codec in the offer", async () => {
    const sdp = (codec: string, pt: number) =>
      [
        "v=0",
        "o=a 1 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        `m=audio 4000 RTP/AVP ${pt}`,
        `a=rtpmap:${pt} ${codec}/8000`,
        "",
      ].join("\r\n");
    const pcma = await ask({
      method: "INVITE",
      headers: ["Content-Type: application/sdp"],
      body: sdp("PCMA", 8),
    });
    expect(pcma.line).toBe("SIP/2.0 415 No PCMA Here");
    const pcmu = await ask({
      method: "INVITE",
      headers: ["Content-Type: application/sdp"],
      body: sdp("PCMU", 0),
    });
    expect(pcmu.line).toBe("SIP/2.0 200 OK");
  });

  it("transport and source CIDR", async () => {
    expect((await ask({ method: "OPTIONS" }, "TCP")).line).toBe("SIP/2.0 403 Not On TCP");
    expect((await ask({ method: "OPTIONS", user: "lo" })).line).toBe("SIP/2.0 418 Loopback");
    expect((await ask({ method: "OPTIONS" })).line).toBe("SIP/2.0 200 OK");
  });
});

describe("sequences, state and times on the wire", () => {
  it("scope call: each Call-ID starts at the first answer", async () => {
    const seq = async (callId: string) => (await ask({ method: "SUBSCRIBE", user: "call", callId })).line;
    expect(await seq("c-1")).toBe("SIP/2.0 500 Server Internal Error");
    expect(await seq("c-1")).toBe("SIP/2.0 200 OK");
    expect(await seq("c-2")).toBe("SIP/2.0 500 Server Internal Error");
    expect(await seq("c-1")).toBe("SIP/2.0 200 OK");
  });

  it("scope from, cycling", async () => {
    const seq = async (from: string) => (await ask({ method: "SUBSCRIBE", user: "from", from })).line;
    expect(await seq("<sip:x@a.test>")).toBe("SIP/2.0 503 Service Unavailable");
    expect(await seq("<sip:y@a.test>")).toBe("SIP/2.0 503 Service Unavailable");
    expect(await seq("<sip:x@a.test>")).toBe("SIP/2.0 200 OK");
    expect(await seq("<sip:x@a.test>")).toBe("SIP/2.0 503 Service Unavailable");
  });

  it("scenario state moves with setState and is reset by resetScenario()", async () => {
    expect((await ask({ method: "INFO" })).line).toBe("SIP/2.0 403 Forbidden");
    expect((await ask({ method: "PUBLISH" })).line).toBe("SIP/2.0 200 OK");
    expect((await ask({ method: "INFO" })).line).toBe("SIP/2.0 200 OK");
    mock.resetScenario();
    expect((await ask({ method: "INFO" })).line).toBe("SIP/2.0 403 Forbidden");
  });

  it("times: a rule answers twice, then the built-in behaviour does", async () => {
    const lines = [];
    for (let i = 0; i < 3; i++) lines.push((await ask({ method: "NOTIFY" })).line);
    expect(lines).toEqual(["SIP/2.0 489 Bad Event", "SIP/2.0 489 Bad Event", "SIP/2.0 501 Not Implemented"]);
  });
});
