/**
 * Media against SIPp (a peer we did not write): the SDP answer names the
 * RTP port the mock really allocated within rtpPorts and only what the mock
 * can encode (PCMU/PCMA, telephone-event); SIPp then plays Debian's RFC 4733
 * DTMF captures (play_pcap_audio) to that port and the digits show in the
 * mock's media record, verifyDtmf and the admin API. An IVR: a call to
 * sip:ivr@ is in early media (183) until the caller presses 1, then 486.
 * SIPp's SIP INFO application/dtmf-relay digits are recorded too.
 */
import { describe, expect, it } from "vitest";
import { type SipMock, silentLogger, startAdmin, startSipMock } from "../../src/index.js";
import { runSipp, statusOfText } from "../peers/sipp.js";

const PCAPS = "/usr/share/sip-tester";

function invite(user: string): string {
  return `  <send retrans="500">
    <![CDATA[
INVITE sip:${user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
To: <sip:${user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 1 IN IP4 [media_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 9 0 8 101
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16

]]>
  </send>
`;
}

function play(digit: string): string {
  return `  <nop><action><exec play_pcap_audio="${PCAPS}/dtmf_2833_${digit}.pcap"/></action></nop>
  <pause milliseconds="400"/>
`;
}

const HEAD = `<?xml version="1.0" encoding="ISO-8859-1" ?>`;

/** SIP INFO application/dtmf-relay for one digit, in the dialog (CSeq `cseq`). */
function info(signal: string, cseq: number): string {
  return `  <send retrans="500">
    <![CDATA[
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: ${cseq} INFO
Max-Forwards: 70
Content-Type: application/dtmf-relay
Content-Length: [len]

Signal=${signal}
Duration=160
]]>
  </send>
  <recv response="200"/>
`;
}

/** An answered call that sends the digits as RFC 4733 events (or SIP INFO), then BYE. */
function dtmfCallScenario(digits: readonly string[], via: "rtp" | "info" = "rtp"): string {
  return `${HEAD}
<scenario name="rfc 4733 dtmf">
${invite("alice")}  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
${via === "rtp" ? digits.map(play).join("") : digits.map((d, i) => info(d, 2 + i)).join("")}  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: ${digits.length + 2} BYE
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
  <recv response="200"/>
</scenario>
`;
}

/** sip:ivr@: 183 with SDP (early media), the digit 1 as RFC 4733, then 486 expected, ACK. */
function ivrScenario(): string {
  return `${HEAD}
<scenario name="ivr press 1">
${invite("ivr")}  <recv response="100" optional="true"/>
  <recv response="183"/>
${play("1")}  <recv response="486"/>
  <send>
    <![CDATA[
ACK sip:ivr@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]>
  </send>
</scenario>
`;
}

async function sipp(mock: SipMock, xml: string) {
  const r = await runSipp({
    scenarioXml: xml,
    target: `127.0.0.1:${mock.address("udp").port}`,
    transport: "u1",
    extraArgs: ["-mi", "127.0.0.1"],
    timeoutMs: 15_000,
  });
  expect(r.exitCode, `${r.summary}\n${r.messages}\n${r.errors}`).toBe(0);
  return r;
}

describe("media with SIPp", () => {
  it("answers with the allocated port in rtpPorts and only PCMU/PCMA/telephone-event; RFC 4733 digits reach journal, verify and admin", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      rtpPorts: [31000, 31199],
    });
    const admin = await startAdmin(mock, { port: 0 });
    try {
      const r = await sipp(mock, dtmfCallScenario(["1", "2", "3", "pound"]));
      const ok = r.parsed.find((m) => m.direction === "received" && statusOfText(m.text) === 200)!;
      const port = Number(/\nm=audio (\d+) RTP\/AVP ([\d ]+)/.exec(ok.text)?.[1]);
      expect(port).toBeGreaterThanOrEqual(31000);
      expect(port).toBeLessThanOrEqual(31199);
      // The answerer keeps the offerer's payload types (RFC 3264 6.1): PCMU, not G722, and 101.
      expect(/\nm=audio \d+ RTP\/AVP ([\d ]+)/.exec(ok.text)?.[1]?.trim()).toBe("0 101");
      const codecs = [...ok.text.matchAll(/a=rtpmap:\d+ ([^/]+)\//g)].map((m) => m[1]);
      expect(codecs).toEqual(["PCMU", "telephone-event"]);

      const callId = /\r?\nCall-ID: *([^\r\n]+)/i.exec(ok.text)![1]!.trim();
      await expect.poll(() => mock.dtmf(callId), { timeout: 3000 }).toBe("123#");
      expect(mock.verifyDtmf("123#").callId).toBe(callId);
      const journaled = mock.calls({ callId })[0]!;
      expect(journaled.dtmf).toBe("123#");
      expect(journaled.media!.received.packets).toBeGreaterThanOrEqual(4);
      const [m] = mock.media(callId);
      expect(m!.digits.every((d) => d.via === "rfc4733")).toBe(true);
      // The call is over (BYE): its last statistics are kept.
      expect(m!.stats!.received.packets).toBeGreaterThanOrEqual(4);
      const metrics = await (await fetch(`${admin.url}/metrics`)).text();
      expect(metrics).toMatch(/\nsipmock_dtmf_digits_received_total\{via="rfc4733"\} 4\n/);
      expect(metrics).toMatch(/\nsipmock_media_calls_total 1\n/);
      expect(
        Number(/\nsipmock_rtp_packets_received_total (\d+)\n/.exec(metrics)?.[1]),
      ).toBeGreaterThanOrEqual(4);
      const res = await fetch(`${admin.url}/__admin/calls/${encodeURIComponent(callId)}/media`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { dtmf: string }).dtmf).toBe("123#");
      const bad = await fetch(`${admin.url}/__admin/verify/dtmf`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ digits: "9", callId }),
      });
      expect(bad.status).toBe(409);
    } finally {
      await admin.close();
    }
  });

  it("SIP INFO application/dtmf-relay from SIPp: the digits reach dtmf() and verifyDtmf, via info", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const r = await sipp(mock, dtmfCallScenario(["4", "2", "*"], "info"));
    const ok = r.parsed.find((m) => m.direction === "received" && statusOfText(m.text) === 200)!;
    const callId = /\r?\nCall-ID: *([^\r\n]+)/i.exec(ok.text)![1]!.trim();
    expect(mock.dtmf(callId)).toBe("42*");
    expect(mock.verifyDtmf("42*", { callId }).digits.map((d) => d.via)).toEqual(["info", "info", "info"]);
    // verify and scenario expectations match on the call's digits too.
    expect(mock.verify({ method: "BYE", dtmf: { equals: "42*" } })).toHaveLength(1);
    expect(() => mock.verify({ method: "BYE", dtmf: { equals: "43*" } })).toThrow(
      /dtmf \{"equals":"43\*"\}: was "42\*"/,
    );
  });

  it("the bundled ivr scenario: early media until the caller presses 1, then 486 (match: { dtmf })", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    // The bundled scenarios/ivr.yaml: rule "pressed 1" has match: { dtmf: "^1" }, respond: 486.
    mock.setScenario("ivr");
    const r = await sipp(mock, ivrScenario());
    const finals = r.parsed.filter((m) => m.direction === "received").map((m) => statusOfText(m.text));
    expect(finals).toContain(183);
    expect(finals.at(-1)).toBe(486);
    const callId = mock.journal.entries({ method: "INVITE" })[0]!.callId!;
    expect(mock.dtmf(callId)).toBe("1");
    expect(mock.journal.entries({ callId, status: 486 }).filter((e) => !e.retransmission)).toHaveLength(1);
  });
});
