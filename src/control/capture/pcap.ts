/**
 * `--pcap FILE.pcap`: every message sent and received, in the classic
 * libpcap format with LINKTYPE_RAW (IPv4 or IPv6 packets, no link layer).
 * The IP, UDP and TCP headers are synthesised (with correct checksums and
 * per-direction TCP sequence numbers) so Wireshark, tshark and sngrep
 * decode the SIP inside. Written synchronously: nothing is lost on exit.
 */
import { isIP } from "node:net";
import { BoundedMap } from "../../sip/bounded-map.js";
import { unmapIpv4 } from "../../transport/address.js";
import { isMessage, type JournalRecord } from "../journal.js";
import { JournalMessage, timeOf } from "../journal-entry.js";
import { AsyncFileWriter } from "./file-writer.js";

const LINKTYPE_RAW = 101;
const SNAPLEN = 262_144;
/** Largest TCP payload per synthesised segment (IPv4 total length is 16 bits). */
const MAX_SEGMENT = 60_000;

export class PcapWriter {
  private readonly file: AsyncFileWriter;
  private readonly tcpSeq = new BoundedMap<string, number>(10_000);
  private ipId = 1;
  private closed = false;

  constructor(
    readonly path: string,
    /** A write that failed (a full disk): the mock says so in its log. */
    onError?: (err: Error) => void,
    /** Queued octets past which writes are synchronous (file-writer.ts). */
    maxBacklog?: number,
  ) {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0); // microsecond timestamps, little-endian file
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(SNAPLEN, 16);
    h.writeUInt32LE(LINKTYPE_RAW, 20);
    this.file = new AsyncFileWriter(path, "w", onError, maxBacklog, h);
  }

  /** A SIP message (DTMF and media entries are not packets: their RTP is written by writeUdp). */
  write(e: JournalRecord): void {
    if (this.closed || !isMessage(e)) return;
    const whole = e instanceof JournalMessage ? e.bytes : Buffer.from(e.raw, "latin1");
    const [src, dst] = e.direction === "in" ? [e.remote, e.local] : [e.local, e.remote];
    const { a: srcIp, b: dstIp } = sameFamily(src.address, dst.address);
    const time = timeOf(e);
    if (e.transport === "udp") {
      // The IP and UDP length fields are 16 bits: a larger message is
      // recorded truncated (incl_len < orig_len), as a capture would.
      const room = 65535 - 8 - (srcIp.length === 4 ? 20 : 0);
      const payload = whole.length > room ? whole.subarray(0, room) : whole;
      const headers = srcIp.length === 4 ? 28 : 48;
      this.packet(
        time,
        ip(srcIp, dstIp, 17, udp(srcIp, dstIp, src.port, dst.port, payload), this.ipId++),
        whole.length + headers,
      );
      return;
    }
    const payload = whole;
    for (let off = 0; off < payload.length || off === 0; off += MAX_SEGMENT) {
      const chunk = payload.subarray(off, off + MAX_SEGMENT);
      const key = `${srcIp.toString("hex")}|${src.port}|${dstIp.toString("hex")}|${dst.port}`;
      const back = `${dstIp.toString("hex")}|${dst.port}|${srcIp.toString("hex")}|${src.port}`;
      const seq = this.tcpSeq.get(key) ?? 1;
      const ack = this.tcpSeq.get(back) ?? 1;
      this.tcpSeq.delete(key);
      this.tcpSeq.set(key, (seq + chunk.length) >>> 0);
      // Bounded: the directions not seen for longest are forgotten first.
      this.packet(
        time,
        ip(srcIp, dstIp, 6, tcp(srcIp, dstIp, src.port, dst.port, seq, ack, chunk), this.ipId++),
      );
      if (payload.length === 0) break;
    }
  }

  /** A UDP datagram outside SIP (RTP/RTCP, `--pcap-rtp`): Wireshark's RTP player plays the call. */
  writeUdp(
    payload: Buffer,
    src: { address: string; port: number },
    dst: { address: string; port: number },
    timeMs = Date.now(),
  ): void {
    if (this.closed) return;
    const { a: srcIp, b: dstIp } = sameFamily(src.address, dst.address);
    const headers = srcIp.length === 4 ? 28 : 48;
    this.packet(
      timeMs,
      ip(srcIp, dstIp, 17, udp(srcIp, dstIp, src.port, dst.port, payload), this.ipId++),
      payload.length + headers,
    );
  }

  private packet(timeMs: number, data: Buffer, originalLength = data.length): void {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(timeMs / 1000), 0);
    h.writeUInt32LE((timeMs % 1000) * 1000, 4);
    h.writeUInt32LE(data.length, 8);
    h.writeUInt32LE(originalLength, 12);
    this.file.write(h, data);
  }

  /** Waits for the writes in flight and writes the rest; every call gets the same promise (file-writer.ts). */
  close(): Promise<void> {
    this.closed = true;
    return this.file.close();
  }
}

/** Both ends in one family: IPv4-mapped IPv6 is unmapped, a wildcard takes the other's family. */
function sameFamily(a: string, b: string): { a: Buffer; b: Buffer } {
  let x = unmapIpv4(a);
  let y = unmapIpv4(b);
  if (isIP(x) !== isIP(y)) {
    if (isIP(x) === 4) y = y === "::" || y === "::1" ? (y === "::" ? "0.0.0.0" : "127.0.0.1") : "0.0.0.0";
    else x = x === "::" || x === "::1" ? (x === "::" ? "0.0.0.0" : "127.0.0.1") : "0.0.0.0";
  }
  return { a: ipBytes(x), b: ipBytes(y) };
}

export function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split(".").map(Number));
  if (isIP(address) !== 6) return Buffer.alloc(4);
  const [head = "", tail = ""] = address.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  let h = groups(head);
  let t = groups(tail);
  const v4 = (t.length ? t : h).at(-1);
  const extra: string[] = [];
  if (v4?.includes(".")) {
    const b = v4.split(".").map(Number);
    extra.push(((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16));
    if (t.length) t = [...t.slice(0, -1), ...extra];
    else h = [...h.slice(0, -1), ...extra];
  }
  const fill = address.includes("::") ? Array(8 - h.length - t.length).fill("0") : [];
  const all = [...h, ...fill, ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g || "0", 16), i * 2);
  });
  return out;
}

function checksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += p.readUInt16BE(i);
    if (p.length % 2 === 1) sum += p[p.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** RFC 768 / RFC 793 / RFC 8200 8.1 pseudo-header for the transport checksum. */
function pseudo(src: Buffer, dst: Buffer, proto: number, length: number): Buffer {
  if (src.length === 4) {
    const p = Buffer.alloc(12);
    src.copy(p, 0);
    dst.copy(p, 4);
    p[9] = proto;
    p.writeUInt16BE(length, 10);
    return p;
  }
  const p = Buffer.alloc(40);
  src.copy(p, 0);
  dst.copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = proto;
  return p;
}

function udp(src: Buffer, dst: Buffer, sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  const sum = checksum(pseudo(src, dst, 17, 8 + payload.length), h, payload);
  h.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return Buffer.concat([h, payload]);
}

function tcp(
  src: Buffer,
  dst: Buffer,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  payload: Buffer,
): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = 0x18; // PSH, ACK
  h.writeUInt16BE(65535, 14);
  h.writeUInt16BE(checksum(pseudo(src, dst, 6, 20 + payload.length), h, payload), 16);
  return Buffer.concat([h, payload]);
}

function ip(src: Buffer, dst: Buffer, proto: number, segment: Buffer, id: number): Buffer {
  if (src.length === 4) {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + segment.length, 2);
    h.writeUInt16BE(id & 0xffff, 4);
    h.writeUInt16BE(0x4000, 6); // don't fragment
    h[8] = 64;
    h[9] = proto;
    src.copy(h, 12);
    dst.copy(h, 16);
    h.writeUInt16BE(checksum(h), 10);
    return Buffer.concat([h, segment]);
  }
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(segment.length, 4);
  h[6] = proto;
  h[7] = 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, segment]);
}
