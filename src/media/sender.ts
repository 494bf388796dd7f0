/**
 * The sending half of a session: packetisation (RFC 3550 5.1: random initial
 * SSRC, sequence and timestamp; marker on the first packet of a talkspurt;
 * RFC 3551 4.5.14: 8 kHz G.711, 20 ms = 160 samples by default), paced by the
 * injected clock against absolute deadlines so the timestamps follow time;
 * echo; RFC 4733 2.5.1 event sending (same timestamp for the whole event,
 * growing duration, three end packets); and the faults a client should
 * survive (timeout, one-way, wrong PT, SSRC change, loss, jitter, late start).
 */
import { dtmfEventCode, writeTelephoneEvent } from "./dtmf.js";
import { buildRtpHeader, RTP_HEADER_SIZE } from "./rtp.js";
import type { FrameSource } from "./sources.js";
import type { MediaClock, MediaFaults, MediaTimer, NegotiatedMedia } from "./types.js";
import { MEDIA_RATE } from "./wav.js";

export interface SenderEnv {
  readonly clock: MediaClock;
  readonly random: () => number;
  /** Puts a finished packet on the wire (to wherever the session sends). */
  transmit(packet: Buffer): void;
}

/** Frames a late timer may catch up at once; beyond that the stream skips ahead. */
const MAX_CATCH_UP = 10;
const DTMF_VOLUME = 10;
const DTMF_END_PACKETS = 3;
const DTMF_GAP_MS = 60;

interface DtmfJob {
  readonly events: number[];
  readonly durationSamples: number;
  readonly done: () => void;
}

interface DtmfState {
  readonly job: DtmfJob;
  index: number;
  /** Timestamp of the current event; undefined during the inter-digit gap. */
  eventTs: number | undefined;
  sentSamples: number;
  endSent: number;
  gapLeft: number;
}

const rand32 = (random: () => number) => Math.floor(random() * 2 ** 32) >>> 0;

export class RtpSender {
  ssrc: number;
  private seq: number;
  private tsBase: number;
  private t0 = 0;
  private k = 0;
  private timer: MediaTimer | undefined;
  private negotiated: NegotiatedMedia | undefined;
  private source: FrameSource | undefined;
  private echoing = false;
  private faults: MediaFaults = {};
  private planAt = 0;
  private ssrcChanged = false;
  private marker = true;
  private everStarted = false;
  private stopped = false;
  private readonly jobs: DtmfJob[] = [];
  private dtmf: DtmfState | undefined;
  packets = 0;
  octets = 0;
  faultLoss = 0;

  constructor(private readonly env: SenderEnv) {
    this.ssrc = rand32(env.random);
    this.seq = Math.floor(env.random() * 0x10000);
    this.tsBase = rand32(env.random);
  }

  private get spf(): number {
    return ((this.negotiated?.ptimeMs ?? 20) * MEDIA_RATE) / 1000;
  }

  private get ptime(): number {
    return this.negotiated?.ptimeMs ?? 20;
  }

  /** RTP timestamp for a clock time (RFC 3550 5.1: the sampling instant). */
  timestampAt(now: number): number {
    return (this.tsBase + Math.round(((now - this.t0) * MEDIA_RATE) / 1000)) >>> 0;
  }

  /** (Re)starts pacing for a negotiation; timestamps and sequence continue. */
  start(negotiated: NegotiatedMedia, source: FrameSource | undefined, faults: MediaFaults | undefined): void {
    const now = this.env.clock.now();
    if (this.everStarted) {
      // Continue on the packet grid: the next frame keeps its time and timestamp (no overlap).
      const nextAt = this.t0 + this.k * this.ptime;
      const late = nextAt < now;
      this.tsBase = late ? this.timestampAt(now) : (this.tsBase + this.k * this.spf) >>> 0;
      this.t0 = late ? now : nextAt;
    } else this.t0 = now;
    this.k = 0;
    this.negotiated = negotiated;
    this.stopped = false;
    this.applyPlan(source, faults);
    if (!this.everStarted) {
      this.everStarted = true;
      const delay = this.faults.firstPacketDelayMs ?? 0;
      if (delay > 0) this.k = Math.ceil(delay / this.ptime);
    }
    this.schedule();
  }

  /** New source (undefined = echo) and faults; fault timers count from now. */
  setPlan(source: FrameSource | undefined, faults: MediaFaults | undefined): void {
    this.applyPlan(source, faults);
    if (this.negotiated && !this.stopped) this.schedule();
  }

  /** The plan's fields, without (re)scheduling: start() schedules once it has them all. */
  private applyPlan(source: FrameSource | undefined, faults: MediaFaults | undefined): void {
    this.source = source;
    this.echoing = source === undefined;
    this.faults = faults ?? {};
    this.planAt = this.env.clock.now();
    this.ssrcChanged = false;
  }

  /** Replaces the source without resetting fault timers (a prompt finished loading). */
  setSource(source: FrameSource): void {
    this.source = source;
    this.echoing = false;
  }

  private schedule(): void {
    this.timer?.cancel();
    const at = this.t0 + this.k * this.ptime;
    this.timer = this.env.clock.setTimer(at - this.env.clock.now(), this.tick);
  }

  /** The pacing timer's function: one per sender, not one per packet. */
  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.stopped || !this.negotiated) return;
    const now = this.env.clock.now();
    let due = Math.floor((now - this.t0) / this.ptime) - this.k + 1;
    if (due > MAX_CATCH_UP) {
      this.k += due - 1; // the event loop stalled: skip ahead, keep the timestamps true to time
      due = 1;
    }
    for (let i = 0; i < due; i++, this.k++) this.frame(now);
    if (this.timedOut(now) && !this.dtmf && this.jobs.length === 0) return;
    this.schedule();
  };

  private timedOut(now: number): boolean {
    const t = this.faults.rtpTimeoutMs;
    return t !== undefined && now - this.planAt >= t;
  }

  /** True once rtpTimeoutMs has stopped the media path (RTCP stops too). */
  get dead(): boolean {
    return this.stopped || this.timedOut(this.env.clock.now());
  }

  private frame(now: number): void {
    const ts = (this.tsBase + this.k * this.spf) >>> 0;
    const after = this.faults.ssrcChangeAfterMs;
    if (after !== undefined && !this.ssrcChanged && now - this.planAt >= after) this.changeSsrc();
    if (this.dtmf || this.jobs.length > 0) {
      if (this.dtmfFrame(ts, now)) return;
    }
    if (this.echoing || !this.source || !this.negotiated) return;
    const spf = this.spf;
    const pt = this.faults.wrongPayloadType ?? this.negotiated.payloadType;
    const packet = buildRtpHeader(spf, pt, this.marker, this.seq, ts, this.ssrc);
    this.source.fill(packet, RTP_HEADER_SIZE, spf);
    this.emit(packet, spf, now);
  }

  private changeSsrc(): void {
    this.ssrcChanged = true;
    this.ssrc = rand32(this.env.random);
    this.seq = Math.floor(this.env.random() * 0x10000);
    this.tsBase = (rand32(this.env.random) - this.k * this.spf) >>> 0;
    this.marker = true;
  }

  /** Sends a received payload straight back, re-stamped with this stream's SSRC, sequence and timestamp. */
  echo(payload: Buffer): void {
    if (!this.echoing || !this.negotiated || this.stopped || this.dtmf) return;
    const now = this.env.clock.now();
    const pt = this.faults.wrongPayloadType ?? this.negotiated.payloadType;
    const ts = this.timestampAt(now);
    const packet = buildRtpHeader(payload.length, pt, this.marker, this.seq, ts, this.ssrc);
    payload.copy(packet, RTP_HEADER_SIZE);
    this.emit(packet, payload.length, now);
  }

  /** Applies the send-side faults, counts and transmits. */
  private emit(packet: Buffer, payloadLength: number, now: number): void {
    const dir = this.negotiated?.direction;
    if (dir === "recvonly" || dir === "inactive") return; // RFC 3264 6.1: held, nothing to send
    this.seq = (this.seq + 1) & 0xffff;
    this.marker = false;
    const f = this.faults;
    if (f.oneWay === "no-send" || this.timedOut(now)) return;
    if (f.lossPercent && this.env.random() * 100 < f.lossPercent) {
      this.faultLoss++;
      return;
    }
    this.packets++;
    this.octets += payloadLength;
    if (f.jitterMs && f.jitterMs > 0) {
      this.env.clock.setTimer(this.env.random() * f.jitterMs, () => {
        if (!this.stopped) this.env.transmit(packet);
      });
    } else this.env.transmit(packet);
  }

  /** Queues RFC 4733 events; resolves when the last end packet has gone (or the session stopped). */
  sendDtmf(digits: string, durationMs: number): Promise<void> {
    const pt = this.negotiated?.telephoneEventPt;
    if (pt === undefined)
      return Promise.reject(new Error("sendDtmf: telephone-event (RFC 4733) was not negotiated"));
    const events: number[] = [];
    for (const d of digits) {
      const e = dtmfEventCode(d);
      if (e === undefined)
        return Promise.reject(new Error(`sendDtmf: "${d}" is not a DTMF digit (0-9*#A-D)`));
      events.push(e);
    }
    if (!(durationMs >= 40 && durationMs <= 5000))
      return Promise.reject(new Error(`sendDtmf: duration ${durationMs} ms outside 40-5000`));
    if (events.length === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.jobs.push({
        events,
        durationSamples: Math.round((durationMs * MEDIA_RATE) / 1000),
        done: resolve,
      });
      if (!this.timer) this.schedule();
    });
  }

  /** One packet interval of DTMF; false when this interval carries audio (the gap between digits). */
  private dtmfFrame(ts: number, now: number): boolean {
    if (!this.dtmf) {
      const job = this.jobs.shift();
      if (!job) return false;
      this.dtmf = { job, index: 0, eventTs: undefined, sentSamples: 0, endSent: 0, gapLeft: 0 };
    }
    const s = this.dtmf;
    if (s.eventTs === undefined && s.gapLeft > 0) {
      s.gapLeft--;
      if (s.gapLeft === 0 && s.index >= s.job.events.length) this.finishJob();
      return false;
    }
    if (s.eventTs === undefined) {
      s.eventTs = ts;
      s.sentSamples = 0;
      s.endSent = 0;
      this.marker = true; // RFC 4733 2.5.1.3: marker on the first packet of an event
    }
    const total = s.job.durationSamples;
    s.sentSamples = Math.min(total, s.sentSamples + this.spf);
    const end = s.sentSamples >= total; // the packet reaching the full duration is the first end packet
    const payload = 4;
    const pt = this.negotiated!.telephoneEventPt!;
    const packet = buildRtpHeader(payload, pt, this.marker, this.seq, s.eventTs, this.ssrc);
    writeTelephoneEvent(packet, RTP_HEADER_SIZE, s.job.events[s.index]!, end, DTMF_VOLUME, s.sentSamples);
    this.emit(packet, payload, now);
    if (end && ++s.endSent >= DTMF_END_PACKETS) {
      s.index++;
      s.eventTs = undefined;
      s.gapLeft = Math.max(1, Math.round(DTMF_GAP_MS / this.ptime));
      this.marker = true; // audio resumes: a new talkspurt
    }
    return true;
  }

  private finishJob(): void {
    const s = this.dtmf;
    this.dtmf = undefined;
    s?.job.done();
  }

  /** Stops pacing; pending DTMF promises resolve (nothing more will be sent). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.dtmf?.job.done();
    this.dtmf = undefined;
    for (const j of this.jobs.splice(0)) j.done();
  }
}
