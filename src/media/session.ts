/**
 * One call's media: an RTP/RTCP socket pair (RFC 3550), the sender
 * (sender.ts), the receive path (A.1 validity, per-source statistics A.3/A.8,
 * RFC 4733 digits, recording, echo), RTCP SR/RR + SDES every interval (6.2,
 * 6.4) with BYE on close (6.6), and symmetric RTP (RFC 4961: send to where the
 * peer's packets come from). Bad input is counted and dropped, never thrown.
 */
import type { RemoteInfo } from "node:dgram";
import { isIP, isIPv6 } from "node:net";
import { isWildcard, mapIpv4 } from "../transport/address.js";
import { parseTelephoneEvent, TelephoneEventReceiver } from "./dtmf.js";
import type { PairOwner, SocketPair } from "./ports.js";
import { SourceStats } from "./receive-stats.js";
import { WavRecorder } from "./recorder.js";
import {
  buildRtcpCompound,
  ntpFromUnixMs,
  ntpMiddle,
  parseRtcp,
  type ReportBlock,
  type RtcpCompound,
  rtcpIntervalMs,
} from "./rtcp.js";
import { MAX_RTP_PACKET, parseRtp, type RtpPacket } from "./rtp.js";
import { RtpSender } from "./sender.js";
import { type FrameSource, PlaySource, SilenceSource, ToneSource } from "./sources.js";
import type {
  DtmfDigit,
  MediaClock,
  MediaEndpoint,
  MediaPlan,
  MediaSession,
  MediaStats,
  MediaTimer,
  NegotiatedMedia,
  RtpCaptureSink,
} from "./types.js";
import { MEDIA_RATE } from "./wav.js";

export interface SessionEnv {
  readonly clock: MediaClock;
  readonly random: () => number;
  readonly capture?: RtpCaptureSink;
  readonly onError: (err: Error) => void;
  /** Unix ms minus clock ms, for NTP timestamps in SRs. */
  readonly wallOffsetMs: number;
  loadPrompt(file: string): Promise<Int16Array>;
  /** The session ended: its pair goes back to the engine (`done` once it is pooled or closed). */
  released(session: RtpSession, pair: SocketPair, done: () => void): void;
}

const BYE_WAIT_MS = 200;
/** The send callback of a report nobody waits for (a send error is not reported, as before). */
const noop = (): void => {};

export class RtpSession implements MediaSession, PairOwner {
  readonly local: MediaEndpoint;
  private readonly localRtcp: MediaEndpoint;
  readonly digits: DtmfDigit[] = [];
  private readonly listeners: ((d: DtmfDigit) => void)[] = [];
  private readonly sender: RtpSender;
  private negotiated: NegotiatedMedia | undefined;
  private plan: MediaPlan | undefined;
  private remote: MediaEndpoint | undefined;
  private remoteRtcp: MediaEndpoint | undefined;
  private latched: MediaEndpoint | undefined;
  /** Where the last telephone-event packet came from (the digit's source in the journal). */
  private eventSource: MediaEndpoint | undefined;
  private latchedRtcp: MediaEndpoint | undefined;
  private source: SourceStats | undefined;
  private priorPackets = 0;
  private priorLost = 0;
  private octetsIn = 0;
  /** Made at the first telephone-event packet of a source (most calls carry none). */
  private dtmfIn: TelephoneEventReceiver | undefined;
  private recorder: WavRecorder | undefined;
  private recordNextTs: number | undefined;
  /** The session clock when the last RTP or RTCP datagram arrived. */
  private lastRxAt = 0;
  private inactivity: { ms: number; expired: () => void; timer?: MediaTimer } | undefined;
  /** The session clock when the last recorded packet arrived. */
  private recordLastAt: number | undefined;
  private readonly dropped = { malformed: 0, unknownPayloadType: 0, oversized: 0 };
  private rtcpSent = 0;
  private rtcpReceived = 0;
  private peerReport: ReportBlock | undefined;
  private peerSr: { ssrc: number; mid: number; at: number } | undefined;
  private rtcpTimer: MediaTimer | undefined;
  private rtcpFirst = true;
  private sendErrorReported = false;
  private sent: { readonly to: MediaEndpoint; readonly done: (err: Error | null) => void } | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** The sockets are udp6 (bound to an IPv6 address, possibly dual-stack `::`). */
  private readonly udp6: boolean;

  constructor(
    private readonly pair: SocketPair,
    address: string,
    private readonly env: SessionEnv,
  ) {
    this.local = { address, port: pair.port };
    this.udp6 = isIPv6(address);
    this.localRtcp = { address, port: pair.port + 1 };
    this.sender = new RtpSender({
      clock: env.clock,
      random: env.random,
      transmit: (p) => this.transmit(this.pair.rtp, p, this.local, this.remote),
    });
    pair.owner = this;
  }

  onSocketError(err: Error): void {
    this.env.onError(new Error(`RTP socket ${this.local.address}:${this.local.port}: ${err.message}`));
  }

  private newDtmfReceiver(): TelephoneEventReceiver {
    return new TelephoneEventReceiver((d) =>
      this.addDigit({
        ...d,
        via: "rfc4733",
        at: this.env.clock.now(),
        ...(this.eventSource ? { source: this.eventSource } : {}),
        local: this.local,
      }),
    );
  }

  start(negotiated: NegotiatedMedia, plan: MediaPlan): void {
    if (this.closed) return;
    const codecChanged = this.negotiated?.codec !== negotiated.codec;
    const prev = this.negotiated?.remote;
    if (prev && (prev.address !== negotiated.remote.address || prev.port !== negotiated.remote.port)) {
      // The peer moved (re-INVITE with a new c=/m=): symmetric RTP latches afresh.
      this.latched = undefined;
      this.latchedRtcp = undefined;
    }
    this.negotiated = negotiated;
    this.remote = this.latched ?? negotiated.remote;
    this.remoteRtcp = this.latchedRtcp ??
      negotiated.remoteRtcp ?? {
        address: negotiated.remote.address,
        port: negotiated.remote.port + 1,
      };
    if (codecChanged) this.recordNextTs = undefined;
    this.plan = plan;
    this.openRecorder(plan);
    this.sender.start(negotiated, this.sourceFor(plan), plan.faults);
    if (!this.rtcpTimer) this.scheduleRtcp();
  }

  setPlan(plan: MediaPlan): void {
    if (this.closed) return;
    this.plan = plan;
    this.openRecorder(plan);
    if (this.negotiated) this.sender.setPlan(this.sourceFor(plan), plan.faults);
  }

  /** The frame source of a plan (undefined = echo); a prompt plays silence until it is loaded. */
  private sourceFor(plan: MediaPlan): FrameSource | undefined {
    const codec = this.negotiated?.codec ?? "PCMU";
    const a = plan.action;
    if (a.kind === "echo") return undefined;
    if (a.kind === "silence") return new SilenceSource(codec);
    if (a.kind === "tone") return new ToneSource(codec, a);
    this.env.loadPrompt(a.file).then(
      (samples) => {
        if (this.plan === plan && !this.closed && this.negotiated?.codec === codec)
          this.sender.setSource(new PlaySource(codec, samples, a.loop ?? false));
      },
      (err: Error) => this.env.onError(new Error(`play ${a.file}: ${err.message}`)),
    );
    return new SilenceSource(codec);
  }

  private openRecorder(plan: MediaPlan): void {
    if (!plan.record || this.recorder?.path === plan.record) return;
    const old = this.recorder;
    void old?.close();
    this.recorder = new WavRecorder(plan.record, this.env.onError);
    this.recordNextTs = undefined;
  }

  sendDtmf(digits: string, durationMs = 100): Promise<void> {
    if (this.closed) return Promise.reject(new Error("sendDtmf: the media session is closed"));
    return this.sender.sendDtmf(digits, durationMs);
  }

  noteInfoDigit(digit: string, durationMs: number): void {
    this.addDigit({ digit, durationMs, volume: 0, via: "info", at: this.env.clock.now() });
  }

  flushDigits(): void {
    if (!this.closed) this.dtmfIn?.flush();
  }

  onDigit(listener: (d: DtmfDigit) => void): void {
    this.listeners.push(listener);
  }

  private addDigit(d: DtmfDigit): void {
    this.digits.push(d);
    for (const l of this.listeners) {
      try {
        l(d);
      } catch (err) {
        this.env.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private transmit(
    socket: SocketPair["rtp"],
    packet: Buffer,
    from: MediaEndpoint,
    to: MediaEndpoint | undefined,
  ): void {
    // No destination, or a held stream (RFC 3264 8.4 c=0.0.0.0 / port 0): nothing leaves.
    if (this.closed || !to || to.port === 0 || isWildcard(to.address)) return;
    this.env.capture?.(packet, from, to, "out");
    socket.send(packet, to.port, this.wire(to.address), this.sentTo(to));
  }

  /** The send callback for a destination: made when the destination changes, not per packet. */
  private sentTo(to: MediaEndpoint): (err: Error | null) => void {
    if (this.sent?.to === to) return this.sent.done;
    const done = (err: Error | null) => {
      if (!err || this.sendErrorReported) return;
      this.sendErrorReported = true;
      this.env.onError(new Error(`RTP send to ${to.address}:${to.port}: ${err.message}`));
    };
    this.sent = { to, done };
    return done;
  }

  /** A udp6 socket (dual-stack `::`) reaches an IPv4 peer at its IPv4-mapped address (RFC 4291 2.5.5.2). */
  private wire(address: string): string {
    return this.udp6 ? mapIpv4(address) : address;
  }

  watchInactivity(ms: number, expired: () => void): void {
    this.inactivity?.timer?.cancel();
    this.inactivity = undefined;
    if (this.closed || !(ms > 0)) return;
    this.lastRxAt = this.env.clock.now();
    this.inactivity = { ms, expired };
    this.armInactivity(ms);
  }

  private armInactivity(delay: number): void {
    const w = this.inactivity;
    if (!w) return;
    w.timer = this.env.clock.setTimer(delay, () => {
      if (this.closed || this.inactivity !== w) return;
      const now = this.env.clock.now();
      const dir = this.negotiated?.direction;
      // Held by us or the peer (we receive nothing by agreement): not silence.
      if (dir === "sendonly" || dir === "inactive") this.lastRxAt = now;
      const idle = now - this.lastRxAt;
      if (idle < w.ms) return this.armInactivity(w.ms - idle);
      this.inactivity = undefined;
      w.expired();
    });
  }

  onRtp(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    this.lastRxAt = this.env.clock.now();
    const from = { address: rinfo.address, port: rinfo.port };
    this.env.capture?.(msg, from, this.local, "in");
    if (msg.length > MAX_RTP_PACKET) {
      this.dropped.oversized++;
      return;
    }
    const p = parseRtp(msg);
    if (typeof p === "string") {
      // RFC 5761 4: RTCP multiplexed on the RTP port is read as RTCP.
      const c = p === "rtcp" ? parseRtcp(msg) : undefined;
      if (c) {
        this.rtcpReceived++;
        this.noteRtcp(c);
      } else this.dropped.malformed++;
      return;
    }
    const n = this.negotiated;
    const isEvent = n?.telephoneEventPt !== undefined && p.payloadType === n.telephoneEventPt;
    if (!n || (p.payloadType !== n.payloadType && !isEvent)) {
      this.dropped.unknownPayloadType++;
      return;
    }
    if (this.plan?.symmetric && !this.latched) {
      this.latched = from;
      this.remote = from;
    }
    const ev = isEvent ? parseTelephoneEvent(p.payload) : undefined;
    if (isEvent && !ev) {
      this.dropped.malformed++;
      return;
    }
    if (!this.count(p, isEvent)) return;
    const dir = n.direction;
    if (this.plan?.faults?.oneWay === "no-receive" || dir === "sendonly" || dir === "inactive") return;
    if (ev) {
      this.eventSource = from;
      this.dtmfIn ??= this.newDtmfReceiver();
      this.dtmfIn.receive(p.timestamp, ev, p.marker);
      return;
    }
    this.record(p);
    if (this.plan?.action.kind === "echo") this.sender.echo(p.payload);
  }

  /** Per-source statistics; false for a packet A.1 does not accept (yet). */
  private count(p: RtpPacket, isEvent: boolean): boolean {
    let s = this.source;
    if (!s || s.ssrc !== p.ssrc) {
      if (s) {
        this.priorPackets += s.packets;
        this.priorLost += s.lost;
        this.dtmfIn?.flush();
        this.dtmfIn = undefined;
      }
      s = new SourceStats(p.ssrc, p.sequence);
      if (this.peerSr?.ssrc === p.ssrc) {
        s.lastSr = this.peerSr.mid;
        s.lastSrAt = this.peerSr.at;
      }
      this.source = s;
      this.recordNextTs = undefined;
    }
    if (!s.update(p.sequence)) return false;
    this.octetsIn += p.payload.length;
    if (!isEvent) s.updateJitter((this.env.clock.now() * MEDIA_RATE) / 1000, p.timestamp);
    return true;
  }

  private record(p: RtpPacket): void {
    const r = this.recorder;
    if (!r || !this.negotiated) return;
    const next = this.recordNextTs;
    const now = this.env.clock.now();
    if (next !== undefined) {
      const gap = (p.timestamp - next) | 0;
      if (gap < 0) return; // late or duplicate: already past it
      // Lost packets or a pause: silence, but no more than the time that passed
      // since the last packet (a peer's timestamp jumps cannot fill the disk).
      const elapsed = Math.floor(((now - (this.recordLastAt ?? now)) * MEDIA_RATE) / 1000);
      if (gap > 0) r.writeSilence(gap, elapsed);
    }
    this.recordLastAt = now;
    r.writePayload(this.negotiated.codec, p.payload);
    this.recordNextTs = (p.timestamp + p.payload.length) >>> 0;
  }

  onRtcp(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    this.lastRxAt = this.env.clock.now();
    const from = { address: rinfo.address, port: rinfo.port };
    this.env.capture?.(msg, from, this.localRtcp, "in");
    if (msg.length > MAX_RTP_PACKET) {
      this.dropped.oversized++;
      return;
    }
    const c = parseRtcp(msg);
    if (!c) {
      this.dropped.malformed++;
      return;
    }
    this.rtcpReceived++;
    if (this.plan?.symmetric && !this.latchedRtcp) {
      this.latchedRtcp = from;
      this.remoteRtcp = from;
    }
    this.noteRtcp(c);
  }

  private noteRtcp(c: RtcpCompound): void {
    const now = this.env.clock.now();
    if (c.sender) {
      const mid = ntpMiddle(c.sender.ntpSeconds, c.sender.ntpFraction);
      this.peerSr = { ssrc: c.ssrc, mid, at: now };
      if (this.source?.ssrc === c.ssrc) {
        this.source.lastSr = mid;
        this.source.lastSrAt = now;
      }
    }
    const mine = c.reports.find((r) => r.ssrc === this.sender.ssrc);
    if (mine) this.peerReport = mine;
  }

  private scheduleRtcp(): void {
    const ms = rtcpIntervalMs(this.rtcpFirst, this.env.random);
    this.rtcpFirst = false;
    this.rtcpTimer = this.env.clock.setTimer(ms, this.rtcpDue);
  }

  /** The RTCP timer's function: one per session, not one per report. */
  private readonly rtcpDue = (): void => {
    this.rtcpTimer = undefined;
    if (this.closed) return;
    if (!this.sender.dead) this.sendRtcp(false);
    this.scheduleRtcp();
  };

  /** Sends a compound report (with BYE on leaving); `done` once it left ("lookup": the destination is a name). */
  private sendRtcp(bye: boolean, done: () => void = noop): "sent" | "lookup" | "none" {
    const now = this.env.clock.now();
    const ntp = ntpFromUnixMs(now + this.env.wallOffsetMs);
    const s = this.sender;
    const packet = buildRtcpCompound({
      ssrc: s.ssrc,
      cname: `sipmock@${this.local.address}`,
      sender:
        s.packets > 0
          ? {
              ntpSeconds: ntp.seconds,
              ntpFraction: ntp.fraction,
              rtpTimestamp: s.timestampAt(now),
              packetCount: s.packets,
              octetCount: s.octets,
            }
          : undefined,
      reports: this.source ? [this.source.reportBlock(now)] : [],
      bye,
    });
    const to = this.remoteRtcp;
    if (!to || to.port === 0 || isWildcard(to.address)) {
      done();
      return "none";
    }
    this.rtcpSent++;
    this.env.capture?.(packet, this.localRtcp, to, "out");
    const address = this.wire(to.address);
    this.pair.rtcp.send(packet, to.port, address, done);
    return isIP(address) === 0 ? "lookup" : "sent";
  }

  stats(): MediaStats {
    const s = this.source;
    const peer = this.peerReport;
    return {
      sent: {
        packets: this.sender.packets,
        octets: this.sender.octets,
        lost: peer ? Math.max(0, peer.cumulativeLost) : 0,
        jitterMs: peer ? (peer.jitter * 1000) / MEDIA_RATE : 0,
      },
      received: {
        packets: this.priorPackets + (s?.packets ?? 0),
        octets: this.octetsIn,
        lost: this.priorLost + (s?.lost ?? 0),
        jitterMs: s ? (s.jitter * 1000) / MEDIA_RATE : 0,
      },
      dropped: { ...this.dropped, faultLoss: this.sender.faultLoss },
      rtcp: { sent: this.rtcpSent, received: this.rtcpReceived },
      latched: this.latched,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Stop sending, RTCP BYE (6.6; BYE_WAIT_MS at most), release the sockets (pooled or closed), close the recording: one promise. */
  private shutdown(): Promise<void> {
    const byeDue = this.negotiated !== undefined && !this.sender.dead;
    this.sender.stop();
    this.dtmfIn?.flush();
    this.rtcpTimer?.cancel();
    this.rtcpTimer = undefined;
    this.inactivity?.timer?.cancel();
    this.inactivity = undefined;
    return new Promise<void>((resolve, reject) => {
      const closeSockets = () => {
        this.closed = true;
        this.env.released(this, this.pair, () => {
          const recording = this.recorder?.close();
          if (recording) recording.then(resolve, reject);
          else resolve();
        });
      };
      if (!byeDue) return closeSockets();
      let waiting = true;
      let guard: NodeJS.Timeout | undefined;
      const byeDone = () => {
        if (!waiting) return;
        waiting = false;
        if (guard) clearTimeout(guard);
        closeSockets();
      };
      // An IP literal's send calls back (next tick at the latest); a name's lookup may hang.
      if (this.sendRtcp(true, byeDone) === "lookup") guard = setTimeout(byeDone, BYE_WAIT_MS);
    });
  }
}
