/**
 * Inside a dialog (RFC 3261 12-14, RFC 3311, RFC 6086, RFC 3428): re-INVITE
 * for hold with a matching SDP answer (SIPp and our client), out-of-order
 * CSeq 500, a second INVITE in progress 500 with Retry-After, UPDATE, INFO
 * (469 for an Info Package), MESSAGE, and 481 for dialogs we do not know.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SipMock, scenarioFromYaml, silentLogger, startSipMock } from "../../src/index.js";
import { header, statusOf, udpClient, type WireClient } from "../helpers/wire-client.js";
import { runSipp } from "../peers/sipp.js";

let mock: SipMock;
let target: { host: string; port: number };

// re-INVITEs to "slow" are answered after 800 ms, so one can be in progress.
const SCENARIO = `
rules:
  - name: slow re-INVITE
    match: { method: INVITE, requestUri: { user: "^slow$" }, headers: { To: ";tag=" } }
    steps: [ { wait: 800ms }, { respond: 200 } ]
`;

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0"],
    logger: silentLogger,
    timers: { t1: 100 },
    scenario: scenarioFromYaml(`${SCENARIO}\n`),
  });
  target = { host: "127.0.0.1", port: mock.address("udp").port };
});
afterAll(() => mock.close());

const sdp = (direction: string) =>
  [
    "v=0",
    "o=c 1 1 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 4000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
    `a=${direction}`,
    "",
  ].join("\r\n");

let n = 0;
function req(
  c: WireClient,
  method: string,
  user: string,
  o: { callId: string; cseq: number; toTag?: string; body?: string; extra?: string[] },
) {
  n++;
  const body = o.body ?? "";
  return [
    `${method} sip:${user}@127.0.0.1:${target.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bK-dlg-${process.pid}-${n};rport`,
    "Max-Forwards: 70",
    "From: <sip:caller@example.test>;tag=caller1",
    `To: <sip:${user}@example.test>${o.toTag ? `;tag=${o.toTag}` : ""}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} ${method}`,
    `Contact: <sip:caller@127.0.0.1:${c.port}>`,
    ...(body ? ["Content-Type: application/sdp"] : []),
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

async function final(c: WireClient, text: string, cseq: number, method: string) {
  const from = c.received.length;
  await c.send(text);
  return c.waitFor(
    (m) => c.received.indexOf(m) >= from && statusOf(m) >= 200 && header(m, "CSeq") === `${cseq} ${method}`,
  );
}

async function call(c: WireClient, user: string, callId: string) {
  const ok = await final(c, req(c, "INVITE", user, { callId, cseq: 1, body: sdp("sendrecv") }), 1, "INVITE");
  expect(statusOf(ok)).toBe(200);
  const toTag = /;tag=([^;\s]+)/.exec(header(ok, "To")!)![1]!;
  await c.send(req(c, "ACK", user, { callId, cseq: 1, toTag }));
  return toTag;
}

describe("inside a dialog (our client)", () => {
  it("re-INVITE for hold: 200 at once (no 180) with a=recvonly; UPDATE, INFO, MESSAGE; lower CSeq 500; BYE", async () => {
    const c = await udpClient(target);
    const callId = `dlg-a-${process.pid}`;
    const toTag = await call(c, "alice", callId);
    const before = c.received.length;
    const hold = await final(
      c,
      req(c, "INVITE", "alice", { callId, cseq: 2, toTag, body: sdp("sendonly") }),
      2,
      "INVITE",
    );
    expect(statusOf(hold)).toBe(200);
    expect(hold.text).toMatch(/\r\na=recvonly\r\n/);
    expect(c.received.slice(before).map(statusOf)).not.toContain(180);
    // RFC 3264 8: same o= session id, version incremented.
    const first = c.received.find((m) => statusOf(m) === 200 && header(m, "CSeq") === "1 INVITE")!;
    const o1 = /\r\no=sipmock (\d+) (\d+) /.exec(first.text)!;
    const o2 = /\r\no=sipmock (\d+) (\d+) /.exec(hold.text)!;
    expect([o2[1], Number(o2[2])]).toEqual([o1[1], Number(o1[2]) + 1]);
    await c.send(req(c, "ACK", "alice", { callId, cseq: 2, toTag }));

    const update = await final(
      c,
      req(c, "UPDATE", "alice", { callId, cseq: 3, toTag, body: sdp("sendrecv") }),
      3,
      "UPDATE",
    );
    expect(statusOf(update)).toBe(200);
    expect(update.text).toMatch(/\r\na=sendrecv\r\n/);

    const pkg = await final(
      c,
      req(c, "INFO", "alice", { callId, cseq: 4, toTag, extra: ["Info-Package: foo"] }),
      4,
      "INFO",
    );
    expect(pkg.text.split("\r\n")[0]).toBe("SIP/2.0 469 Bad Info Package");
    expect(pkg.text).toMatch(/\r\nRecv-Info: \r\n/);
    const legacy = await final(c, req(c, "INFO", "alice", { callId, cseq: 5, toTag }), 5, "INFO");
    expect(statusOf(legacy)).toBe(200);

    const old = await final(c, req(c, "INFO", "alice", { callId, cseq: 3, toTag }), 3, "INFO");
    expect(old.text.split("\r\n")[0]).toBe("SIP/2.0 500 Server Internal Error");
    expect(header(old, "Warning")).toMatch(/CSeq 3 is lower than 5/);

    const msg = await final(c, req(c, "MESSAGE", "alice", { callId: `${callId}-m`, cseq: 1 }), 1, "MESSAGE");
    expect(statusOf(msg)).toBe(200);

    const bye = await final(c, req(c, "BYE", "alice", { callId, cseq: 6, toTag }), 6, "BYE");
    expect(statusOf(bye)).toBe(200);
    expect(mock.dialogs().filter((d) => d.callId === callId)).toEqual([]);
    await c.close();
  });

  it("a second INVITE while one is in progress: 500 with Retry-After 0..10 (14.2)", async () => {
    const c = await udpClient(target);
    const callId = `dlg-b-${process.pid}`;
    const toTag = await call(c, "slow", callId);
    await c.send(req(c, "INVITE", "slow", { callId, cseq: 2, toTag, body: sdp("sendonly") }));
    const second = await final(
      c,
      req(c, "INVITE", "slow", { callId, cseq: 3, toTag, body: sdp("inactive") }),
      3,
      "INVITE",
    );
    expect(statusOf(second)).toBe(500);
    expect(Number(header(second, "Retry-After"))).toBeLessThanOrEqual(10);
    const first = await c.waitFor((m) => statusOf(m) === 200 && header(m, "CSeq") === "2 INVITE", 3000);
    expect(first.text).toMatch(/\r\na=recvonly\r\n/);
    await c.close();
  });

  it.each(["INVITE", "UPDATE", "INFO", "BYE"])("%s for a dialog we do not know gets 481", async (method) => {
    const c = await udpClient(target);
    const r = await final(
      c,
      req(c, method, "alice", { callId: `nodialog-${method}`, cseq: 7, toTag: "nosuchtag" }),
      7,
      method,
    );
    expect(r.text.split("\r\n")[0]).toBe("SIP/2.0 481 Call/Transaction Does Not Exist");
    await c.close();
  });
});

describe("hold and resume with SIPp", () => {
  it("INVITE, ACK, re-INVITE a=sendonly -> 200 a=recvonly, ACK, re-INVITE a=sendrecv -> a=sendrecv, ACK, BYE", async () => {
    const reinvite = (cseq: number, direction: string) => `  <send retrans="500">
    <![CDATA[
INVITE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: ${cseq} INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 ${cseq} IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=${direction}
]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp="[[:cntrl:]]a=${direction === "sendonly" ? "recvonly" : "sendrecv"}[[:cntrl:]]" search_in="msg" check_it="true" assign_to="dir${cseq}"/>
      <log message="answer [$dir${cseq}]"/>
    </action>
  </recv>
${ack(cseq)}`;
    const ack = (cseq: number) => `  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: ${cseq} ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
`;
    const xml = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hold and resume">
  <send retrans="500">
    <![CDATA[
INVITE sip:alice@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:alice@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=sendrecv
]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
${ack(1)}${reinvite(2, "sendonly")}${reinvite(3, "sendrecv")}  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 4 BYE
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200"/>
</scenario>
`;
    const r = await runSipp({ scenarioXml: xml, target: `127.0.0.1:${target.port}`, transport: "u1" });
    expect(r.exitCode, r.summary).toBe(0);
    expect(r.stats.successful).toBe(1);
  });
});

describe("session timers (RFC 4028)", () => {
  it("an interval below 90 s (or below the request's Min-SE) gets 422 with Min-SE", async () => {
    const c = await udpClient(target);
    const small = await final(
      c,
      req(c, "INVITE", "alice", {
        callId: "st-1",
        cseq: 1,
        body: sdp("sendrecv"),
        extra: ["Session-Expires: 30"],
      }),
      1,
      "INVITE",
    );
    expect(small.text.split("\r\n")[0]).toBe("SIP/2.0 422 Session Interval Too Small");
    expect(header(small, "Min-SE")).toBe("90");
    const theirs = await final(
      c,
      req(c, "INVITE", "alice", {
        callId: "st-2",
        cseq: 1,
        body: sdp("sendrecv"),
        extra: ["Session-Expires: 100", "Min-SE: 120"],
      }),
      1,
      "INVITE",
    );
    expect(header(theirs, "Min-SE")).toBe("120");
    await c.close();
  });

  it("the 2xx carries Session-Expires with the refresher, and Require: timer when the UAC supports it", async () => {
    const c = await udpClient(target);
    const ok = await final(
      c,
      req(c, "INVITE", "alice", {
        callId: "st-3",
        cseq: 1,
        body: sdp("sendrecv"),
        extra: ["Session-Expires: 1800", "Supported: timer"],
      }),
      1,
      "INVITE",
    );
    expect(statusOf(ok)).toBe(200);
    expect(header(ok, "Session-Expires")).toBe("1800;refresher=uac");
    expect(header(ok, "Require")).toBe("timer");
    const plain = await final(
      c,
      req(c, "INVITE", "alice", {
        callId: "st-4",
        cseq: 1,
        body: sdp("sendrecv"),
        extra: ["Session-Expires: 600"],
      }),
      1,
      "INVITE",
    );
    expect(header(plain, "Session-Expires")).toBe("600;refresher=uas");
    expect(header(plain, "Require")).toBeUndefined();
    await c.close();
  });
});

describe("reliable provisional responses (RFC 3262)", () => {
  // dial-a-code (the default scenario): sip:180@ rings until CANCEL.
  let ringing: SipMock;
  let saved: { host: string; port: number };
  beforeAll(async () => {
    ringing = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger, timers: { t1: 100 } });
    saved = target;
    target = { host: "127.0.0.1", port: ringing.address("udp").port };
  });
  afterAll(async () => {
    target = saved;
    await ringing.close();
  });

  it("a PRACK for a reliable 180 that arrives after the 2xx still gets 200 (RFC 3262 3)", async () => {
    const c = await udpClient(target);
    const callId = `late-prack-${process.pid}`;
    // sip:alice@ rings (180) and answers (200) at once.
    await c.send(
      req(c, "INVITE", "alice", { callId, cseq: 1, body: sdp("sendrecv"), extra: ["Require: 100rel"] }),
    );
    const ringing = await c.waitFor((m) => statusOf(m) === 180);
    await c.waitFor((m) => statusOf(m) === 200 && header(m, "CSeq") === "1 INVITE");
    const toTag = /;tag=([^;\s]+)/.exec(header(ringing, "To")!)![1]!;
    const prack = await final(
      c,
      req(c, "PRACK", "alice", {
        callId,
        cseq: 2,
        toTag,
        extra: [`RAck: ${header(ringing, "RSeq")} 1 INVITE`],
      }),
      2,
      "PRACK",
    );
    expect(prack.text.split("\r\n")[0]).toBe("SIP/2.0 200 OK");
    await c.close();
  });

  it("reliableProvisionals: supported makes a 180 reliable when the INVITE only supports 100rel; never answers Require: 100rel with 420", async () => {
    for (const [policy, extra, expectation] of [
      ["supported", "Supported: 100rel", "reliable"],
      ["never", "Require: 100rel", "420"],
      ["required", "Supported: 100rel", "unreliable"],
    ] as const) {
      const m = await startSipMock({
        listen: ["udp:127.0.0.1:0"],
        logger: silentLogger,
        scenario: scenarioFromYaml(`reliableProvisionals: ${policy}\nrules: []\n`),
      });
      const c = await udpClient({ host: "127.0.0.1", port: m.address("udp").port });
      try {
        const saved = target;
        target = { host: "127.0.0.1", port: m.address("udp").port };
        await c.send(
          req(c, "INVITE", "alice", {
            callId: `policy-${policy}-${process.pid}`,
            cseq: 1,
            body: sdp("sendrecv"),
            extra: [extra],
          }),
        );
        target = saved;
        const first = await c.waitFor((r) => statusOf(r) > 100);
        if (expectation === "420") {
          expect(first.text.split("\r\n")[0]).toBe("SIP/2.0 420 Bad Extension");
          expect(header(first, "Unsupported")).toBe("100rel");
        } else {
          expect(statusOf(first), policy).toBe(180);
          expect(header(first, "RSeq") !== undefined, policy).toBe(expectation === "reliable");
          expect(header(first, "Require"), policy).toBe(expectation === "reliable" ? "100rel" : undefined);
        }
      } finally {
        await c.close();
        await m.close();
      }
    }
  });
});
