/**
 * The media layer (below the UA): RTP/RTCP (RFC 3550), G.711, RFC 4733 DTMF,
 * tones, WAV play and record. Driven by what the SDP negotiation decided.
 */
export { ManualMediaClock, realMediaClock } from "./clock.js";
export { DTMF_EVENTS, dtmfEventCode, formatDtmfRelay, parseDtmfRelay } from "./dtmf.js";
export { createMediaEngine } from "./engine.js";
export type {
  DirectionStats,
  DtmfDigit,
  MediaAction,
  MediaClock,
  MediaCodec,
  MediaEndpoint,
  MediaEngine,
  MediaEngineOptions,
  MediaFaults,
  MediaPlan,
  MediaSession,
  MediaStats,
  MediaTimer,
  NegotiatedMedia,
  RtpCaptureSink,
} from "./types.js";
