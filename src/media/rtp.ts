/**
 * RTP fixed header (RFC 3550 5.1): parse with the validity checks of A.1
 * (version 2, CSRC list, header extension 5.3.1 and padding inside the
 * packet) and build; never throws on any input.
 */

export const RTP_HEADER_SIZE = 12;
/** Larger datagrams are counted and dropped (a typical MTU). */
export const MAX_RTP_PACKET = 1500;

export interface RtpPacket {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly csrcCount: number;
  readonly extension: boolean;
  readonly padding: boolean;
  /** A view into the datagram (no copy). */
  readonly payload: Buffer;
}

export type RtpParseError = "short" | "version" | "csrc" | "extension" | "padding" | "rtcp";

export function parseRtp(buf: Buffer): RtpPacket | RtpParseError {
  if (buf.length < RTP_HEADER_SIZE) return "short";
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return "version";
  const b1 = buf[1]!;
  const payloadType = b1 & 0x7f;
  // RFC 5761 4: PT 72-76 collide with RTCP SR/RR/SDES/BYE/APP (200-204).
  if (payloadType >= 72 && payloadType <= 76) return "rtcp";
  const csrcCount = b0 & 0x0f;
  let offset = RTP_HEADER_SIZE + 4 * csrcCount;
  if (offset > buf.length) return "csrc";
  const extension = (b0 & 0x10) !== 0;
  if (extension) {
    if (offset + 4 > buf.length) return "extension";
    offset += 4 + 4 * buf.readUInt16BE(offset + 2);
    if (offset > buf.length) return "extension";
  }
  let end = buf.length;
  const padding = (b0 & 0x20) !== 0;
  if (padding) {
    const pad = buf[buf.length - 1]!;
    if (pad === 0 || end - pad < offset) return "padding";
    end -= pad;
  }
  return {
    marker: (b1 & 0x80) !== 0,
    payloadType,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcCount,
    extension,
    padding,
    payload: buf.subarray(offset, end),
  };
}

/** Allocates a packet with a 12-octet header and room for payloadLength octets (filled by the caller). */
export function buildRtpHeader(
  payloadLength: number,
  payloadType: number,
  marker: boolean,
  sequence: number,
  timestamp: number,
  ssrc: number,
): Buffer {
  const buf = Buffer.allocUnsafe(RTP_HEADER_SIZE + payloadLength);
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf.writeUInt16BE(sequence & 0xffff, 2);
  buf.writeUInt32BE(timestamp >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
  return buf;
}
