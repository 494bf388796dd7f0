/** A call's media events in the journal: the DTMF digits it received and its RTP statistics. */
import type { DirectionStats, MediaStats } from "../media/types.js";
import type { Endpoint, TransportName } from "../transport/types.js";

/** RTP counts of one direction of a call (RFC 3550 6.4, A.3, A.8), as the media engine counts them. */
export type MediaDirectionStats = DirectionStats;

/** A DTMF digit the call received: RFC 4733 telephone-event in its RTP, or SIP INFO application/dtmf-relay. */
export interface DtmfEntry {
  readonly id: number;
  /** ISO 8601 time the digit was complete. */
  readonly time: string;
  readonly kind: "dtmf";
  readonly direction: "in";
  readonly callId: string;
  /** The call's dialog (Call-ID;from-tag;to-tag), when the journal saw it established. */
  readonly dialog?: string;
  readonly digit: string;
  readonly durationMs: number;
  /** RFC 4733 volume 0..63 (-dBm0); 0 for SIP INFO. */
  readonly volume: number;
  readonly via: "rfc4733" | "info";
  /** udp for RFC 4733 (the RTP socket), the SIP transport for INFO. */
  readonly transport: TransportName;
  /** The mock's RTP socket (rfc4733) or SIP listener (info). */
  readonly local?: Endpoint;
  /** Where the digit came from: the RTP packets' source, or the INFO's sender. */
  readonly remote?: Endpoint;
}

/** A call's RTP statistics, journaled when its media ended (BYE, CANCEL, final non-2xx, shutdown). */
export interface MediaEntry {
  readonly id: number;
  readonly time: string;
  readonly kind: "media";
  readonly callId: string;
  readonly dialog?: string;
  readonly transport: "udp";
  /** The mock's RTP socket (RTCP on port + 1). */
  readonly local: Endpoint;
  /** The peer's RTP address: latched by symmetric RTP, else from its SDP (absent: never negotiated). */
  readonly remote?: Endpoint;
  /** The negotiated audio codec and payload type, when negotiated. */
  readonly codec?: string;
  readonly payloadType?: number;
  readonly sent: MediaDirectionStats;
  readonly received: MediaDirectionStats;
  /** Packets that arrived and were counted and dropped; outgoing ones a loss fault dropped. */
  readonly dropped: MediaStats["dropped"];
  readonly rtcp: MediaStats["rtcp"];
}
