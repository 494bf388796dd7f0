/**
 * Public types of the media layer (RTP/RTCP per RFC 3550, G.711 per ITU-T
 * G.711, DTMF per RFC 4733 and application/dtmf-relay). The media layer sits
 * below the UA: the UA negotiates SDP (RFC 3264) and hands the outcome here as
 * {@link NegotiatedMedia}; this layer never imports the UA or higher layers.
 */

/** Codecs the mock can encode and decode; a codec not listed here is never offered. */
export type MediaCodec = "PCMU" | "PCMA";

export interface MediaEndpoint {
  readonly address: string;
  readonly port: number;
}

export type MediaAction =
  | { readonly kind: "echo" }
  | { readonly kind: "silence" }
  /** Sum of sines; onMs/offMs is the cadence (absent = continuous). */
  | {
      readonly kind: "tone";
      readonly frequencies: readonly number[];
      readonly onMs?: number;
      readonly offMs?: number;
    }
  /** 8 kHz or 16 kHz 16-bit PCM WAV (16 kHz is downsampled), encoded to the negotiated codec. */
  | { readonly kind: "play"; readonly file: string; readonly loop?: boolean };

export interface MediaFaults {
  /** Stop sending RTP (and RTCP) this long after the plan was set: the media path dies. */
  readonly rtpTimeoutMs?: number;
  /** no-send: the mock sends no RTP; no-receive: it ignores what arrives (no echo, record or digits). */
  readonly oneWay?: "no-send" | "no-receive";
  /** Send this payload type on audio packets instead of the negotiated one. */
  readonly wrongPayloadType?: number;
  /** Switch to a new random SSRC (and sequence/timestamp base) this long after the plan was set. */
  readonly ssrcChangeAfterMs?: number;
  /** 0..100: share of outgoing RTP packets dropped (deterministic with an injected random source). */
  readonly lossPercent?: number;
  /** Each outgoing RTP packet is delayed by a random 0..jitterMs. */
  readonly jitterMs?: number;
  /** The first RTP packet of the session leaves this late. */
  readonly firstPacketDelayMs?: number;
}

export interface NegotiatedMedia {
  /** From the peer's SDP c=/m=. */
  readonly remote: MediaEndpoint;
  /** The peer's RTCP address (SDP a=rtcp, RFC 3605); default remote port + 1. */
  readonly remoteRtcp?: MediaEndpoint;
  readonly codec: MediaCodec;
  readonly payloadType: number;
  /** RFC 4733 payload type when negotiated. */
  readonly telephoneEventPt?: number;
  /** Packetisation time; default 20. */
  readonly ptimeMs?: number;
  /**
   * The mock's direction as the offer/answer decided (RFC 3264 6.1), default sendrecv:
   * recvonly/inactive send no RTP (RTCP goes on); sendonly/inactive ignore what arrives (counted only).
   */
  readonly direction?: "sendrecv" | "sendonly" | "recvonly" | "inactive";
}

export interface MediaPlan {
  readonly action: MediaAction;
  /** Path of a WAV file (8 kHz 16-bit mono) receiving the decoded audio the peer sends. */
  readonly record?: string;
  readonly faults?: MediaFaults;
  /** Symmetric RTP: latch onto the source address of the first packet received. */
  readonly symmetric?: boolean;
}

export interface DirectionStats {
  readonly packets: number;
  /** Payload octets (RFC 3550 6.4.1 sender's octet count). */
  readonly octets: number;
  /** received: cumulative lost computed here (RFC 3550 A.3); sent: as the peer's last RTCP report says. */
  readonly lost: number;
  /** received: interarrival jitter computed here (RFC 3550 A.8); sent: as the peer's last report says. */
  readonly jitterMs: number;
}

export interface MediaStats {
  readonly sent: DirectionStats;
  readonly received: DirectionStats;
  readonly dropped: {
    readonly malformed: number;
    /** Includes packets arriving before start() (no payload type negotiated yet). */
    readonly unknownPayloadType: number;
    readonly oversized: number;
    /** Outgoing packets dropped by the lossPercent fault. */
    readonly faultLoss: number;
  };
  readonly rtcp: { readonly sent: number; readonly received: number };
  /** Source of the peer's RTP as latched by symmetric RTP, else undefined. */
  readonly latched?: MediaEndpoint;
}

export interface DtmfDigit {
  readonly digit: string;
  readonly durationMs: number;
  /** RFC 4733 volume: 0..63, power level in -dBm0; 0 for SIP INFO. */
  readonly volume: number;
  readonly via: "rfc4733" | "info";
  /** MediaClock.now() when the digit was complete. */
  readonly at: number;
  /** RFC 4733: the source address of the event's RTP packets. */
  readonly source?: MediaEndpoint;
  /** RFC 4733: the session's RTP socket that received them. */
  readonly local?: MediaEndpoint;
}

export interface MediaSession {
  /** RTP; RTCP on port + 1. */
  readonly local: MediaEndpoint;
  /** (Re)start sending per plan; call again on re-INVITE or 183 -> 200. SSRC/sequence continue. */
  start(negotiated: NegotiatedMedia, plan: MediaPlan): void;
  setPlan(plan: MediaPlan): void;
  /** RFC 4733 events (3 end packets each); rejects without a negotiated telephone-event PT. */
  sendDtmf(digits: string, durationMs?: number): Promise<void>;
  /** A SIP INFO application/dtmf-relay digit, recorded like an RTP one. */
  noteInfoDigit(digit: string, durationMs: number): void;
  readonly digits: readonly DtmfDigit[];
  onDigit(listener: (d: DtmfDigit) => void): void;
  /** Reports now an RFC 4733 digit whose end packets never came (before the call's last stats). */
  flushDigits(): void;
  /**
   * Calls `expired` once nothing (RTP or RTCP) has arrived for `ms` (0: off).
   * A stream on which the peer does not send (sendonly, inactive) is not watched.
   * Calling again restarts the watch.
   */
  watchInactivity(ms: number, expired: () => void): void;
  stats(): MediaStats;
  /** Stops timers, sends RTCP BYE, closes sockets, finishes the recording (WAV header sizes). */
  close(): Promise<void>;
}

export type RtpCaptureSink = (
  packet: Buffer,
  from: MediaEndpoint,
  to: MediaEndpoint,
  direction: "in" | "out",
) => void;

export interface MediaTimer {
  cancel(): void;
}

/** Injectable time source: real by default, manual in tests. */
export interface MediaClock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimer(delayMs: number, fn: () => void): MediaTimer;
}

export interface MediaEngineOptions {
  /** Inclusive port range for RTP (even) and RTCP (RTP + 1); absent = ephemeral ports. */
  readonly portRange?: readonly [number, number];
  readonly clock?: MediaClock;
  /** Called for every RTP and RTCP packet in and out (for --pcap-rtp). */
  readonly capture?: RtpCaptureSink;
  /** [0, 1) random source for SSRC, sequence, RTCP interval and faults; default Math.random. */
  readonly random?: () => number;
  /** A non-fatal problem (unreadable prompt, recording write error). Default: console.error. */
  readonly onError?: (err: Error) => void;
}

export interface MediaEngine {
  /** Binds an RTP/RTCP socket pair on address (the address the SDP advertises). */
  allocate(address: string): Promise<MediaSession>;
  readonly codecs: readonly MediaCodec[];
  close(): Promise<void>;
}
