/**
 * RTCP (RFC 3550 6): compound packets SR (6.4.1) or RR (6.4.2) followed by
 * SDES with a CNAME (6.5, required by 6.1) and, on leaving, BYE (6.6); the
 * compound-packet validity checks of A.2; the transmission interval of 6.2 /
 * 6.3.1 (5 s minimum, halved for the first report, randomised 0.5..1.5 and
 * divided by e - 3/2).
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
/** Seconds between 1900-01-01 (NTP epoch) and 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800;

export interface ReportBlock {
  readonly ssrc: number;
  /** Fraction lost since the previous report, 0..255 (8-bit fixed point). */
  readonly fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  readonly cumulativeLost: number;
  readonly highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  readonly jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received. */
  readonly lsr: number;
  /** Delay since that SR, 1/65536 s. */
  readonly dlsr: number;
}

export interface SenderInfo {
  readonly ntpSeconds: number;
  readonly ntpFraction: number;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}

export interface RtcpCompound {
  readonly ssrc: number;
  readonly sender?: SenderInfo;
  readonly reports: readonly ReportBlock[];
  readonly cname?: string;
  readonly bye: boolean;
}

/** NTP timestamp (RFC 3550 4) for a Unix time in milliseconds. */
export function ntpFromUnixMs(ms: number): { seconds: number; fraction: number } {
  const secs = Math.floor(ms / 1000);
  const fraction = Math.floor(((ms - secs * 1000) / 1000) * 2 ** 32) >>> 0;
  return { seconds: (secs + NTP_UNIX_OFFSET) >>> 0, fraction };
}

/** The middle 32 bits of a 64-bit NTP timestamp (LSR, 6.4.1). */
export function ntpMiddle(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

export interface RtcpReportInput {
  readonly ssrc: number;
  readonly cname: string;
  readonly sender?: SenderInfo;
  readonly reports: readonly ReportBlock[];
  readonly bye?: boolean;
}

export function buildRtcpCompound(input: RtcpReportInput): Buffer {
  const blocks = input.reports.slice(0, 31);
  const first = input.sender ? 28 + 24 * blocks.length : 8 + 24 * blocks.length;
  const cname = Buffer.from(input.cname.slice(0, 255), "utf8").subarray(0, 255);
  const sdesItems = 2 + cname.length + 1; // CNAME item, then the END item
  const sdesLen = 8 + Math.ceil(sdesItems / 4) * 4;
  const byeLen = input.bye ? 8 : 0;
  const buf = Buffer.alloc(first + sdesLen + byeLen);
  let o = 0;
  header(buf, o, blocks.length, input.sender ? RTCP_SR : RTCP_RR, first);
  buf.writeUInt32BE(input.ssrc >>> 0, o + 4);
  o += 8;
  if (input.sender) {
    const s = input.sender;
    buf.writeUInt32BE(s.ntpSeconds >>> 0, o);
    buf.writeUInt32BE(s.ntpFraction >>> 0, o + 4);
    buf.writeUInt32BE(s.rtpTimestamp >>> 0, o + 8);
    buf.writeUInt32BE(s.packetCount >>> 0, o + 12);
    buf.writeUInt32BE(s.octetCount >>> 0, o + 16);
    o += 20;
  }
  for (const b of blocks) {
    buf.writeUInt32BE(b.ssrc >>> 0, o);
    buf[o + 4] = b.fractionLost & 0xff;
    buf.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)), o + 5, 3);
    buf.writeUInt32BE(b.highestSeq >>> 0, o + 8);
    buf.writeUInt32BE(b.jitter >>> 0, o + 12);
    buf.writeUInt32BE(b.lsr >>> 0, o + 16);
    buf.writeUInt32BE(b.dlsr >>> 0, o + 20);
    o += 24;
  }
  header(buf, o, 1, RTCP_SDES, sdesLen);
  buf.writeUInt32BE(input.ssrc >>> 0, o + 4);
  buf[o + 8] = 1; // CNAME
  buf[o + 9] = cname.length;
  cname.copy(buf, o + 10);
  o += sdesLen; // the END item and padding are the zeros of Buffer.alloc
  if (input.bye) {
    header(buf, o, 1, RTCP_BYE, 8);
    buf.writeUInt32BE(input.ssrc >>> 0, o + 4);
  }
  return buf;
}

function header(buf: Buffer, o: number, count: number, pt: number, octets: number): void {
  buf[o] = 0x80 | (count & 0x1f);
  buf[o + 1] = pt;
  buf.writeUInt16BE(octets / 4 - 1, o + 2);
}

/** Parses a compound RTCP packet; undefined when it fails the checks of RFC 3550 A.2. */
export function parseRtcp(buf: Buffer): RtcpCompound | undefined {
  if (buf.length < 8 || buf.length % 4 !== 0) return undefined;
  const firstPt = buf[1]!;
  if (firstPt !== RTCP_SR && firstPt !== RTCP_RR) return undefined;
  let ssrc = 0;
  let sender: SenderInfo | undefined;
  const reports: ReportBlock[] = [];
  let cname: string | undefined;
  let bye = false;
  let o = 0;
  while (o < buf.length) {
    if (buf.length - o < 4) return undefined;
    const b0 = buf[o]!;
    if (b0 >> 6 !== 2) return undefined;
    const len = (buf.readUInt16BE(o + 2) + 1) * 4;
    if (o + len > buf.length) return undefined;
    // Only the last packet of a compound may be padded (A.2).
    if (b0 & 0x20 && o + len !== buf.length) return undefined;
    const count = b0 & 0x1f;
    const pt = buf[o + 1]!;
    if (o === 0) {
      if (len < 8) return undefined;
      ssrc = buf.readUInt32BE(o + 4);
      let r = o + 8;
      if (pt === RTCP_SR) {
        if (len < 28) return undefined;
        sender = {
          ntpSeconds: buf.readUInt32BE(r),
          ntpFraction: buf.readUInt32BE(r + 4),
          rtpTimestamp: buf.readUInt32BE(r + 8),
          packetCount: buf.readUInt32BE(r + 12),
          octetCount: buf.readUInt32BE(r + 16),
        };
        r += 20;
      }
      if (r + 24 * count > o + len) return undefined;
      for (let i = 0; i < count; i++, r += 24) reports.push(readBlock(buf, r));
    } else if (pt === RTCP_SDES && count >= 1 && len >= 10) {
      cname = readCname(buf, o + 8, o + len);
    } else if (pt === RTCP_BYE) {
      bye = true;
    }
    o += len;
  }
  return { ssrc, sender, reports, cname, bye };
}

function readBlock(buf: Buffer, r: number): ReportBlock {
  return {
    ssrc: buf.readUInt32BE(r),
    fractionLost: buf[r + 4]!,
    cumulativeLost: buf.readIntBE(r + 5, 3),
    highestSeq: buf.readUInt32BE(r + 8),
    jitter: buf.readUInt32BE(r + 12),
    lsr: buf.readUInt32BE(r + 16),
    dlsr: buf.readUInt32BE(r + 20),
  };
}

function readCname(buf: Buffer, from: number, end: number): string | undefined {
  let i = from;
  while (i + 2 <= end && buf[i] !== 0) {
    const type = buf[i]!;
    const len = buf[i + 1]!;
    if (i + 2 + len > end) return undefined;
    if (type === 1) return buf.toString("utf8", i + 2, i + 2 + len);
    i += 2 + len;
  }
  return undefined;
}

/** RFC 3550 6.3.1 deterministic interval for a two-party session, randomised with random() in [0, 1). */
export function rtcpIntervalMs(initial: boolean, random: () => number): number {
  const td = initial ? 2500 : 5000;
  return (td * (0.5 + random())) / (Math.E - 1.5);
}
