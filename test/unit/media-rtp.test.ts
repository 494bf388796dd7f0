import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SourceStats } from "../../src/media/receive-stats.js";
import {
  buildRtcpCompound,
  ntpFromUnixMs,
  ntpMiddle,
  parseRtcp,
  RTCP_BYE,
  RTCP_RR,
  RTCP_SDES,
  RTCP_SR,
  rtcpIntervalMs,
} from "../../src/media/rtcp.js";
import { buildRtpHeader, parseRtp, type RtpPacket } from "../../src/media/rtp.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("RTP header (RFC 3550 5.1)", () => {
  it("parses a real PCMU packet header", () => {
    // V=2 P=0 X=0 CC=0 M=1 PT=0 seq=0x1234 ts=0x000000a0 ssrc=0xdeadbeef, 4 payload octets
    const p = parseRtp(hex("80 80 1234 000000a0 deadbeef ff fe 7f 00")) as RtpPacket;
    expect(p).toMatchObject({
      marker: true,
      payloadType: 0,
      sequence: 0x1234,
      timestamp: 160,
      ssrc: 0xdeadbeef,
    });
    expect([...p.payload]).toEqual([0xff, 0xfe, 0x7f, 0x00]);
  });

  it("skips CSRCs and the header extension, strips padding", () => {
    const pkt = hex(
      "b2 08 0001 00000000 00000001" + // V=2 P=1 X=1 CC=2, PT 8
        "00000002 00000003" + // two CSRCs
        "bede 0001 11223344" + // extension: profile, 1 word
        "d5 d5 d5" + // payload
        "00 00 03", // 3 octets of padding
    );
    const p = parseRtp(pkt) as RtpPacket;
    expect(p.csrcCount).toBe(2);
    expect(p.extension).toBe(true);
    expect(p.padding).toBe(true);
    expect([...p.payload]).toEqual([0xd5, 0xd5, 0xd5]);
  });

  it("rejects short packets, version != 2, truncated CSRC/extension, bad padding, RTCP", () => {
    expect(parseRtp(hex("80 00 0001 00000000"))).toBe("short");
    expect(parseRtp(hex("40 00 0001 00000000 00000001 ff"))).toBe("version");
    expect(parseRtp(hex("81 00 0001 00000000 00000001"))).toBe("csrc");
    expect(parseRtp(hex("90 00 0001 00000000 00000001 bede"))).toBe("extension");
    expect(parseRtp(hex("90 00 0001 00000000 00000001 bede 0002 00000000"))).toBe("extension");
    expect(parseRtp(hex("a0 00 0001 00000000 00000001 ff 00"))).toBe("padding");
    expect(parseRtp(hex("a0 00 0001 00000000 00000001 ff 05"))).toBe("padding");
    expect(parseRtp(hex("80 c8 0006 00000001 00000000"))).toBe("rtcp"); // an SR on the RTP port
  });

  it("builds what it parses", () => {
    const b = buildRtpHeader(2, 101, true, 65535, 2 ** 32 - 1, 0x80000001);
    b[12] = 1;
    b[13] = 2;
    expect(b.subarray(0, 12).toString("hex")).toBe("80e5ffffffffffff80000001");
    const p = parseRtp(b) as RtpPacket;
    expect(p).toMatchObject({
      marker: true,
      payloadType: 101,
      sequence: 65535,
      timestamp: 2 ** 32 - 1,
      ssrc: 0x80000001,
    });
  });

  it("never throws on arbitrary bytes (fast-check), and a valid result stays inside the datagram", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, forceV2) => {
        const b = Buffer.from(bytes);
        if (forceV2 && b.length > 0) b[0] = (b[0]! & 0x3f) | 0x80;
        const p = parseRtp(b);
        if (typeof p !== "string") {
          expect(p.payload.byteOffset - b.byteOffset).toBeGreaterThanOrEqual(12);
          expect(p.payload.byteOffset - b.byteOffset + p.payload.length).toBeLessThanOrEqual(b.length);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("RTCP (RFC 3550 6.4, 6.5, 6.6)", () => {
  const block = {
    ssrc: 0x01020304,
    fractionLost: 64,
    cumulativeLost: -2,
    highestSeq: 0x00010005,
    jitter: 37,
    lsr: 0xaabbccdd,
    dlsr: 65536,
  };

  it("builds SR + SDES CNAME with the exact layout", () => {
    const b = buildRtcpCompound({
      ssrc: 0x11111111,
      cname: "sipmock@127.0.0.1",
      sender: {
        ntpSeconds: 0xe0000000,
        ntpFraction: 0x80000000,
        rtpTimestamp: 1234,
        packetCount: 50,
        octetCount: 8000,
      },
      reports: [block],
    });
    // SR: header (RC=1), SSRC, 20 octets sender info, one 24-octet block = 52 octets, length 12 words - 1
    expect(b.subarray(0, 4).toString("hex")).toBe("81c8000c");
    expect(b.readUInt32BE(4)).toBe(0x11111111);
    expect(b.readUInt32BE(8)).toBe(0xe0000000);
    expect(b.readUInt32BE(20)).toBe(50);
    expect(b.readUInt32BE(24)).toBe(8000);
    expect(b.subarray(28, 52).toString("hex")).toBe(
      "01020304" + "40fffffe" + "00010005" + "00000025" + "aabbccdd" + "00010000",
    );
    // SDES: SC=1, CNAME item (type 1, length 17), END, padded to a word
    expect(b[52]).toBe(0x81);
    expect(b[53]).toBe(RTCP_SDES);
    expect(b[60]).toBe(1);
    expect(b[61]).toBe(17);
    expect(b.toString("utf8", 62, 79)).toBe("sipmock@127.0.0.1");
    expect(b.length % 4).toBe(0);
    expect((b.readUInt16BE(54) + 1) * 4).toBe(b.length - 52);
    expect(b[79]).toBe(0); // END
  });

  it("builds RR when nothing was sent, with BYE last, and parses it back", () => {
    const b = buildRtcpCompound({ ssrc: 7, cname: "x", reports: [block], bye: true });
    expect(b[1]).toBe(RTCP_RR);
    expect(b.readUInt16BE(2)).toBe(7); // (8 + 24) / 4 - 1
    expect(b[b.length - 7]).toBe(RTCP_BYE);
    const c = parseRtcp(b)!;
    expect(c).toMatchObject({ ssrc: 7, cname: "x", bye: true, sender: undefined });
    expect(c.reports).toEqual([block]);
  });

  it("parses SR sender info", () => {
    const sender = { ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 };
    const c = parseRtcp(buildRtcpCompound({ ssrc: 9, cname: "y", sender, reports: [] }))!;
    expect(c.sender).toEqual(sender);
    expect(c.reports).toEqual([]);
  });

  it("rejects what A.2 rejects and never throws", () => {
    const good = buildRtcpCompound({ ssrc: 7, cname: "x", reports: [] });
    expect(parseRtcp(good.subarray(0, 6))).toBeUndefined(); // not a multiple of 4 / too short
    const sdesFirst = Buffer.from(good.subarray(8));
    expect(parseRtcp(sdesFirst)).toBeUndefined(); // must start with SR or RR
    const badLen = Buffer.from(good);
    badLen.writeUInt16BE(40, 2);
    expect(parseRtcp(badLen)).toBeUndefined();
    const v1 = Buffer.from(good);
    v1[8] = 0x41;
    expect(parseRtcp(v1)).toBeUndefined();
    const srShort = hex("80c80001 00000001");
    expect(parseRtcp(Buffer.from(srShort))).toBeUndefined();
    expect(parseRtcp(Buffer.from([0x80, RTCP_SR, 0, 1]))).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const b = Buffer.from(bytes);
        if (b.length > 1) b[1] = RTCP_RR;
        parseRtcp(b);
      }),
      { numRuns: 3000 },
    );
  });

  it("NTP timestamps and the interval", () => {
    const t = ntpFromUnixMs(1_000_000_500);
    expect(t.seconds).toBe(1_000_000 + 2_208_988_800);
    expect(t.fraction).toBe(2 ** 31);
    expect(ntpMiddle(0x12345678, 0x9abcdef0)).toBe(0x56789abc);
    // 6.3.1: randomised 0.5..1.5 of 5 s (2.5 s first), divided by e - 3/2
    expect(rtcpIntervalMs(false, () => 0.5)).toBeCloseTo(5000 / (Math.E - 1.5));
    expect(rtcpIntervalMs(true, () => 0)).toBeCloseTo(1250 / (Math.E - 1.5));
  });
});

describe("receiver statistics (RFC 3550 A.1, A.3, A.8)", () => {
  it("counts loss across sequence wrap-around", () => {
    const s = new SourceStats(1, 65530);
    for (const seq of [65530, 65531, 65533, 65535, 0, 1, 3]) s.update(seq);
    expect(s.packets).toBe(7);
    expect(s.expected).toBe(10);
    expect(s.lost).toBe(3);
    const rb = s.reportBlock(0);
    expect(rb.highestSeq).toBe(65536 + 3);
    expect(rb.cumulativeLost).toBe(3);
    expect(rb.fractionLost).toBe(Math.floor((3 * 256) / 10));
    // the next report covers only the new interval
    s.update(4);
    expect(s.reportBlock(0).fractionLost).toBe(0);
  });

  it("treats a wild jump as a restart only when the next packet follows it", () => {
    const s = new SourceStats(1, 100);
    s.update(100);
    s.update(101);
    expect(s.update(30000)).toBe(false);
    expect(s.update(30001)).toBe(true); // two in a row: the source restarted
    expect(s.lost).toBe(0);
    expect(s.packets).toBe(1);
  });

  it("interarrival jitter: 0 for perfect pacing, converges for alternating +-d", () => {
    const s = new SourceStats(1, 0);
    for (let i = 0; i < 50; i++) s.updateJitter(1000 + i * 160, i * 160);
    expect(s.jitter).toBe(0);
    const j = new SourceStats(2, 0);
    for (let i = 0; i < 500; i++) j.updateJitter(i * 160 + (i % 2 ? 40 : 0), i * 160);
    expect(j.jitter).toBeCloseTo(40, 0);
  });
});
