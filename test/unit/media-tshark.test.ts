/**
 * What the media layer puts on the wire, read back by a decoder we did not
 * write: tshark dissects the RTP, RFC 4733 events and compound RTCP
 * (SR + SDES, RR, BYE) of a session, with no malformed packet.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { MediaEndpoint } from "../../src/media/types.js";
import { harness, Peer, rtpPacket, until } from "../fixtures/media/harness.js";

function ip4(a: string): Buffer {
  return Buffer.from(a.split(".").map(Number));
}

/** A libpcap file with raw IPv4/UDP framing (LINKTYPE_RAW = 101). */
function pcap(packets: { data: Buffer; from: MediaEndpoint; to: MediaEndpoint }[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(101, 20);
  const out: Buffer[] = [head];
  packets.forEach((p, i) => {
    const ip = Buffer.alloc(28);
    ip[0] = 0x45;
    ip.writeUInt16BE(28 + p.data.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip4(p.from.address).copy(ip, 12);
    ip4(p.to.address).copy(ip, 16);
    let sum = 0;
    for (let j = 0; j < 20; j += 2) sum += ip.readUInt16BE(j);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    ip.writeUInt16BE(p.from.port, 20);
    ip.writeUInt16BE(p.to.port, 22);
    ip.writeUInt16BE(8 + p.data.length, 24);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + Math.floor(i / 50), 0);
    rec.writeUInt32LE((i % 50) * 20_000, 4);
    rec.writeUInt32LE(28 + p.data.length, 8);
    rec.writeUInt32LE(28 + p.data.length, 12);
    out.push(rec, ip, p.data);
  });
  return Buffer.concat(out);
}

describe("tshark reads the media layer's packets", () => {
  it("RTP, RFC 4733 events, SR + SDES, RR, BYE: all well-formed", async () => {
    const captured: { data: Buffer; from: MediaEndpoint; to: MediaEndpoint }[] = [];
    const { clock, engine } = harness({ capture: (data, from, to) => captured.push({ data, from, to }) });
    const peer = await Peer.open();
    const peerRtcp = await Peer.open();
    const s = await engine.allocate("127.0.0.1");
    s.start(
      {
        codec: "PCMU",
        payloadType: 0,
        telephoneEventPt: 101,
        remote: peer.endpoint,
        remoteRtcp: peerRtcp.endpoint,
      },
      { action: { kind: "tone", frequencies: [1000] } },
    );
    const dtmf = s.sendDtmf("5", 100);
    // A second call only receives (one-way): its reports are RRs about the peer's stream.
    const rx = await engine.allocate("127.0.0.1");
    rx.start(
      { codec: "PCMU", payloadType: 0, remote: peer.endpoint, remoteRtcp: peerRtcp.endpoint },
      { action: { kind: "silence" }, faults: { oneWay: "no-send" } },
    );
    for (const seq of [1, 2, 4])
      await peer.send(rtpPacket(0, seq, seq * 160, 0x1234, new Uint8Array(160)), rx.local);
    await until(() => rx.stats().received.packets === 3, "3 packets");
    clock.advance(6000);
    await dtmf;
    await until(() => peerRtcp.received.length >= 2, "RTCP");
    await s.close();
    await until(() => captured.filter((c) => c.to.port === peerRtcp.endpoint.port).length >= 3, "BYE");

    const dir = mkdtempSync(join(tmpdir(), "sipmock-tshark-"));
    const file = join(dir, "media.pcap");
    writeFileSync(file, pcap(captured));
    const rtpPort = peer.endpoint.port;
    const rtcpPort = peerRtcp.endpoint.port;
    const r = spawnSync(
      "tshark",
      [
        "-r",
        file,
        "-d",
        `udp.port==${rtpPort},rtp`,
        "-d",
        `udp.port==${rtcpPort},rtcp`,
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-e",
        "rtp.p_type",
        "-e",
        "rtpevent.event_id",
        "-e",
        "rtpevent.end_of_event",
        "-e",
        "rtcp.pt",
        "-e",
        "rtcp.sender.packetcount",
        "-e",
        "rtcp.sdes.text",
        "-e",
        "_ws.malformed",
        "-e",
        "rtcp.ssrc.identifier",
        "-e",
        "rtcp.ssrc.cum_nr",
        "-e",
        "rtcp.ssrc.high_seq",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => l.split("|"));
    expect(rows.length).toBe(captured.length);
    expect(rows.filter((f) => f[6] !== "")).toEqual([]); // nothing malformed
    const audio = rows.filter((f) => f[0] === "0");
    const events = rows.filter((f) => f[0] === "101");
    expect(audio.length).toBeGreaterThan(250);
    expect(events.map((f) => [f[1], f[2]])).toEqual([
      ["5", "0"],
      ["5", "0"],
      ["5", "0"],
      ["5", "0"],
      ["5", "1"],
      ["5", "1"],
      ["5", "1"],
    ]);
    const rtcp = rows.filter((f) => f[3] !== "");
    const sr = rtcp.filter((f) => f[3]!.startsWith("200"));
    // Compound: SR then SDES (CNAME); the sender's last one ends with BYE.
    expect(sr[0]![3]).toBe("200,202");
    expect(Number(sr[0]![4])).toBeGreaterThan(0);
    expect(sr[0]![5]).toBe("sipmock@127.0.0.1");
    expect(sr.at(-1)![3]).toBe("200,202,203");
    // The receiving call's RR: one block about SSRC 0x1234, 1 lost, highest sequence 4.
    const rr = rtcp.filter((f) => f[3] === "201,202");
    expect(rr.length).toBeGreaterThanOrEqual(1);
    expect(rr[0]![7]).toMatch(/^0x00001234,/); // the block's SSRC, then the SDES chunk's
    expect(rr[0]!.slice(8, 10)).toEqual(["1", "4"]);
  });
});
