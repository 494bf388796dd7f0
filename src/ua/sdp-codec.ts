/**
 * sdp-transform, made cheap on the call path (issue 12: parsing and writing
 * SDP was a fifth of an answered call's CPU under SIPp load).
 *
 * - parseSdp: sdp-transform's parse, remembered for recent texts. A load
 *   generator offers the same SDP in every call, and one call parses its
 *   offer twice (the answer, then the media negotiation). Results are
 *   frozen: every caller only reads them.
 * - writeSdp: the descriptions sipmock builds (offers and answers: the
 *   fields below) written directly, line for line what sdp-transform's
 *   generic writer produces (test/unit/sdp-codec.test.ts compares the two);
 *   anything else goes to sdp-transform.
 */
import * as sdpTransform from "sdp-transform";
import { BoundedMap } from "../sip/bounded-map.js";

type Session = sdpTransform.SessionDescription;
type Media = sdpTransform.MediaDescription;

/** Texts remembered at once, and the longest text remembered (octets: the memo stays small). */
const MEMO_ENTRIES = 64;
const MEMO_MAX_TEXT = 8192;
const parsed = new BoundedMap<string, Session>(MEMO_ENTRIES);

/** sdp-transform's parse of `text`, frozen (callers must not change it); throws as sdp-transform does. */
export function parseSdp(text: string): Session {
  const known = parsed.get(text);
  if (known) return known;
  const session = deepFreeze(sdpTransform.parse(text));
  if (text.length <= MEMO_MAX_TEXT) parsed.set(text, session);
  return session;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const SESSION_FIELDS = new Set([
  "version",
  "origin",
  "name",
  "connection",
  "timing",
  "icelite",
  "groups",
  "media",
]);
const MEDIA_FIELDS = new Set([
  "type",
  "port",
  "protocol",
  "payloads",
  "rtp",
  "fmtp",
  "setup",
  "mid",
  "ptime",
  "direction",
  "iceUfrag",
  "icePwd",
  "fingerprint",
  "candidates",
  "endOfCandidates",
  "rtcpMux",
]);
const CANDIDATE_FIELDS = new Set(["foundation", "component", "transport", "priority", "ip", "port", "type"]);

/** Only these fields (sdp-transform's writer reads others we never set). */
function writable(s: Session): boolean {
  if (!onlyFields(s, SESSION_FIELDS) || !Array.isArray(s.media)) return false;
  for (const m of s.media) {
    if (!onlyFields(m, MEDIA_FIELDS)) return false;
    if (m.candidates && !m.candidates.every((c) => onlyFields(c, CANDIDATE_FIELDS))) return false;
  }
  return true;
}

function onlyFields(o: object, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

/**
 * The text sdp-transform's write() gives for `s` (CRLF line ends), without
 * changing `s`. Fields in the order of sdp-transform's grammar; `%d` fields
 * as Number(), `%s` as String(), an absent (null/undefined) field no line.
 */
export function writeSdp(s: Session): string {
  if (!writable(s)) return sdpTransform.write(structuredClone(s));
  const o = s.origin;
  let out = `v=${s.version ?? 0}\r\n`;
  if (o != null) {
    out += `o=${o.username} ${o.sessionId} ${Number(o.sessionVersion)} ${o.netType} IP${Number(o.ipVer)} ${o.address}\r\n`;
  }
  out += `s=${s.name ?? " "}\r\n`;
  if (s.connection != null) out += `c=IN IP${Number(s.connection.version)} ${s.connection.ip}\r\n`;
  if (s.timing != null) out += `t=${Number(s.timing.start)} ${Number(s.timing.stop)}\r\n`;
  if (s.icelite != null) out += `a=${s.icelite}\r\n`;
  if (s.groups != null) for (const g of s.groups) out += `a=group:${g.type} ${g.mids}\r\n`;
  for (const m of s.media) out += mediaLines(m);
  return out;
}

/** One m= section: the m= line, then its a= lines in grammar order (rtpmap ... rtcp-mux). */
function mediaLines(m: Media): string {
  let out = `m=${m.type} ${Number(m.port)} ${m.protocol} ${m.payloads ?? ""}\r\n`;
  if (m.rtp != null) for (const r of m.rtp) out += `a=${rtpmap(r)}\r\n`;
  if (m.fmtp != null) for (const f of m.fmtp) out += `a=fmtp:${Number(f.payload)} ${f.config}\r\n`;
  if (m.setup != null) out += `a=setup:${m.setup}\r\n`;
  if (m.mid != null) out += `a=mid:${m.mid}\r\n`;
  if (m.ptime != null) out += `a=ptime:${Number(m.ptime)}\r\n`;
  if (m.direction != null) out += `a=${m.direction}\r\n`;
  if (m.iceUfrag != null) out += `a=ice-ufrag:${m.iceUfrag}\r\n`;
  if (m.icePwd != null) out += `a=ice-pwd:${m.icePwd}\r\n`;
  if (m.fingerprint != null) out += `a=fingerprint:${m.fingerprint.type} ${m.fingerprint.hash}\r\n`;
  if (m.candidates != null) for (const c of m.candidates) out += `a=${candidate(c)}\r\n`;
  if (m.endOfCandidates != null) out += `a=${m.endOfCandidates}\r\n`;
  if (m.rtcpMux != null) out += `a=${m.rtcpMux}\r\n`;
  return out;
}

/** sdp-transform's rtpmap format: the rate and encoding only when set (truthy). */
function rtpmap(r: Media["rtp"][number]): string {
  if (r.encoding) return `rtpmap:${Number(r.payload)} ${r.codec}/${r.rate}/${r.encoding}`;
  if (r.rate) return `rtpmap:${Number(r.payload)} ${r.codec}/${r.rate}`;
  return `rtpmap:${Number(r.payload)} ${r.codec}`;
}

/** A host candidate (the only fields writable() lets through). */
function candidate(c: NonNullable<Media["candidates"]>[number]): string {
  return `candidate:${c.foundation} ${Number(c.component)} ${c.transport} ${Number(c.priority)} ${c.ip} ${Number(c.port)} typ ${c.type}`;
}
