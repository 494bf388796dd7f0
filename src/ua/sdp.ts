/**
 * SDP offer/answer (RFC 3264) with sdp-transform for the parsing and writing.
 * The answer keeps one m= line per offered stream (6), accepts the first
 * offered codec we support plus telephone-event (RFC 4733) when offered,
 * mirrors the direction (6.1) and rejects a stream with port 0 when nothing
 * in it is acceptable.
 */
import { randomBytes } from "node:crypto";
import * as sdpTransform from "sdp-transform";
import { stripBrackets } from "../transport/address.js";
import { parseSdp, writeSdp } from "./sdp-codec.js";

/**
 * The RTP port the mock's SDP names by default (--media-port, `mediaPort:`).
 * Nothing listens there: the mock sends and receives no RTP yet.
 */
export const DEFAULT_MEDIA_PORT = 40000;

export interface CodecSpec {
  readonly name: string;
  readonly rate: number;
  readonly staticPt?: number;
  readonly channels?: number;
}

export const DEFAULT_CODECS: readonly CodecSpec[] = [
  { name: "PCMU", rate: 8000, staticPt: 0 },
  { name: "PCMA", rate: 8000, staticPt: 8 },
  { name: "G722", rate: 8000, staticPt: 9 },
  { name: "opus", rate: 48000, channels: 2 },
];

const STATIC_NAMES: Record<number, { name: string; rate: number }> = {
  0: { name: "PCMU", rate: 8000 },
  8: { name: "PCMA", rate: 8000 },
  9: { name: "G722", rate: 8000 },
  18: { name: "G729", rate: 8000 },
};

export interface SdpAnswerResult {
  /** The answer, or undefined when no stream could be accepted (488 with Warning 304/305). */
  readonly sdp?: string;
  /** The answer's o= session id and version (what originOf reads from `sdp`). */
  readonly origin?: SdpOrigin;
  readonly warning?: { readonly code: 304 | 305; readonly text: string };
}

let sessionCounter = Math.floor(Date.now() / 1000);

const OPPOSITE: Record<string, string> = {
  sendonly: "recvonly",
  recvonly: "sendonly",
  sendrecv: "sendrecv",
  inactive: "inactive",
};

export interface AnswerOptions {
  /**
   * Real media: one RTP socket per call, on `mediaPort`. The first accepted
   * audio line gets it; other lines are refused (port 0). Absent (signalling
   * only, --media-port): line i is answered mediaPort + 2*i.
   */
  readonly singleStream?: boolean;
  /** SHA-256 certificate fingerprint for DTLS-SRTP answers (WebRTC); random when absent. */
  readonly fingerprint?: string;
  /**
   * RFC 3264 8: later descriptions in a session keep the o= session id and
   * increment the version. Absent: a new session.
   */
  readonly origin?: SdpOrigin;
  /** ICE credentials and fingerprint already used in this dialog (RFC 8839 4.4.1.1.1). */
  readonly webrtc?: WebRtcIdentity;
}

export interface SdpOrigin {
  readonly sessionId: number;
  readonly version: number;
}

/**
 * The o= line's session id and version of a description we wrote (RFC 4566
 * 5.2). Only that line goes to sdp-transform: answers and re-INVITEs call
 * this once each, and a whole parse costs twenty times more.
 */
export function originOf(sdp: string): SdpOrigin | undefined {
  const start = sdp.startsWith("o=") ? 0 : sdp.indexOf("\no=") + 1;
  if (start === 0 && !sdp.startsWith("o=")) return undefined;
  const end = sdp.indexOf("\n", start);
  let origin: sdpTransform.SessionDescription["origin"];
  try {
    origin = sdpTransform.parse(sdp.slice(start, end < 0 ? sdp.length : end)).origin;
  } catch {
    return undefined;
  }
  const sessionId = digits(origin?.sessionId);
  const version = digits(origin?.sessionVersion);
  if (!origin?.username || sessionId === undefined || version === undefined) return undefined;
  return { sessionId, version };
}

/** The o= of a description we build, as originOf would read it from the written text. */
function originOfDesc(desc: sdpTransform.SessionDescription): SdpOrigin | undefined {
  const o = desc.origin;
  const sessionId = digits(o?.sessionId);
  const version = digits(o?.sessionVersion);
  return o?.username && sessionId !== undefined && version !== undefined ? { sessionId, version } : undefined;
}

/** 1*DIGIT as a number; undefined for anything else. */
function digits(value: unknown): number | undefined {
  // A safe integer >= 0 (what sipmock's own origins hold) is written as its digits: itself.
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0))
    return value;
  const text = String(value ?? "");
  if (text === "") return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(text);
}

export function answerOffer(
  offerText: string,
  address: string,
  mediaPort: number,
  codecs: readonly CodecSpec[] = DEFAULT_CODECS,
  options: AnswerOptions = {},
): SdpAnswerResult {
  let offer: sdpTransform.SessionDescription;
  try {
    offer = parseSdp(offerText);
  } catch {
    return { warning: { code: 305, text: "Incompatible media format: unparsable SDP offer" } };
  }
  if (!offer.media || offer.media.length === 0) {
    return { warning: { code: 304, text: "Media type not available: the offer has no m= line" } };
  }
  const conn = stripBrackets(address);
  const ctx: AnswerContext = {
    offer,
    conn,
    mediaPort,
    codecs,
    single: options.singleStream === true,
    // Drawn only when a line is answered as WebRTC (answerWebRtc), not for every plain SDP answer.
    ice: options.webrtc,
    fingerprint: options.webrtc?.fingerprint ?? options.fingerprint,
    bundleMids: bundleMidsOf(offer),
    accepted: 0,
    bundlePort: undefined,
    acceptedMids: [],
    webrtcAnswer: false,
  };
  const media = offer.media.map((m, index) => answerStream(ctx, m, index));
  if (ctx.accepted === 0) {
    return { warning: { code: 305, text: "Incompatible media format: no offered codec is accepted" } };
  }
  const desc = session(conn, address.includes(":"), media, options.origin);
  if (ctx.webrtcAnswer) {
    // RFC 8445 2.5: a server with a public address may be ICE lite.
    desc.icelite = "ice-lite";
    const bundle = offer.groups?.find((g) => g.type === "BUNDLE");
    if (bundle && ctx.acceptedMids.length > 0) {
      desc.groups = [{ type: "BUNDLE", mids: ctx.acceptedMids.join(" ") }];
    }
  }
  return { sdp: writeSdp(desc), origin: originOfDesc(desc) };
}

/** The mids of the offer's BUNDLE group (RFC 9143); none without one (no Set made per plain offer). */
function bundleMidsOf(offer: sdpTransform.SessionDescription): ReadonlySet<string> {
  const mids = offer.groups?.find((g) => g.type === "BUNDLE")?.mids;
  // sdp-transform gives a lone mid as a number: String() it.
  return mids === undefined ? NO_MIDS : new Set(String(mids).split(" ").filter(Boolean));
}

const NO_MIDS: ReadonlySet<string> = new Set();

/** What answering one offer needs across its m= lines, and what the lines answered so far decided. */
interface AnswerContext {
  readonly offer: sdpTransform.SessionDescription;
  readonly conn: string;
  readonly mediaPort: number;
  readonly codecs: readonly CodecSpec[];
  readonly single: boolean;
  /** ICE credentials and DTLS fingerprint: the dialog's, else drawn at the first WebRTC line. */
  ice?: { readonly ufrag: string; readonly pwd: string };
  fingerprint?: string;
  readonly bundleMids: ReadonlySet<string>;
  accepted: number;
  /** The port of the first accepted bundled line (RFC 9143: bundled lines share it). */
  bundlePort: number | undefined;
  readonly acceptedMids: string[];
  webrtcAnswer: boolean;
}

/** The answer to one offered m= line (RFC 3264 6): a codec and a port, or port 0. */
function answerStream(
  ctx: AnswerContext,
  m: sdpTransform.MediaDescription,
  index: number,
): sdpTransform.MediaDescription {
  const { offer } = ctx;
  // A WebRTC offer (DTLS-SRTP, RFC 5763; ICE, RFC 8839): answered with a
  // fingerprint, ICE credentials and one host candidate, so a browser
  // accepts the answer. No media flows (sipmock sends no RTP).
  const savpf = /SAVPF/i.test(m.protocol);
  const webrtc =
    savpf &&
    (m.fingerprint ?? offer.fingerprint) !== undefined &&
    (m.iceUfrag ?? offer.iceUfrag) !== undefined;
  // RFC 3264 6: a stream offered with port 0 is answered with port 0; RTP
  // profiles with keys we cannot provide (SAVP with SDES, RFC 4568) are
  // refused the same way rather than answered without them.
  const usable = m.port !== 0 && (webrtc || !/SAVP/i.test(m.protocol));
  const chosen =
    m.type === "audio" && usable && !(ctx.single && ctx.accepted > 0)
      ? chooseCodec(m, ctx.codecs)
      : undefined;
  // Bundled m= sections share one transport (RFC 9143): the first accepted one's port.
  const bundled = savpf && m.mid !== undefined && ctx.bundleMids.has(String(m.mid));
  if (chosen && bundled && ctx.bundlePort === undefined) ctx.bundlePort = ctx.mediaPort + 2 * index;
  const port = chosen
    ? bundled
      ? ctx.bundlePort!
      : ctx.single
        ? ctx.mediaPort
        : ctx.mediaPort + 2 * index
    : 0;
  if (chosen) ctx.accepted++;
  const dtmf = chosen?.dtmf;
  const dir = m.direction ?? offer.direction ?? "sendrecv";
  const answer: sdpTransform.MediaDescription = {
    type: m.type,
    port,
    protocol: m.protocol,
    payloads: chosen
      ? dtmf
        ? `${chosen.rtp.payload} ${dtmf.payload}`
        : String(chosen.rtp.payload)
      : (String(m.payloads ?? "0").split(" ")[0] ?? "0"),
    rtp: chosen ? (dtmf ? [rtpEntry(chosen.rtp), rtpEntry(dtmf)] : [rtpEntry(chosen.rtp)]) : [],
    fmtp: dtmf ? (m.fmtp ?? []).filter((f) => f.payload === dtmf.payload) : [],
  };
  if (chosen) answer.direction = (OPPOSITE[dir] ?? "sendrecv") as sdpTransform.MediaAttributes["direction"];
  if (chosen) answer.ptime = clampPtime(m.ptime);
  if (m.mid !== undefined) answer.mid = m.mid;
  if (chosen && webrtc) answerWebRtc(ctx, m, answer, port);
  return answer;
}

/** An rtpmap entry of the answer: the chosen one's fields (encoding only when set). */
function rtpEntry(r: RtpMap): RtpMap {
  return r.encoding
    ? { payload: r.payload, codec: r.codec, rate: r.rate, encoding: r.encoding }
    : { payload: r.payload, codec: r.codec, rate: r.rate };
}

/** The WebRTC attributes of an accepted line: ICE lite credentials, DTLS role, one host candidate. */
function answerWebRtc(
  ctx: AnswerContext,
  m: sdpTransform.MediaDescription,
  answer: sdpTransform.MediaDescription,
  port: number,
): void {
  ctx.webrtcAnswer = true;
  if (m.mid !== undefined) ctx.acceptedMids.push(String(m.mid));
  ctx.ice ??= { ufrag: randomToken(8), pwd: randomToken(24) };
  ctx.fingerprint ??= randomFingerprint();
  answer.iceUfrag = ctx.ice.ufrag;
  answer.icePwd = ctx.ice.pwd;
  answer.fingerprint = { type: "sha-256", hash: ctx.fingerprint };
  // RFC 5763 5 / RFC 8842: the answerer to "actpass" picks a role (passive:
  // the browser connects); to "passive" it must be active, and vice versa.
  const offered = m.setup ?? ctx.offer.setup;
  answer.setup = offered === "passive" ? "active" : "passive";
  if (m.rtcpMux) answer.rtcpMux = "rtcp-mux";
  answer.candidates = [
    {
      foundation: "1",
      component: 1,
      transport: "udp",
      priority: 2130706431,
      ip: ctx.conn,
      port,
      type: "host",
    },
  ];
  answer.endOfCandidates = "end-of-candidates";
}

/**
 * The packetization time (RFC 4566 a=ptime, ms) the media uses: 10..120 ms
 * (what G.711 peers send); absent, not a number or outside: 20 ms.
 */
export function clampPtime(ptime: unknown): number {
  const v = Number(ptime);
  return Number.isFinite(v) && v >= 10 && v <= 120 ? Math.round(v) : 20;
}

function randomToken(n: number): string {
  return randomBytes(n).toString("base64url").slice(0, n);
}

function randomFingerprint(): string {
  return [...randomBytes(32)].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/** ICE credentials and DTLS fingerprint of our WebRTC descriptions, kept for a dialog. */
export interface WebRtcIdentity {
  readonly ufrag: string;
  readonly pwd: string;
  readonly fingerprint: string;
}

export function newWebRtcIdentity(): WebRtcIdentity {
  return { ufrag: randomToken(8), pwd: randomToken(24), fingerprint: randomFingerprint() };
}

/** An offer for a 2xx when the INVITE had no body (RFC 3261 13.2.1, RFC 3264 5). */
export function createOffer(
  address: string,
  mediaPort: number,
  codecs: readonly CodecSpec[] = DEFAULT_CODECS,
  options: {
    readonly origin?: SdpOrigin;
    readonly direction?: string;
    /** A WebRTC offer (for WebSocket peers, which are browsers): DTLS-SRTP, ICE lite, one host candidate. */
    readonly webrtc?: boolean | WebRtcIdentity;
  } = {},
): string {
  const ip6 = address.includes(":");
  const conn = stripBrackets(address);
  const rtp = codecs.map((c, i) => ({
    payload: c.staticPt ?? 96 + i,
    codec: c.name,
    rate: c.rate,
    ...(c.channels ? { encoding: c.channels } : {}),
  }));
  rtp.push({ payload: 101, codec: "telephone-event", rate: 8000 });
  const audio: sdpTransform.MediaDescription = {
    type: "audio",
    port: mediaPort,
    protocol: options.webrtc ? "UDP/TLS/RTP/SAVPF" : "RTP/AVP",
    payloads: rtp.map((r) => r.payload).join(" "),
    rtp,
    fmtp: [{ payload: 101, config: "0-16" }],
    direction: (options.direction ?? "sendrecv") as "sendrecv",
    ptime: 20,
  };
  if (options.webrtc) {
    // What browsers expect of an offer (RFC 8829): ICE credentials, a
    // fingerprint with setup:actpass (RFC 5763 5: the offerer's role),
    // rtcp-mux, a mid in a BUNDLE group (RFC 9143), one host candidate.
    // sipmock is ICE lite (RFC 8445 2.5) and sends no media.
    const identity = options.webrtc === true ? newWebRtcIdentity() : options.webrtc;
    audio.mid = "0";
    audio.iceUfrag = identity.ufrag;
    audio.icePwd = identity.pwd;
    audio.fingerprint = { type: "sha-256", hash: identity.fingerprint };
    audio.setup = "actpass";
    audio.rtcpMux = "rtcp-mux";
    audio.candidates = [
      {
        foundation: "1",
        component: 1,
        transport: "udp",
        priority: 2130706431,
        ip: conn,
        port: mediaPort,
        type: "host",
      },
    ];
    audio.endOfCandidates = "end-of-candidates";
  }
  const offer = session(conn, ip6, [audio], options.origin);
  if (options.webrtc) {
    offer.icelite = "ice-lite";
    offer.groups = [{ type: "BUNDLE", mids: "0" }];
  }
  return writeSdp(offer);
}

/** The session-level lines sipmock writes in every offer and answer (RFC 4566 5). */
function session(
  conn: string,
  ip6: boolean,
  media: sdpTransform.SessionDescription["media"],
  origin?: SdpOrigin,
): sdpTransform.SessionDescription {
  return {
    version: 0,
    origin: {
      username: "sipmock",
      sessionId: origin?.sessionId ?? sessionCounter++,
      sessionVersion: origin?.version ?? 1,
      netType: "IN",
      ipVer: ip6 ? 6 : 4,
      address: conn,
    },
    name: "sipmock",
    connection: { version: ip6 ? 6 : 4, ip: conn },
    timing: { start: 0, stop: 0 },
    media,
  };
}

interface RtpMap {
  payload: number;
  codec: string;
  rate?: number;
  encoding?: number;
}

/**
 * The offered format we answer with (RFC 3264 6.1: the answerer SHOULD use
 * the offerer's payload type numbers, and the offer lists formats in order
 * of preference) and the offered telephone-event/8000 (RFC 4733), in one
 * walk over the m= line's payload types, without building lists or maps.
 */
function chooseCodec(
  m: sdpTransform.MediaDescription,
  codecs: readonly CodecSpec[],
): { rtp: RtpMap; dtmf?: RtpMap } | undefined {
  const payloads = String(m.payloads ?? "");
  let rtp: RtpMap | undefined;
  let dtmf: RtpMap | undefined;
  for (let at = 0; at < payloads.length && (rtp === undefined || dtmf === undefined); ) {
    let end = payloads.indexOf(" ", at);
    if (end < 0) end = payloads.length;
    const pt = end > at ? Number(payloads.slice(at, end)) : Number.NaN;
    at = end + 1;
    const d = Number.isNaN(pt) ? undefined : describe(m, pt);
    if (!d) continue;
    const codec = d.codec.toLowerCase();
    if (dtmf === undefined && codec === "telephone-event" && (d.rate ?? 8000) === 8000) dtmf = d;
    if (rtp === undefined && supports(codecs, codec, d.rate)) rtp = d;
  }
  if (rtp === undefined) return undefined;
  return dtmf ? { rtp, dtmf } : { rtp };
}

/** The offered rtpmap of a payload type (the last one given wins), else the static type's. */
function describe(m: sdpTransform.MediaDescription, pt: number): RtpMap | undefined {
  const maps = m.rtp;
  if (maps) for (let i = maps.length - 1; i >= 0; i--) if (maps[i]!.payload === pt) return maps[i];
  const st = STATIC_NAMES[pt];
  return st ? { payload: pt, codec: st.name, rate: st.rate } : undefined;
}

/** Whether a codec of ours has this (lower-case) name and rate (an absent rate matches any). */
function supports(codecs: readonly CodecSpec[], name: string, rate: number | undefined): boolean {
  for (const c of codecs) if (c.name.toLowerCase() === name && c.rate === (rate ?? c.rate)) return true;
  return false;
}
