/**
 * The codec an SDP answer picks (src/ua/sdp.ts answerOffer, RFC 3264 6.1):
 * the first offered payload type, in the offer's order, that names a codec
 * of ours (its rtpmap, the last one given for that number, else the static
 * type's name; names compare case-insensitively, an absent rate matches),
 * plus the first offered telephone-event/8000 (RFC 4733). Generated offers
 * (payload lists with repeats, junk tokens, static types without rtpmap,
 * duplicate rtpmaps, odd spellings) against that rule written out plainly.
 */
import fc from "fast-check";
import * as sdpTransform from "sdp-transform";
import { describe, expect, it } from "vitest";
import { answerOffer, type CodecSpec, DEFAULT_CODECS } from "../../src/ua/sdp.js";

interface Rtp {
  payload: number;
  codec: string;
  rate?: number;
}

const STATIC: Record<number, Rtp> = {
  0: { payload: 0, codec: "PCMU", rate: 8000 },
  8: { payload: 8, codec: "PCMA", rate: 8000 },
  9: { payload: 9, codec: "G722", rate: 8000 },
  18: { payload: 18, codec: "G729", rate: 8000 },
};

/** The rule, spelt out: what the answer's m= line must carry (undefined: nothing acceptable). */
function expected(offer: string, codecs: readonly CodecSpec[]): { rtp: Rtp; dtmf?: Rtp } | undefined {
  const m = sdpTransform.parse(offer).media[0]!;
  const describe = (pt: number): Rtp | undefined => {
    const maps = (m.rtp ?? []).filter((r) => r.payload === pt);
    return maps.length > 0 ? maps[maps.length - 1] : STATIC[pt];
  };
  const pts = String(m.payloads ?? "")
    .split(" ")
    .filter((p) => p !== "")
    .map(Number);
  const described = pts.map(describe).filter((d): d is Rtp => d !== undefined);
  const dtmf = described.find(
    (d) => d.codec.toLowerCase() === "telephone-event" && (d.rate ?? 8000) === 8000,
  );
  const rtp = described.find((d) =>
    codecs.some((c) => c.name.toLowerCase() === d.codec.toLowerCase() && c.rate === (d.rate ?? c.rate)),
  );
  return rtp ? { rtp, ...(dtmf ? { dtmf } : {}) } : undefined;
}

const lines = (...l: string[]) => `${l.join("\r\n")}\r\n`;

const pt = fc.constantFrom(0, 8, 9, 18, 96, 97, 101, 111, 126);
const token = fc.oneof(pt.map(String), fc.constantFrom("x", "1x", "", "101"));
const rtpmap = fc.record({
  payload: pt,
  codec: fc.constantFrom(
    "PCMU",
    "pcmu",
    "PCMA",
    "G722",
    "opus",
    "telephone-event",
    "TELEPHONE-EVENT",
    "H264",
  ),
  rate: fc.option(fc.constantFrom(8000, 16000, 48000), { nil: undefined }),
});
const offers = fc
  .record({
    payloads: fc.array(token, { minLength: 1, maxLength: 6 }),
    rtpmaps: fc.array(rtpmap, { maxLength: 5 }),
  })
  .map(({ payloads, rtpmaps }) =>
    lines(
      "v=0",
      "o=alice 1 1 IN IP4 192.0.2.10",
      "s=-",
      "c=IN IP4 192.0.2.10",
      "t=0 0",
      `m=audio 49170 RTP/AVP ${payloads.join(" ")}`,
      ...rtpmaps.map((r) => `a=rtpmap:${r.payload} ${r.codec}${r.rate === undefined ? "" : `/${r.rate}`}`),
    ),
  );

describe("the codec an SDP answer picks", () => {
  it("is the first offered one we support, with the offered telephone-event/8000", () => {
    const codecSets: (readonly CodecSpec[])[] = [DEFAULT_CODECS, [{ name: "PCMA", rate: 8000, staticPt: 8 }]];
    fc.assert(
      fc.property(offers, fc.constantFrom(...codecSets), (offer, codecs) => {
        const want = expected(offer, codecs);
        const got = answerOffer(offer, "127.0.0.1", 40000, codecs);
        if (!want) {
          expect(got.warning?.code).toBe(305);
          return;
        }
        const m = sdpTransform.parse(got.sdp!).media[0]!;
        const chosen = want.dtmf ? [want.rtp, want.dtmf] : [want.rtp];
        expect(String(m.payloads)).toBe(chosen.map((r) => r.payload).join(" "));
        expect(m.rtp.map((r) => [r.payload, r.codec, r.rate])).toEqual(
          chosen.map((r) => [r.payload, r.codec, r.rate]),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("reads an offer with the codec last and telephone-event first as the RFC says", () => {
    const offer = lines(
      "v=0",
      "o=alice 1 1 IN IP4 192.0.2.10",
      "s=-",
      "c=IN IP4 192.0.2.10",
      "t=0 0",
      "m=audio 49170 RTP/AVP 101 96 8",
      "a=rtpmap:101 telephone-event/8000",
      "a=rtpmap:96 H264/90000",
      "a=rtpmap:8 PCMA/8000",
      "a=fmtp:101 0-16",
    );
    const sdp = answerOffer(offer, "127.0.0.1", 40000).sdp!;
    expect(sdp).toContain("m=audio 40000 RTP/AVP 8 101\r\n");
    expect(sdp).toContain("a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n");
  });
});
