/**
 * The media negotiation reads a description's fields itself (src/ua/media-sdp.ts)
 * instead of sdp-transform's whole parse: on generated descriptions (odd lines,
 * repeated lines, session- and media-level attributes, every line ending) it
 * reads what sdp-transform reads, and negotiate() decides what it decided with
 * sdp-transform's parse (the reference below is that implementation).
 */
import fc from "fast-check";
import * as sdpTransform from "sdp-transform";
import { describe, expect, it } from "vitest";
import type { MediaCodec, NegotiatedMedia } from "../../src/media/index.js";
import { negotiate } from "../../src/ua/media-calls.js";
import { readAudioFields } from "../../src/ua/media-sdp.js";
import { answerOffer, clampPtime, createOffer } from "../../src/ua/sdp.js";

const STATIC: Record<number, MediaCodec> = { 0: "PCMU", 8: "PCMA" };

/** negotiate() as it was, on sdp-transform's parse. */
function reference(local: string, remote: string, weAnswered: boolean): NegotiatedMedia | undefined {
  const l = sdpTransform.parse(local);
  const r = sdpTransform.parse(remote);
  const rm = r.media?.find((m) => m.type === "audio" && m.port !== 0);
  const lm = l.media?.find((m) => m.type === "audio" && m.port !== 0);
  if (!rm || !lm) return undefined;
  const answer = weAnswered ? lm : rm;
  const ip = rm.connection?.ip ?? r.connection?.ip;
  if (!ip) return undefined;
  const pts = String(answer.payloads ?? "")
    .split(" ")
    .filter(Boolean)
    .map(Number);
  const name = (pt: number) => answer.rtp.find((x) => x.payload === pt)?.codec ?? STATIC[pt];
  const pt = pts.find((p) => {
    const n = name(p)?.toUpperCase();
    return n === "PCMU" || n === "PCMA";
  });
  if (pt === undefined) return undefined;
  const te = answer.rtp.find((x) => x.codec.toLowerCase() === "telephone-event" && (x.rate ?? 8000) === 8000);
  const rtcp = rm.rtcp;
  const direction = combine(lm.direction ?? l.direction, rm.direction ?? r.direction);
  return {
    remote: { address: ip, port: rm.port },
    ...(rtcp?.port ? { remoteRtcp: { address: rtcp.address ?? ip, port: rtcp.port } } : {}),
    codec: name(pt)!.toUpperCase() as MediaCodec,
    payloadType: pt,
    ...(te ? { telephoneEventPt: te.payload } : {}),
    ptimeMs: clampPtime(rm.ptime ?? lm.ptime),
    direction,
  };
}

type Direction = NonNullable<NegotiatedMedia["direction"]>;

/**
 * What the call does, by our direction attribute and the peer's (absent:
 * sendrecv, RFC 3264 5.1): we send when we may send and the peer receives,
 * and receive when we may receive and the peer sends (RFC 3264 6.1's
 * offer/answer pairs, written out as a table).
 */
const DIRECTIONS: Record<string, Record<string, Direction>> = {
  sendrecv: { sendrecv: "sendrecv", sendonly: "recvonly", recvonly: "sendonly", inactive: "inactive" },
  sendonly: { sendrecv: "sendonly", sendonly: "inactive", recvonly: "sendonly", inactive: "inactive" },
  recvonly: { sendrecv: "recvonly", sendonly: "recvonly", recvonly: "inactive", inactive: "inactive" },
  inactive: { sendrecv: "inactive", sendonly: "inactive", recvonly: "inactive", inactive: "inactive" },
};

function combine(ours: string | undefined, theirs: string | undefined): Direction {
  return DIRECTIONS[ours ?? "sendrecv"]![theirs ?? "sendrecv"]!;
}

/** sdp-transform's parse, cut down to the fields readAudioFields reads (undefined fields dropped). */
function projected(text: string): unknown {
  const p = sdpTransform.parse(text);
  const conn = (c: { ip: string } | undefined) => (c ? { ip: c.ip } : undefined);
  return plain({
    connection: conn(p.connection),
    direction: p.direction,
    media: p.media.map((m) => ({
      type: m.type,
      port: m.port,
      payloads: m.payloads,
      rtp: m.rtp.map((r) => ({ payload: r.payload, codec: r.codec, rate: r.rate })),
      connection: conn(m.connection),
      rtcp: m.rtcp ? { port: m.rtcp.port, address: m.rtcp.address } : undefined,
      ptime: m.ptime,
      direction: m.direction,
    })),
  });
}

/** Undefined fields dropped; NaN and Infinity kept apart from null. */
function plain(v: unknown): unknown {
  if (v === undefined) return undefined;
  return JSON.parse(
    JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? `#${x}` : x)),
  );
}

/** The result as JSON text (fields in order, as the journal writes them), or what it threw. */
function outcome(f: () => unknown): unknown {
  try {
    return { value: JSON.stringify(plain(f())) };
  } catch (e) {
    return { threw: (e as Error).constructor.name };
  }
}

const LINES = [
  "v=0",
  "o=- 1 1 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "c=IN IP4 127.0.0.1",
  "c=IN IP4 192.0.2.7",
  "c=IN IP6 ::1",
  "c=IN IP4 ",
  "c=IN IP4 1234",
  "c=IN IPx 10.0.0.1",
  "c=IN IP4 0.0.0.0",
  "m=audio 6000 RTP/AVP 0 8 101",
  "m=audio 6002 RTP/AVP 8",
  "m=audio 6004 RTP/AVP 0",
  "m=audio 0 RTP/AVP 0",
  "m=audio 4000/2 RTP/AVP 0",
  "m=audio  RTP/AVP 0",
  "m=audio 6000 RTP/AVP",
  "m=audio 6000 RTP/AVP 96 0",
  "m=audio",
  "m=video 5000 RTP/AVP 96",
  "m=audio 7000 UDP/TLS/RTP/SAVPF 111 0",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:8 pcma/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=rtpmap:101 telephone-event/16000",
  "a=rtpmap:101 Telephone-Event",
  "a=rtpmap:96 opus/48000/2",
  "a=rtpmap:0 PCMU/",
  "a=rtpmap:0 PCMU",
  "a=rtpmap:96 PCMU/8000",
  "a=rtpmap: x",
  "a=rtpmap:x PCMU/8000",
  "a=rtpmapX",
  "a=rtcp:6001",
  "a=rtcp:6001 IN IP4 10.0.0.1",
  "a=rtcp:6003 IN IP6 ::2",
  "a=rtcp:",
  "a=rtcp:0",
  "a=rtcp:x",
  "a=rtcp-mux",
  "a=rtcp-fb:0 nack",
  "a=ptime:20",
  "a=ptime:30",
  "a=ptime:20.5",
  "a=ptime:",
  "a=ptime:1.2.3",
  "a=ptimex",
  "a=maxptime:40",
  "a=sendrecv",
  "a=recvonly",
  "a=sendonly",
  "a=inactive",
  "a=sendrecvx",
  "a=inactive2",
  "a=fmtp:101 0-15",
  "a=mid:0",
  "a=setup:actpass",
  "b=AS:64",
  "A=sendrecv",
  "a=",
  "x",
  "",
];

const line = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...LINES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => `a=${s}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const description = fc
  .tuple(fc.array(line, { maxLength: 14 }), fc.constantFrom("\r\n", "\n", "\r"), fc.boolean())
  .map(([lines, eol, audioFirst]) =>
    [...(audioFirst ? ["c=IN IP4 127.0.0.1", "m=audio 6000 RTP/AVP 0 101"] : []), ...lines].join(eol),
  );

describe("the fields the media negotiation reads", () => {
  it("read as sdp-transform reads them, on 3000 generated descriptions", () => {
    fc.assert(
      fc.property(description, (text) => {
        expect(plain(readAudioFields(text))).toEqual(projected(text));
      }),
      { numRuns: 3000 },
    );
  });

  it("negotiate decides what it decided with sdp-transform's parse, on 3000 generated offer/answer pairs", () => {
    fc.assert(
      fc.property(description, description, fc.boolean(), (local, remote, weAnswered) => {
        expect(outcome(() => negotiate(local, remote, weAnswered))).toEqual(
          outcome(() => reference(local, remote, weAnswered)),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it("and on the descriptions the mock writes", () => {
    const codecs = [
      { name: "PCMU", rate: 8000, staticPt: 0 },
      { name: "PCMA", rate: 8000, staticPt: 8 },
    ];
    const offer = [
      "v=0",
      "o=- 1 1 IN IP4 192.0.2.10",
      "s=-",
      "c=IN IP4 192.0.2.10",
      "t=0 0",
      "m=audio 49170 RTP/AVP 8 0 101",
      "a=rtpmap:8 PCMA/8000",
      "a=rtpmap:0 PCMU/8000",
      "a=rtpmap:101 telephone-event/8000",
      "a=rtcp:49171 IN IP4 192.0.2.11",
      "a=ptime:30",
      "a=sendonly",
      "",
    ].join("\r\n");
    const answer = answerOffer(offer, "127.0.0.1", 40000, codecs, { singleStream: true }).sdp!;
    const ours = createOffer("127.0.0.1", 40002, codecs);
    for (const [l, r, we] of [
      [answer, offer, true],
      [ours, offer, false],
      [offer, answer, false],
    ] as const) {
      expect(JSON.stringify(negotiate(l, r, we))).toBe(JSON.stringify(reference(l, r, we)));
      expect(plain(readAudioFields(l))).toEqual(projected(l));
    }
    expect(negotiate(answer, offer, true)).toMatchObject({
      codec: "PCMA",
      ptimeMs: 30,
      direction: "recvonly",
    });
  });
});

describe("numbers as sdp-transform converts them", () => {
  it("a codec or address that reads as a number is one, whatever its form", () => {
    const texts = [
      "0",
      "00",
      "7",
      "07",
      "123456789012345",
      "1234567890123456",
      "12345678901234567890",
      "-1",
      "-0",
    ];
    const more = ["1.5", "1e3", "1e+21", "NaN", "Infinity", "-Infinity", "Inf", "N", "", "PCMU", "9x"];
    for (const t of [...texts, ...more]) {
      const text = `m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 ${t}/8000\r\nc=IN IP4 ${t}\r\n`;
      expect(plain(readAudioFields(text)), t).toEqual(projected(text));
    }
  });
});
