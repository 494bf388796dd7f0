/**
 * Offer/answer decisions the UA makes for a call's media (RFC 3264): the
 * packetization time it answers and sends with, the direction it sends in.
 */
import { describe, expect, it } from "vitest";
import { negotiate } from "../../src/ua/media-calls.js";
import { answerOffer } from "../../src/ua/sdp.js";

function sdp(port: number, extra: string[] = []): string {
  return [
    "v=0",
    "o=- 1 1 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${port} RTP/AVP 0 101`,
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    ...extra,
    "",
  ].join("\r\n");
}

describe("ptime", () => {
  it("an offered ptime outside 10..120 ms (0, 1, 121, 100000) is answered and used as 20 ms; 10, 30, 120 kept", () => {
    for (const [offered, used] of [
      ["0", 20],
      ["1", 20],
      ["121", 20],
      ["100000", 20],
      ["10", 10],
      ["30", 30],
      ["120", 120],
    ] as const) {
      const offer = sdp(40000, [`a=ptime:${offered}`]);
      const answer = answerOffer(offer, "127.0.0.1", 50000).sdp!;
      expect(answer, offered).toContain(`a=ptime:${used}\r\n`);
      expect(negotiate(answer, offer, true)?.ptimeMs, offered).toBe(used);
    }
  });

  it("a peer's answer with a bad ptime (we offered): the media runs at 20 ms", () => {
    const ours = sdp(50000);
    expect(negotiate(ours, sdp(40000, ["a=ptime:0"]), false)?.ptimeMs).toBe(20);
    expect(negotiate(ours, sdp(40000, ["a=ptime:99999"]), false)?.ptimeMs).toBe(20);
  });
});

describe("direction when the mock offered (RFC 3264 6.1)", () => {
  it("the peer's answer narrows ours: sendonly -> we only receive, inactive -> nothing, recvonly -> we only send", () => {
    const ours = sdp(50000);
    const dir = (local: string, remote: string, weAnswered = false) =>
      negotiate(local, remote, weAnswered)?.direction;
    expect(dir(ours, sdp(40000, ["a=sendonly"]))).toBe("recvonly");
    expect(dir(ours, sdp(40000, ["a=inactive"]))).toBe("inactive");
    expect(dir(ours, sdp(40000, ["a=recvonly"]))).toBe("sendonly");
    expect(dir(ours, sdp(40000, ["a=sendrecv"]))).toBe("sendrecv");
    expect(dir(ours, sdp(40000))).toBe("sendrecv");
    // our hold offer (sendonly) answered recvonly: we send; answered inactive: nothing
    expect(dir(sdp(50000, ["a=sendonly"]), sdp(40000, ["a=recvonly"]))).toBe("sendonly");
    expect(dir(sdp(50000, ["a=sendonly"]), sdp(40000, ["a=inactive"]))).toBe("inactive");
  });

  it("when the mock answered, its answer's direction stands (already the offer's opposite)", () => {
    const offer = sdp(40000, ["a=sendonly"]);
    const answer = answerOffer(offer, "127.0.0.1", 50000).sdp!;
    expect(answer).toContain("a=recvonly");
    expect(negotiate(answer, offer, true)?.direction).toBe("recvonly");
  });
});
