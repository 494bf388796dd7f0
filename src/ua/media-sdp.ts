/**
 * The fields of a session description that the media negotiation reads
 * (media-calls.ts negotiate): per m= line its type, port, payloads, rtpmap
 * entries, c=, a=rtcp, a=ptime and direction; the session's c= and
 * direction. Read exactly as sdp-transform's parse reads them (same
 * regular expressions, same number conversion, a later line overwriting an
 * earlier one), without building the rest of the description: the mock's
 * own answer is new text in every call, so sdp-transform's whole parse (and
 * the memo of parseSdp) cost more than the call's other SDP work.
 * test/unit/media-sdp.test.ts compares the two on generated descriptions.
 */

/**
 * What sdp-transform gives for these fields, typed as its own typings type
 * them (like sdp-transform, a value is a number wherever its text is an integer).
 */
export interface AudioFields {
  connection?: { ip: string };
  direction?: string;
  media: MediaFields[];
}

export interface MediaFields {
  type: string;
  port: number;
  payloads?: string;
  rtp: { payload: number; codec: string; rate?: number }[];
  connection?: { ip: string };
  rtcp?: { port: number; address?: string };
  ptime?: number;
  direction?: string;
}

// sdp-transform's grammar, for the lines read here (lib/grammar.js).
const M_LINE = /^(\w*) (\d*) ([\w/]*)(?: (.*))?/;
const C_LINE = /^IN IP(\d) (\S*)/;
const RTPMAP = /^rtpmap:(\d*) ([\w\-.]*)(?:\s*\/(\d*)(?:\s*\/(\S*))?)?/;
const RTCP = /^rtcp:(\d*)(?: (\S*) IP(\d) (\S*))?/;
const PTIME = /^ptime:(\d*(?:\.\d*)*)/;
const DIRECTION = /^(sendrecv|recvonly|sendonly|inactive)/;

/**
 * sdp-transform's toIntIfInt, `String(Number(v)) === v ? Number(v) : v`
 * (typed as its typings type the field), without the number-to-text
 * conversion where the first character decides: a canonical integer of up
 * to 15 digits is its number; text that starts with neither a digit, "-",
 * "N" (NaN) nor "I" (Infinity) is never what String() writes for a number.
 */
function num<T = number>(v: string): T {
  const c0 = v.charCodeAt(0);
  if (c0 >= 48 && c0 <= 57) {
    if (v.length <= 15 && (c0 !== 48 || v.length === 1) && allDigits(v)) return Number(v) as T;
  } else if (c0 !== 45 && c0 !== 78 && c0 !== 73) return v as T;
  return (String(Number(v)) === v ? Number(v) : v) as T;
}

function allDigits(v: string): boolean {
  for (let i = 1; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The session and media fields negotiate reads, as sdp-transform's parse would give them. */
export function readAudioFields(text: string): AudioFields {
  const session: AudioFields = { media: [] };
  let at: AudioFields | MediaFields = session;
  const n = text.length;
  // Lines end at CRLF, CR or LF (sdp-transform splits on /(\r\n|\r|\n)/); a line is "x=..." with x in a-z.
  for (let i = 0; i <= n; ) {
    let j = i;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === 10 || c === 13) break;
    }
    if (j - i >= 2 && text.charCodeAt(i + 1) === 61 /* = */) {
      const type = text.charCodeAt(i);
      if (type === 109 /* m */) at = mediaLine(session, text.slice(i + 2, j));
      else if (type === 99 /* c */) connectionLine(at, text.slice(i + 2, j));
      else if (type === 97 /* a */ && READ_ATTRIBUTE[text.charCodeAt(i + 2)] === 1)
        attribute(at, session, text.slice(i + 2, j));
    }
    i = text.charCodeAt(j) === 13 && text.charCodeAt(j + 1) === 10 ? j + 2 : j + 1;
  }
  return session;
}

/** First letters of the attributes read: r(tpmap, tcp, ecvonly), p(time), s(endrecv, endonly), i(nactive). */
const READ_ATTRIBUTE = new Uint8Array(128);
for (const c of "rpsi") READ_ATTRIBUTE[c.charCodeAt(0)] = 1;

function mediaLine(session: AudioFields, content: string): MediaFields {
  const m = { rtp: [] } as unknown as MediaFields; // type and port: when the m= line reads
  session.media.push(m);
  const x = M_LINE.exec(content);
  if (x) {
    m.type = num<string>(x[1]!);
    m.port = num(x[2]!);
    if (x[4] !== undefined) m.payloads = num<string>(x[4]);
  }
  return m;
}

function connectionLine(at: AudioFields | MediaFields, content: string): void {
  const x = C_LINE.exec(content);
  if (!x) return;
  if (at.connection) at.connection.ip = num<string>(x[2]!);
  else at.connection = { ip: num<string>(x[2]!) };
}

function attribute(at: AudioFields | MediaFields, session: AudioFields, content: string): void {
  const c0 = content.charCodeAt(0);
  // r: rtpmap, rtcp, recvonly; p: ptime; s/i: sendrecv, sendonly, inactive. Nothing else is read.
  if (c0 === 114 /* r */) {
    let x = RTPMAP.exec(content);
    if (x) {
      if (at === session) return; // a session-level rtpmap: sdp-transform keeps it where nothing reads it
      const r: MediaFields["rtp"][number] = { payload: num(x[1]!), codec: num<string>(x[2]!) };
      if (x[3] !== undefined) r.rate = num(x[3]);
      (at as MediaFields).rtp.push(r);
      return;
    }
    x = RTCP.exec(content);
    if (x) {
      if (at === session) return;
      const m = at as MediaFields;
      if (m.rtcp) m.rtcp.port = num(x[1]!);
      else m.rtcp = { port: num(x[1]!) };
      if (x[4] !== undefined) m.rtcp.address = num<string>(x[4]);
      return;
    }
  } else if (c0 === 112 /* p */) {
    const x = PTIME.exec(content);
    if (x && at !== session) (at as MediaFields).ptime = num(x[1]!);
    return;
  }
  const d = DIRECTION.exec(content);
  if (d) at.direction = d[1]!;
}
