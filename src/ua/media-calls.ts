/**
 * Media per call: the UA's side of the media layer. The UAS allocates an
 * RTP/RTCP pair before it writes the SDP (so the SDP names the real port),
 * and starts the session with what the offer/answer decided (RFC 3264):
 * the peer's address and port, the codec of the answer, telephone-event.
 * Digits received (RFC 4733 or SIP INFO application/dtmf-relay) are kept per
 * Call-ID for the scenario, the journal and verify.
 */
import type {
  DtmfDigit,
  MediaAction,
  MediaCodec,
  MediaEndpoint,
  MediaEngine,
  MediaPlan,
  MediaSession,
  MediaStats,
  NegotiatedMedia,
} from "../media/index.js";
import { BoundedMap } from "../sip/bounded-map.js";
import { stripBrackets } from "../transport/address.js";
import { type MediaFields, readAudioFields } from "./media-sdp.js";
import type { MediaActionPlan, MediaDirective } from "./ports.js";
import { type CodecSpec, clampPtime } from "./sdp.js";

export interface MediaCallEvents {
  /** A digit arrived (RTP or INFO). */
  digit?(callId: string, digit: DtmfDigit): void;
  /** A call's media ended: its statistics, and what its last negotiation decided. */
  closed?(callId: string, stats: MediaStats, info: MediaCallInfo): void;
  error?(err: Error): void;
  /** An answered call received no RTP/RTCP for `inactivityMs`. */
  inactive?(callId: string, ms: number): void;
}

/** A call's RTP endpoints and codec, for the journal's media entry. */
export interface MediaCallInfo {
  /** The mock's RTP socket. */
  readonly local: MediaEndpoint;
  /** The peer's RTP address: latched by symmetric RTP, else from its SDP; absent when never negotiated. */
  readonly remote?: MediaEndpoint;
  readonly codec?: MediaCodec;
  readonly payloadType?: number;
}

interface CallMedia {
  session?: MediaSession;
  allocating?: Promise<void>;
  directive?: MediaDirective;
  negotiated?: NegotiatedMedia;
  answered?: boolean;
  /** Our offer (in a 2xx to an INVITE without one), until the ACK's answer. */
  offer?: string;
}

/** Calls whose digits are kept after the call ended (for verify), oldest forgotten first. */
const MAX_CALLS_KEPT = 10_000;
const MAX_DIGITS_PER_CALL = 256;
/** Calls with an RTP session at once (two sockets each); more get 503. */
const MAX_SESSIONS = 10_000;

const STATIC: Record<number, MediaCodec> = { 0: "PCMU", 8: "PCMA" };

export class MediaCalls {
  private readonly calls = new Map<string, CallMedia>();
  private readonly digitsOf = new BoundedMap<string, DtmfDigit[]>(MAX_CALLS_KEPT);
  private readonly statsOf = new BoundedMap<string, MediaStats>(MAX_CALLS_KEPT);

  constructor(
    /** Undefined: media off (signalling only, --media-port). */
    readonly engine: MediaEngine | undefined,
    private readonly symmetric: boolean,
    private readonly events: MediaCallEvents = {},
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.engine !== undefined;
  }

  /** The codecs the SDP may name: only those the engine encodes. */
  codecs(): CodecSpec[] {
    return (this.engine?.codecs ?? []).map((c) => ({ name: c, rate: 8000, staticPt: c === "PCMU" ? 0 : 8 }));
  }

  /** An answered call with nothing received for this long ends (0: never). */
  inactivityMs = 0;

  /** Calls holding (or allocating) RTP sockets now. */
  private sessions = 0;

  /** The local RTP port of the call, when allocated. */
  portOf(callId: string): number | undefined {
    return this.calls.get(callId)?.session?.local.port;
  }

  /** Allocates the call's RTP/RTCP pair on the address the SDP advertises (once per call). */
  prepare(callId: string, address: string): Promise<void> {
    const engine = this.engine;
    if (!engine) return Promise.resolve();
    let call = this.calls.get(callId);
    if (call?.session) return Promise.resolve();
    if (call?.allocating) return call.allocating;
    if (this.sessions >= MAX_SESSIONS)
      return Promise.reject(new Error(`${MAX_SESSIONS} calls have media already`));
    call = call ?? {};
    this.calls.set(callId, call);
    const c = call;
    this.sessions++;
    c.allocating = engine.allocate(stripBrackets(address)).then((session) => {
      c.allocating = undefined;
      if (this.calls.get(callId) !== c) {
        void session.close();
        return;
      }
      c.session = session;
      session.onDigit((d) => this.noteDigit(callId, d));
    });
    return c.allocating;
  }

  /** The scenario's media for the call (from the rule that answered its INVITE). */
  direct(callId: string, directive: MediaDirective | undefined): void {
    if (!this.engine || !directive) return;
    let call = this.calls.get(callId);
    if (!call) {
      call = {};
      this.calls.set(callId, call);
    }
    call.directive = directive;
    if (call.session && call.negotiated) call.session.setPlan(this.plan(callId, call));
  }

  /**
   * An SDP exchange completed: start (or re-start) the call's media.
   * `answered`: a 2xx went out or came in; otherwise early media (183).
   */
  negotiated(callId: string, local: string, remote: string, weAnswered: boolean, answered: boolean): void {
    const call = this.calls.get(callId);
    if (!call?.session) return;
    const n = negotiate(local, remote, weAnswered);
    if (!n) return;
    call.negotiated = n;
    call.answered = call.answered || answered;
    call.session.start(n, this.plan(callId, call));
    const ms = this.inactivityMs;
    if (call.answered) call.session.watchInactivity(ms, () => this.events.inactive?.(callId, ms));
  }

  /** We offered (RFC 3261 13.2.1: in the 2xx); the answer comes in the ACK. */
  offered(callId: string, local: string): void {
    const call = this.calls.get(callId);
    if (call) call.offer = local;
  }

  remoteAnswer(callId: string, remote: string): void {
    const offer = this.calls.get(callId)?.offer;
    if (offer) this.negotiated(callId, offer, remote, false, true);
  }

  /** A SIP INFO application/dtmf-relay digit (RFC 2976 INFO, the de-facto relay body). */
  noteInfoDigit(callId: string, digit: string, durationMs: number): void {
    this.noteDigit(callId, { digit, durationMs, volume: 0, via: "info", at: this.now() });
  }

  private noteDigit(callId: string, d: DtmfDigit): void {
    let list = this.digitsOf.get(callId);
    if (!list) {
      list = [];
      this.digitsOf.set(callId, list);
    }
    if (list.length >= MAX_DIGITS_PER_CALL) list.shift();
    list.push({ ...d, at: this.now() });
    this.events.digit?.(callId, d);
  }

  /** The digits received so far in the call, as a string ("1234#"). */
  digits(callId: string): string {
    const list = this.digitsOf.get(callId);
    if (!list) return "";
    let out = "";
    for (const d of list) out += d.digit;
    return out;
  }

  digitList(callId: string): readonly DtmfDigit[] {
    return this.digitsOf.get(callId) ?? [];
  }

  /** Statistics of a call: live, or the last ones of an ended call. */
  stats(callId: string): MediaStats | undefined {
    return this.calls.get(callId)?.session?.stats() ?? this.statsOf.get(callId);
  }

  /** Every call with media or digits: live ones first. */
  callIds(): string[] {
    return [...new Set([...this.calls.keys(), ...this.statsOf.keys(), ...this.digitsOf.keys()])];
  }

  /** RFC 4733 digits in the call's RTP. */
  async sendDtmf(callId: string, digits: string): Promise<void> {
    const call = this.calls.get(callId);
    if (!call?.session || !call.negotiated) throw new Error(`no media session in call ${callId}`);
    await call.session.sendDtmf(digits);
  }

  /** The call ended (BYE, a final non-2xx answer, shutdown). */
  close(callId: string): void {
    const call = this.calls.get(callId);
    if (!call) return;
    this.calls.delete(callId);
    if (call.session || call.allocating) this.sessions--;
    const session = call.session;
    if (!session) return;
    // A digit cut short by the hangup is journaled before the call's statistics.
    session.flushDigits();
    const stats = session.stats();
    this.statsOf.set(callId, stats);
    const n = call.negotiated;
    const remote = stats.latched ?? n?.remote;
    // Built field by field, in this order (no spread of conditional objects).
    const info: { -readonly [K in keyof MediaCallInfo]: MediaCallInfo[K] } = { local: session.local };
    if (remote) info.remote = remote;
    if (n) {
      info.codec = n.codec;
      info.payloadType = n.payloadType;
    }
    this.events.closed?.(callId, stats, info);
    session.close().catch((e: Error) => this.events.error?.(e));
  }

  async closeAll(): Promise<void> {
    const ids = [...this.calls.keys()];
    const sessions = ids.map((id) => this.calls.get(id)?.session);
    for (const id of ids) this.close(id);
    await Promise.allSettled(sessions.map((s) => s?.close()));
  }

  clear(): void {
    this.digitsOf.clear();
    this.statsOf.clear();
  }

  private plan(callId: string, call: CallMedia): MediaPlan {
    const d = call.directive ?? {};
    const chosen = call.answered ? d.answered : (d.early ?? d.answered);
    const record = d.record?.replaceAll("{callId}", callId.replace(/[^A-Za-z0-9._-]/g, "_"));
    const faults = d.faults;
    const plan: { -readonly [K in keyof MediaPlan]: MediaPlan[K] } = {
      action: toAction(chosen ?? { kind: "silence" }),
    };
    if (record) plan.record = record;
    if (faults) plan.faults = faults;
    plan.symmetric = this.symmetric;
    return plan;
  }
}

function toAction(a: MediaActionPlan): MediaAction {
  return a.kind === "play" ? { kind: "play", file: a.file, loop: a.loop } : a;
}

/**
 * RFC 3264 6.1: the codec is the first one of the answer that the mock can
 * encode (the answerer's choice); the peer's address and port come from its
 * own description (c= of the m= line, else of the session).
 */
export function negotiate(local: string, remote: string, weAnswered: boolean): NegotiatedMedia | undefined {
  // Only the fields read below, as sdp-transform reads them (media-sdp.ts).
  const l = readAudioFields(local);
  const r = readAudioFields(remote);
  const rm = r.media?.find((m) => m.type === "audio" && m.port !== 0);
  const lm = l.media?.find((m) => m.type === "audio" && m.port !== 0);
  if (!rm || !lm) return undefined;
  const answer = weAnswered ? lm : rm;
  const ip = rm.connection?.ip ?? r.connection?.ip;
  if (!ip) return undefined;
  const pt = firstG711(answer);
  if (pt < 0) return undefined;
  let te: number | undefined;
  for (const x of answer.rtp) {
    if (x.codec.toLowerCase() === "telephone-event" && (x.rate ?? 8000) === 8000) {
      te = x.payload;
      break;
    }
  }
  const rtcp = rm.rtcp;
  // RFC 3264 6.1: our own description's direction (recvonly/inactive: the peer holds the call),
  // narrowed by the peer's (an answer of sendonly/inactive to our offer: we must not send).
  const direction = combine(lm.direction ?? l.direction, rm.direction ?? r.direction);
  // Built field by field, in this order (no spread of conditional objects).
  const n: { -readonly [K in keyof NegotiatedMedia]: NegotiatedMedia[K] } = {
    remote: { address: ip, port: rm.port },
  } as NegotiatedMedia;
  if (rtcp?.port) n.remoteRtcp = { address: rtcp.address ?? ip, port: rtcp.port };
  n.codec = g711Of(answer, pt)!;
  n.payloadType = pt;
  if (te !== undefined) n.telephoneEventPt = te;
  n.ptimeMs = clampPtime(rm.ptime ?? lm.ptime);
  n.direction = direction;
  return n;
}

/** The first payload type of the m= line (the answerer's order, RFC 3264 6.1) that the mock encodes; -1: none. */
function firstG711(m: MediaFields): number {
  const list = String(m.payloads ?? "");
  for (let i = 0; i < list.length; ) {
    let j = list.indexOf(" ", i);
    if (j < 0) j = list.length;
    if (j > i) {
      const pt = Number(list.slice(i, j));
      if (g711Of(m, pt)) return pt;
    }
    i = j + 1;
  }
  return -1;
}

/** PCMU or PCMA when the payload type names one (its first rtpmap, else its static assignment). */
function g711Of(m: MediaFields, pt: number): MediaCodec | undefined {
  let name: string | undefined;
  for (const x of m.rtp) {
    if (x.payload === pt) {
      name = x.codec;
      break;
    }
  }
  const n = (name ?? STATIC[pt])?.toUpperCase();
  return n === "PCMU" || n === "PCMA" ? n : undefined;
}

type Direction = NonNullable<NegotiatedMedia["direction"]>;

/** We send if we may send and the peer receives; we receive if we receive and the peer sends. */
function combine(ours: string | undefined, theirs: string | undefined): Direction {
  const o = ours ?? "sendrecv";
  const t = theirs ?? "sendrecv";
  const send = (o === "sendrecv" || o === "sendonly") && (t === "sendrecv" || t === "recvonly");
  const recv = (o === "sendrecv" || o === "recvonly") && (t === "sendrecv" || t === "sendonly");
  return send ? (recv ? "sendrecv" : "sendonly") : recv ? "recvonly" : "inactive";
}
