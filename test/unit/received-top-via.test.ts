/**
 * RFC 3261 18.2.1 / RFC 3581 4 on the top Via, from real bytes: the
 * transports pass the top via-parm the parser read (core.via[0]) instead of
 * reading it again. With and without it, the Via rows come out the same.
 */
import { describe, expect, it } from "vitest";
import { parseDatagram } from "../../src/sip/index.js";
import type { ParsedRequest } from "../../src/sip/message.js";
import { annotateTopVia } from "../../src/transport/received.js";

function request(vias: string[]): ParsedRequest {
  const text = [
    "OPTIONS sip:bob@example.test SIP/2.0",
    ...vias.map((v) => `Via: ${v}`),
    "Max-Forwards: 70",
    "From: <sip:alice@example.test>;tag=1",
    "To: <sip:bob@example.test>",
    "Call-ID: received@example.test",
    "CSeq: 1 OPTIONS",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const r = parseDatagram(Buffer.from(text, "latin1"));
  if (!r.ok || r.message.kind !== "request") throw new Error(r.ok ? "not a request" : r.error.detail);
  return r.message;
}

const SOURCE = { address: "192.0.2.7", port: 5099 };

describe("annotateTopVia with the parsed top Via", () => {
  it.each([
    [["SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-1"], ["SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-1"]],
    [
      ["SIP/2.0/UDP pc.example.test;branch=z9hG4bK-2"],
      ["SIP/2.0/UDP pc.example.test;branch=z9hG4bK-2;received=192.0.2.7"],
    ],
    [
      ["SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-3;rport"],
      ["SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-3;rport=5099;received=192.0.2.7"],
    ],
    [
      ["SIP/2.0/UDP h.example.test;rport=1;received=10.0.0.1;branch=z9hG4bK-4"],
      ["SIP/2.0/UDP h.example.test;rport=1;branch=z9hG4bK-4;received=192.0.2.7"],
    ],
    [
      ["SIP/2.0/UDP a.test;branch=z9hG4bK-5 ,SIP/2.0/TCP b.test;branch=z9hG4bK-x", "SIP/2.0/UDP c.test"],
      [
        "SIP/2.0/UDP a.test;branch=z9hG4bK-5;received=192.0.2.7, SIP/2.0/TCP b.test;branch=z9hG4bK-x",
        "SIP/2.0/UDP c.test",
      ],
    ],
  ])("%j", (vias, expected) => {
    const withTop = request(vias);
    annotateTopVia(withTop.headers, SOURCE, withTop.core.via[0]);
    const reread = request(vias);
    annotateTopVia(reread.headers, SOURCE);
    expect(withTop.headers.getRows("Via")).toEqual(expected);
    expect(reread.headers.getRows("Via")).toEqual(expected);
  });

  it("an IPv6 source matches its bracketed sent-by, in any case", () => {
    const vias = ["SIP/2.0/UDP [2001:DB8::7]:5099;branch=z9hG4bK-6"];
    const m = request(vias);
    annotateTopVia(m.headers, { address: "2001:db8::7", port: 5099 }, m.core.via[0]);
    expect(m.headers.getRows("Via")).toEqual(vias);
    const other = request(vias);
    annotateTopVia(other.headers, { address: "2001:db8::8", port: 5099 }, other.core.via[0]);
    expect(other.headers.getRows("Via")).toEqual([`${vias[0]};received=2001:db8::8`]);
  });
});

describe("annotateTopVia on a valueless rport", () => {
  it.each([
    // The last parameter, the row's one rport: appended to.
    [
      "SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-7;rport  ",
      "SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-7;rport=5099;received=192.0.2.7",
    ],
    // Not the last: filled where it stands.
    [
      "SIP/2.0/UDP a.test;rport;branch=z9hG4bK-8",
      "SIP/2.0/UDP a.test;rport=5099;branch=z9hG4bK-8;received=192.0.2.7",
    ],
    // The last, after a lookalike parameter.
    [
      "SIP/2.0/UDP a.test;rportx=1;branch=z9hG4bK-9;rport",
      "SIP/2.0/UDP a.test;rportx=1;branch=z9hG4bK-9;rport=5099;received=192.0.2.7",
    ],
    [
      "SIP/2.0/UDP a.test;branch=z9hG4bK-10;RPORT",
      "SIP/2.0/UDP a.test;branch=z9hG4bK-10;rport=5099;received=192.0.2.7",
    ],
    // Twice (malformed): the first one is filled, whatever its case.
    [
      "SIP/2.0/UDP a.test;RPORT;branch=z9hG4bK-12;rport",
      "SIP/2.0/UDP a.test;rport=5099;branch=z9hG4bK-12;rport;received=192.0.2.7",
    ],
    // A received the client put there is replaced.
    [
      "SIP/2.0/UDP a.test;received=10.0.0.1;branch=z9hG4bK-11;rport",
      "SIP/2.0/UDP a.test;branch=z9hG4bK-11;rport=5099;received=192.0.2.7",
    ],
  ])("%s", (via, expected) => {
    const m = request([via]);
    annotateTopVia(m.headers, SOURCE, m.core.via[0]);
    expect(m.headers.getRows("Via")).toEqual([expected]);
  });

  it("RFC 3581 4 on rows around the usual one: the first rport gets the source port, received follows", () => {
    const v6 = { address: "2001:db8::8", port: 5099 };
    const cases: Array<[string, string, typeof SOURCE]> = [
      [
        "SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-20;rport",
        "SIP/2.0/UDP 192.0.2.7:5099;branch=z9hG4bK-20;rport=5099;received=192.0.2.7",
        SOURCE,
      ],
      [
        "SIP/2.0/TCP [2001:db8::7]:5099;branch=z9hG4bK-21;rport",
        "SIP/2.0/TCP [2001:db8::7]:5099;branch=z9hG4bK-21;rport=5099;received=2001:db8::8",
        v6,
      ],
      [
        "SIP/2.0/UDP a.test;branch=z9hG4bK-22; rport",
        "SIP/2.0/UDP a.test;branch=z9hG4bK-22;rport=5099;received=192.0.2.7",
        SOURCE,
      ],
      [
        "SIP/2.0/UDP a.test;branch=z9hG4bK-23 ;rport",
        "SIP/2.0/UDP a.test;branch=z9hG4bK-23 ;rport=5099;received=192.0.2.7",
        SOURCE,
      ],
      [
        "SIP/2.0/UDP a.test; rport ;branch=z9hG4bK-24;rport",
        "SIP/2.0/UDP a.test;rport=5099 ;branch=z9hG4bK-24;rport;received=192.0.2.7",
        SOURCE,
      ],
      [
        'SIP/2.0/UDP a.test;x="a;rport";branch=z9hG4bK-25;rport',
        'SIP/2.0/UDP a.test;x="a;rport";branch=z9hG4bK-25;rport=5099;received=192.0.2.7',
        SOURCE,
      ],
      [
        "SIP/2.0/UDP a.test;maddr=rport.test;branch=z9hG4bK-26;rport",
        "SIP/2.0/UDP a.test;maddr=rport.test;branch=z9hG4bK-26;rport=5099;received=192.0.2.7",
        SOURCE,
      ],
      [
        "SIP/2.0/UDP a.test;branch=z9hG4bK-27;ttl=1;rport\t",
        "SIP/2.0/UDP a.test;branch=z9hG4bK-27;ttl=1;rport=5099;received=192.0.2.7",
        SOURCE,
      ],
    ];
    for (const [row, expected, source] of cases) {
      const m = request([row]);
      annotateTopVia(m.headers, source, m.core.via[0]);
      expect(m.headers.getRows("Via"), row).toEqual([expected]);
    }
  });
});
