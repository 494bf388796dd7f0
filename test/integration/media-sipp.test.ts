/**
 * Media against SIPp (a peer we did not write): the SDP answer names the
 * RTP port the mock really allocated within rtpPorts and only what the mock
 * can encode (PCMU/PCMA, telephone-event); SIPp then plays Debian's RFC 4733
 * DTMF captures (play_pcap_audio) to that port and the digits show in the
 * mock's media record, verifyDtmf and the admin API. An IVR: a call to
 * sip:ivr@ is in early media (183) until the caller presses 1, then 486.
 * SIPp's SIP INFO application/dtmf-relay digits are recorded too.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DtmfEntry, JournalRecord, MediaEntry } from "../../src/control/journal.js";
import { type SipMock, silentLogger, startAdmin, startSipMock } from "../../src/index.js";
import { freeUdpPort, run, start } from "../helpers/cli.js";
import { inviteSend, runSipp, statusOfText } from "../peers/sipp.js";

const PCAPS = "/usr/share/sip-tester";

/** The offer SIPp sends: G722 first (refused: the mock cannot encode it), G.711, telephone-event. */
const MEDIA_OFFER = `v=0
o=sipp 1 1 IN IP4 [media_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 9 0 8 101
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16`;

function invite(user: string): string {
  return inviteSend(user, MEDIA_OFFER);
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

/**
 * The RTP packets of the DTMF pcaps SIPp plays, as tshark (not the mock)
 * reads them: how many records, and how many distinct sequence numbers (the
 * captures repeat the sequence number of their redundant end packets).
 */
function pcapRtp(digits: readonly string[]): { packets: number; distinct: number } {
  let packets = 0;
  let distinct = 0;
  for (const d of digits) {
    const r = spawnSync(
      "tshark",
      ["-r", `${PCAPS}/dtmf_2833_${d}.pcap`, "-d", "udp.port==49176,rtp", "-T", "fields", "-e", "rtp.seq"],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (r.error) throw new Error(`tshark could not run (${r.error.message}); apt-get install -y tshark`);
    const seqs = r.stdout.split("\n").filter((l) => /^\d+$/.test(l));
    packets += seqs.length;
    distinct += new Set(seqs).size;
  }
  return { packets, distinct };
}

/** The m= port and c= address of an SDP inside a SIP message's text. */
function sdpMedia(text: string): { address: string; port: number } {
  return {
    address: /\nc=IN IP4 ([^\r\n]+)/.exec(text)![1]!.trim(),
    port: Number(/\nm=audio (\d+) /.exec(text)![1]),
  };
}

async function sipp(mock: SipMock | number, xml: string) {
  const r = await runSipp({
    scenarioXml: xml,
    target: `127.0.0.1:${typeof mock === "number" ? mock : mock.address("udp").port}`,
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
      // The journal: one dtmf entry per digit, in order, from SIPp's RTP, then the media entry.
      const invite = r.parsed.find((m) => m.direction === "sent" && m.text.startsWith("INVITE"))!;
      const records = mock.journal.records({ callId });
      const digits = records.filter((e): e is DtmfEntry => e.kind === "dtmf");
      expect(digits.map((d) => d.digit).join("")).toBe("123#");
      expect(digits.every((d) => d.via === "rfc4733" && d.transport === "udp")).toBe(true);
      expect(digits.map((d) => d.remote?.port)).toEqual(Array(4).fill(sdpMedia(invite.text).port));
      expect(digits.map((d) => d.local?.port)).toEqual(Array(4).fill(port));
      const media = records.filter((e): e is MediaEntry => e.kind === "media");
      expect(media).toHaveLength(1);
      const bye = records.findIndex((e) => e.kind === "request" && e.method === "BYE");
      expect(records.indexOf(media[0]!)).toBeGreaterThan(bye);
      expect(media[0]!.codec).toBe("PCMU");
      expect(media[0]!.local.port).toBe(port);
      const played = pcapRtp(["1", "2", "3", "pound"]);
      expect(media[0]!.received.packets).toBeGreaterThanOrEqual(played.distinct);
      expect(media[0]!.received.packets).toBeLessThanOrEqual(played.packets);
      expect(media[0]!.sent.packets).toBeGreaterThan(0);
      // Messages-only readers are unchanged: entries() and verify see SIP messages only.
      expect(mock.journal.entries({ callId }).every((e) => typeof e.raw === "string")).toBe(true);
      const listed = (await (
        await fetch(`${admin.url}/__admin/journal?kind=dtmf,media&callId=${encodeURIComponent(callId)}`)
      ).json()) as JournalRecord[];
      expect(listed.map((e) => (e.kind === "dtmf" ? e.digit : e.kind))).toEqual([
        "1",
        "2",
        "3",
        "#",
        "media",
      ]);
      expect((await fetch(`${admin.url}/__admin/journal?kind=digits`)).status).toBe(400);
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

  it("serve --journal: the JSONL holds the digits SIPp played as dtmf entries in order and, after the BYE, the call's RTP counts each way; sipmock report reads it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sipmock-media-journal-"));
    try {
      const jsonl = join(dir, "journal.jsonl");
      const port = await freeUdpPort();
      const s = await start([
        "serve",
        "--listen",
        `udp:127.0.0.1:${port}`,
        "--journal",
        jsonl,
        "--log-level",
        "warn",
      ]);
      const exit = new Promise<number | null>((res) => s.child.on("exit", (code) => res(code)));
      let r: Awaited<ReturnType<typeof sipp>>;
      try {
        r = await sipp(port, dtmfCallScenario(["4", "2", "star", "pound"]));
      } finally {
        s.child.kill("SIGTERM");
      }
      expect(await exit).toBe(0);
      const ok = r.parsed.find((m) => m.direction === "received" && statusOfText(m.text) === 200)!;
      const invite = r.parsed.find((m) => m.direction === "sent" && m.text.startsWith("INVITE"))!;
      const callId = /\r?\nCall-ID: *([^\r\n]+)/i.exec(ok.text)![1]!.trim();
      const lines = readFileSync(jsonl, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as JournalRecord);
      expect(lines.map((e) => e.id)).toEqual([...lines.map((e) => e.id)].sort((a, b) => a - b));
      const call = lines.filter((e) => e.callId === callId);
      const kinds = call.map((e) =>
        e.kind === "request" ? e.method : e.kind === "response" ? "resp" : e.kind,
      );
      // The digits sit between the ACK and the BYE, the media entry after the BYE.
      const ack = kinds.indexOf("ACK");
      const bye = kinds.indexOf("BYE");
      expect(kinds.slice(ack + 1, bye)).toEqual(["dtmf", "dtmf", "dtmf", "dtmf"]);
      expect(kinds.filter((k) => k === "media")).toHaveLength(1);
      expect(kinds.indexOf("media")).toBeGreaterThan(bye);
      const digits = call.filter((e): e is DtmfEntry => e.kind === "dtmf");
      expect(digits.map((d) => d.digit).join("")).toBe("42*#");
      expect(new Set(digits.map((d) => d.via))).toEqual(new Set(["rfc4733"]));
      const sippMedia = sdpMedia(invite.text);
      const mockMedia = sdpMedia(ok.text);
      for (const d of digits) {
        expect(d.remote).toEqual({ address: "127.0.0.1", port: sippMedia.port });
        expect(d.local?.port).toBe(mockMedia.port);
        expect(d.volume).toBeGreaterThanOrEqual(0);
        expect(d.durationMs).toBeGreaterThan(0);
        expect(d.dialog).toMatch(new RegExp(`^${callId.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")};`));
      }
      const media = call.find((e): e is MediaEntry => e.kind === "media")!;
      const played = pcapRtp(["4", "2", "star", "pound"]);
      expect(media.received.packets).toBeGreaterThanOrEqual(played.distinct);
      expect(media.received.packets).toBeLessThanOrEqual(played.packets);
      // RFC 4733 2.3: 4 octets of payload per telephone-event packet.
      expect(media.received.octets).toBe(4 * media.received.packets);
      expect(media.sent.packets).toBeGreaterThan(0);
      expect(media.sent.octets).toBeGreaterThan(0);
      expect(media.local.port).toBe(mockMedia.port);
      expect(media.remote).toEqual({ address: "127.0.0.1", port: sippMedia.port });
      expect(media.codec).toBe("PCMU");

      // The offline report takes the new kinds as they are.
      const html = join(dir, "report.html");
      const rep = run(["report", jsonl, "-o", html]);
      expect(rep.status, rep.stderr).toBe(0);
      const page = readFileSync(html, "utf8");
      expect(page).toContain('"kind":"dtmf"');
      expect(page).toContain('"kind":"media"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("SIP INFO application/dtmf-relay from SIPp: the digits reach dtmf() and verifyDtmf, via info", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const r = await sipp(mock, dtmfCallScenario(["4", "2", "*"], "info"));
    const ok = r.parsed.find((m) => m.direction === "received" && statusOfText(m.text) === 200)!;
    const callId = /\r?\nCall-ID: *([^\r\n]+)/i.exec(ok.text)![1]!.trim();
    expect(mock.dtmf(callId)).toBe("42*");
    expect(mock.verifyDtmf("42*", { callId }).digits.map((d) => d.via)).toEqual(["info", "info", "info"]);
    // Journaled after each INFO, from the INFO's sender over its transport.
    const records = mock.journal.records({ callId, kind: ["request", "dtmf"] });
    const order = records.map((e) =>
      e.kind === "dtmf" ? `dtmf ${e.digit}` : e.kind === "request" ? e.method : e.kind,
    );
    expect(order.filter((x) => x !== "ACK")).toEqual([
      "INVITE",
      "INFO",
      "dtmf 4",
      "INFO",
      "dtmf 2",
      "INFO",
      "dtmf *",
      "BYE",
    ]);
    const info = records.find((e) => e.kind === "request" && e.method === "INFO")!;
    const first = records.find((e): e is DtmfEntry => e.kind === "dtmf")!;
    expect(first).toMatchObject({
      via: "info",
      transport: "udp",
      remote: info.remote,
      volume: 0,
      durationMs: 160,
    });
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
    // The final non-2xx ended the early media: its statistics are journaled after the 486.
    const records = mock.journal.records({ callId });
    const media = records.findIndex((e) => e.kind === "media");
    expect(media).toBeGreaterThan(records.findIndex((e) => e.kind === "response" && e.status === 486));
    const m = records[media] as MediaEntry;
    expect(m.received.packets).toBeGreaterThanOrEqual(pcapRtp(["1"]).distinct);
    expect(m.sent.packets).toBeGreaterThan(0);
  });
});
