/**
 * The SDP codec on the call path (src/ua/sdp-codec.ts): writeSdp writes
 * what sdp-transform's write() writes, octet for octet, for every
 * description sipmock builds and for generated ones; parseSdp is
 * sdp-transform's parse, remembered and frozen.
 */
import fc from "fast-check";
import * as sdpTransform from "sdp-transform";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { answerOffer, createOffer, newWebRtcIdentity, originOf } from "../../src/ua/sdp.js";
import { parseSdp, writeSdp } from "../../src/ua/sdp-codec.js";

type Session = sdpTransform.SessionDescription;

/** What answerOffer/createOffer gave writeSdp, copied before writing, and what it wrote. */
const written = vi.hoisted(() => [] as { desc: sdpTransform.SessionDescription; text: string }[]);
vi.mock("../../src/ua/sdp-codec.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/ua/sdp-codec.js")>();
  return {
    ...real,
    writeSdp: (s: sdpTransform.SessionDescription) => {
      const desc = structuredClone(s);
      const text = real.writeSdp(s);
      written.push({ desc, text });
      return text;
    },
  };
});
beforeEach(() => {
  written.length = 0;
});

/** sdp-transform's own writer, on a copy (it fills defaults into what it is given). */
const reference = (s: Session) => sdpTransform.write(structuredClone(s));

const lines = (...l: string[]) => `${l.join("\r\n")}\r\n`;

const OFFERS: Record<string, string> = {
  "plain audio, PCMU PCMA telephone-event": lines(
    "v=0",
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10",
    "s=-",
    "c=IN IP4 192.0.2.10",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0 8 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-16",
  ),
  "SIPp's offer (static payload, no rtpmap)": lines(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
  ),
  "audio and video, ptime, recvonly": lines(
    "v=0",
    "o=- 7 7 IN IP6 2001:db8::1",
    "s=call",
    "c=IN IP6 2001:db8::1",
    "t=0 0",
    "m=audio 5004 RTP/AVP 8 0 18",
    "a=ptime:30",
    "a=recvonly",
    "m=video 5006 RTP/AVP 96",
    "a=rtpmap:96 H264/90000",
  ),
  "opus with channels, a stream with port 0": lines(
    "v=0",
    "o=- 1 1 IN IP4 198.51.100.7",
    "s=-",
    "c=IN IP4 198.51.100.7",
    "t=0 0",
    "m=audio 0 RTP/AVP 0",
    "m=audio 7000 RTP/AVP 111 0",
    "a=rtpmap:111 opus/48000/2",
    "a=mid:a1",
  ),
  "WebRTC (DTLS-SRTP, ICE, BUNDLE)": lines(
    "v=0",
    "o=- 1 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
    "c=IN IP4 0.0.0.0",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 AA:BB:CC",
    "a=setup:actpass",
    "a=mid:0",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
  ),
};

describe("writeSdp: what sdp-transform writes", () => {
  for (const [name, offer] of Object.entries(OFFERS)) {
    it(`the answer to ${name}`, () => {
      const answers = [
        answerOffer(offer, "127.0.0.1", 40000),
        answerOffer(offer, "127.0.0.1", 40000, undefined, { singleStream: true }),
        answerOffer(offer, "[::1]", 40000, undefined, { origin: { sessionId: 5, version: 2 } }),
        answerOffer(offer, "127.0.0.1", 40000, undefined, { webrtc: newWebRtcIdentity() }),
      ];
      for (const a of answers) expect(a.sdp, JSON.stringify(a.warning)).toBeDefined();
      // Each description answerOffer built, written by sdp-transform, is what was sent.
      expect(written.map((w) => w.text)).toEqual(answers.map((a) => a.sdp));
      for (const w of written) expect(w.text).toBe(reference(w.desc));
      // Parsed back and written again: the same both ways too.
      for (const a of answers)
        expect(writeSdp(sdpTransform.parse(a.sdp!))).toBe(reference(sdpTransform.parse(a.sdp!)));
    });
  }

  it("every offer sipmock makes (plain, IPv6, WebRTC, given origin and direction)", () => {
    const made = [
      createOffer("127.0.0.1", 40000),
      createOffer("[2001:db8::5]", 40002, undefined, {
        direction: "sendonly",
        origin: { sessionId: 9, version: 3 },
      }),
      createOffer("127.0.0.1", 40004, undefined, { webrtc: newWebRtcIdentity() }),
      createOffer("127.0.0.1", 40006, [{ name: "opus", rate: 48000, channels: 2 }], { webrtc: true }),
    ];
    expect(written.map((w) => w.text)).toEqual(made);
    for (const w of written) expect(w.text).toBe(reference(w.desc));
  });

  it("generated descriptions of the fields sipmock writes", () => {
    const token = fc.stringMatching(/^[A-Za-z0-9+/.-]{1,12}$/);
    const num = fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom("0", "20", "x"));
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const rtp = fc.record({
      payload: num,
      codec: token,
      rate: maybe(fc.oneof(fc.integer({ min: 0, max: 96000 }), fc.constant(""))),
      encoding: maybe(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constant(""))),
    });
    const media = fc.record(
      {
        type: fc.constantFrom("audio", "video"),
        port: num,
        protocol: fc.constantFrom("RTP/AVP", "UDP/TLS/RTP/SAVPF"),
        payloads: maybe(fc.oneof(token, fc.integer({ min: 0, max: 127 }))),
        rtp: fc.array(rtp, { maxLength: 3 }),
        fmtp: fc.array(fc.record({ payload: num, config: token }), { maxLength: 2 }),
        setup: token,
        mid: fc.oneof(token, fc.integer({ min: 0, max: 9 })),
        ptime: num,
        direction: fc.constantFrom("sendrecv", "recvonly", "sendonly", "inactive"),
        iceUfrag: token,
        icePwd: token,
        fingerprint: fc.record({ type: token, hash: token }),
        candidates: fc.array(
          fc.record({
            foundation: token,
            component: num,
            transport: token,
            priority: num,
            ip: token,
            port: num,
            type: token,
          }),
          { maxLength: 2 },
        ),
        endOfCandidates: fc.constant("end-of-candidates"),
        rtcpMux: fc.constant("rtcp-mux"),
      },
      { requiredKeys: ["type", "port", "protocol", "rtp"] },
    );
    const session = fc.record(
      {
        version: fc.constantFrom(0, 1),
        origin: fc.record({
          username: token,
          sessionId: num,
          sessionVersion: num,
          netType: fc.constant("IN"),
          ipVer: fc.constantFrom(4, 6),
          address: token,
        }),
        name: token,
        connection: fc.record({ version: fc.constantFrom(4, 6), ip: token }),
        timing: fc.record({ start: num, stop: num }),
        icelite: fc.constant("ice-lite"),
        groups: fc.array(fc.record({ type: token, mids: token }), { maxLength: 2 }),
        media: fc.array(media, { maxLength: 3 }),
      },
      { requiredKeys: ["media"] },
    );
    fc.assert(
      fc.property(session, (s) => {
        const before = structuredClone(s);
        expect(writeSdp(s as Session)).toBe(reference(s as Session));
        // Written without being changed (sdp-transform fills in defaults).
        expect(s).toEqual(before);
      }),
      { numRuns: 500 },
    );
  });

  it("a field it does not write itself goes to sdp-transform (same text, input unchanged)", () => {
    const desc = sdpTransform.parse(
      lines(
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "b=AS:64",
        "t=0 0",
        "m=audio 1 RTP/AVP 0",
        "a=maxptime:40",
      ),
    );
    const before = structuredClone(desc);
    expect(writeSdp(desc)).toBe(reference(desc));
    expect(writeSdp(desc)).toContain("b=AS:64\r\n");
    expect(desc).toEqual(before);
  });
});

describe("answerOffer's origin", () => {
  it("is what reading the answer's o= line gives", () => {
    for (const [name, offer] of Object.entries(OFFERS)) {
      for (const origin of [undefined, { sessionId: 77, version: 4 }]) {
        const r = answerOffer(offer, "127.0.0.1", 40002, undefined, origin ? { origin } : {});
        expect(r.origin, name).toEqual(originOf(r.sdp!));
        expect(r.origin?.sessionId, name).toBeGreaterThan(0);
      }
    }
  });
});

describe("parseSdp: sdp-transform's parse, remembered", () => {
  const offer = OFFERS["plain audio, PCMU PCMA telephone-event"]!;

  it("equals sdp-transform's parse and is frozen all the way down", () => {
    const s = parseSdp(offer);
    expect(s).toEqual(sdpTransform.parse(offer));
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.media[0]!.rtp[0])).toBe(true);
    expect(() => {
      (s.media[0]! as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it("gives the same object for the same text, a new one for another text", () => {
    expect(parseSdp(offer)).toBe(parseSdp(`${offer}`));
    const other = offer.replace("49170", "49172");
    expect(parseSdp(other)).not.toBe(parseSdp(offer));
    expect(parseSdp(other).media[0]!.port).toBe(49172);
  });

  it("remembers at most 64 texts, and none longer than 8 KiB", () => {
    const first = offer.replace("49170", "10000");
    const a = parseSdp(first);
    for (let i = 1; i <= 64; i++) parseSdp(offer.replace("49170", String(10000 + 2 * i)));
    const again = parseSdp(first);
    expect(again).not.toBe(a);
    expect(again).toEqual(a);
    const long = `${offer}${"a=x-pad:".padEnd(9000, "p")}\r\n`;
    expect(parseSdp(long)).not.toBe(parseSdp(long));
  });
});
