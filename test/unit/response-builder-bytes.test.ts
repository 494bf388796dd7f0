/**
 * The octets of built responses, pinned: every RFC 4475 torture request
 * (parsed, or what a refused parse kept) and hand-written requests with
 * compact names, several Via rows, folded and oddly spaced lines, answered
 * in many ways (catalogue rules, scenario edits and removals, bodies,
 * Warning, Server). The snapshot was written by the builder before its
 * allocation-free rewrite (the Headers list and the string-concatenating
 * serializer): the rewrite writes the same bytes. It also checks the
 * journal's WrittenHead against a parse of the bytes.
 *
 * The snapshot is our own earlier output, not an independent reference: it
 * keeps any bug that output had. A deliberate change to what responses
 * carry updates it (`npx vitest run -u test/unit/response-builder-bytes.test.ts`)
 * after reading the diff; RFC conformance is proven by the wire and peer
 * tests, not here.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeMessage, describeWritten } from "../../src/control/message-summary.js";
import { Headers } from "../../src/sip/message.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { serialize, writtenHead } from "../../src/sip/serializer.js";
import { DEFAULT_CAPABILITIES } from "../../src/ua/local-context.js";
import {
  type BuildContext,
  buildResponse,
  type RequestLike,
  type ResponseSpec,
} from "../../src/ua/response-builder.js";

const CTX: BuildContext = {
  local: { host: "127.0.0.1", port: 5060, transport: "udp" },
  capabilities: DEFAULT_CAPABILITIES,
  toTag: "mt1",
  realm: "r.test",
  nonce: () => "n0nce",
  opaque: "0paque",
};
const WITH_SERVER: BuildContext = { ...CTX, server: "sipmock/test" };

const HAND_WRITTEN = {
  compact: [
    "INVITE sip:bob@example.test SIP/2.0",
    "v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-c1",
    "v: SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK-c2, SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK-c3",
    "f: Alice <sip:alice@example.test>;tag=fa",
    "t: <sip:bob@example.test>",
    "i: compact-1@192.0.2.1",
    "CSEQ: 7 INVITE",
    "m: <sip:alice@192.0.2.1>",
    "record-route: <sip:p1.example.test;lr>",
    "Record-Route: <sip:p2.example.test;lr>, <sip:p3.example.test;lr>",
    "k: 100rel",
    "Require: foo, bar, FOO",
    "Timestamp: 54.3 0.2",
    "l: 0",
    "",
    "",
  ],
  spaced: [
    "OPTIONS sip:carol@example.test SIP/2.0",
    "Via:SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-s1",
    "VIA  :   SIP/2.0/UDP   192.0.2.4 ; branch = z9hG4bK-s2 ;rport  ",
    "From:\t<sip:alice@example.test> ;tag=fs",
    'To   : "Carol"\t<sip:carol@example.test>',
    "Call-ID:spaced-1",
    "CSeq:   9\t OPTIONS",
    "Subject: folded",
    "  over two lines",
    "Max-Forwards: 70",
    "Content-Length: 0",
    "",
    "",
  ],
  tagged: [
    "BYE sip:bob@example.test SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-t1",
    "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-t0;received=198.51.100.1",
    "From: <sip:alice@example.test>;tag=ft",
    "To: <sip:bob@example.test>;tag=already",
    "Call-ID: tagged-1",
    "CSeq: 2 BYE",
    "Content-Length: 0",
    "",
    "",
  ],
  latin1: [
    "MESSAGE sip:b\u00f6b@example.test SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-l1",
    'From: "J\u00fcrgen" <sip:j@example.test>;tag=fl',
    'To: "Bj\u00f6rk" <sip:bob@example.test>',
    "Call-ID: latin1-1",
    "CSeq: 1 MESSAGE",
    "Content-Length: 0",
    "",
    "",
  ],
};

const SPECS: ResponseSpec[] = [
  { status: 100 },
  { status: 180 },
  { status: 200 },
  {
    status: 200,
    headers: [
      ["Allow", "INVITE, ACK, BYE"],
      ["Accept", "application/sdp"],
      ["Supported", "100rel, timer"],
    ],
  },
  { status: 401 },
  { status: 405 },
  { status: 420 },
  { status: 486 },
  { status: 503 },
  { status: 699 },
  { status: 486, reason: 'Busy "<now>"\r\nX: y' },
  { status: 486, headers: [["To", "<sip:other@example.test>;tag=given"]] },
  { status: 486, headers: [["f", "broken <"]] },
  { status: 486, headers: [["Via", "SIP/2.0/UDP h.test;branch=z9hG4bK-over"]] },
  { status: 486, headers: [["CSEQ", "7 BYE"]] },
  { status: 486, removeHeaders: ["Via", "t", "l"] },
  { status: 503, removeHeaders: ["retry-after", "Call-ID"] },
  { status: 401, removeHeaders: ["WWW-Authenticate"] },
  {
    status: 401,
    headers: [
      ["WWW-Authenticate", 'Digest realm="a", nonce="1"'],
      ["www-authenticate", 'Digest realm="b", nonce="2"'],
      ["X-Injected", "a\r\nEvil: 1\0z"],
      ["X-Spaced", "  kept as given  "],
      ["Subject", "caf\u00e9 \u20ac\u65e5 \ud83d\ude00 \u0100"],
      ["l", "99"],
    ],
  },
  {
    status: 200,
    headers: [["c", "text/plain"]],
    body: { contentType: "application/sdp", data: Buffer.from("v=0\r\n", "latin1") },
    warning: 'said "hi"',
  },
  {
    status: 183,
    body: { contentType: "application/sdp", data: Buffer.from("v=0\r\n", "latin1") },
    removeHeaders: ["Content-Type"],
  },
];

interface Case {
  readonly label: string;
  readonly request: RequestLike;
}

function cases(): Case[] {
  const dir = join(import.meta.dirname, "..", "fixtures", "rfc4475");
  const texts: Array<[string, Buffer]> = [
    ...readdirSync(dir)
      .filter((f) => f.endsWith(".dat"))
      .sort()
      .map((f): [string, Buffer] => [f, readFileSync(join(dir, f))]),
    ...Object.entries(HAND_WRITTEN).map(([k, lines]): [string, Buffer] => [
      k,
      Buffer.from(lines.join("\r\n"), "latin1"),
    ]),
  ];
  const out: Case[] = [];
  for (const [label, bytes] of texts) {
    const r = parseDatagram(bytes);
    if (r.ok && r.message.kind === "request") {
      const m = r.message;
      out.push({
        label,
        request: {
          method: m.method,
          headers: m.headers,
          core: m.core,
          hasToTag: !!m.core.to.tag,
          requestUser: "user",
        },
      });
    } else if (!r.ok && r.error.partial?.kind === "request") {
      const p = r.error.partial;
      out.push({ label: `${label} (refused)`, request: { method: p.method, headers: p.headers } });
    }
  }
  return out;
}

describe("built responses, byte for byte", () => {
  const all = cases();

  it("answers the torture and hand-written requests with the octets pinned before the rewrite", async () => {
    expect(all.length).toBeGreaterThan(40);
    // The hand-written requests' answers in full; a digest of each torture request's answers.
    const lines: string[] = [];
    for (const c of all) {
      const digest = createHash("sha256");
      SPECS.forEach((spec, i) => {
        const ctx = i % 2 === 0 ? CTX : WITH_SERVER;
        const built = buildResponse(c.request, spec, ctx);
        if (c.label in HAND_WRITTEN)
          lines.push(
            `=== ${c.label} / spec ${i}`,
            built.bytes.toString("latin1").replaceAll("\r", "\\r").replaceAll("\0", "\\0"),
          );
        else digest.update(built.bytes);
      });
      if (!(c.label in HAND_WRITTEN)) lines.push(`=== ${c.label}: sha256 ${digest.digest("hex")}`);
    }
    await expect(lines.join("\n")).toMatchFileSnapshot("./__snapshots__/response-builder-bytes.txt");
  });

  it("the journal's record of each response reads as a parse of its bytes", () => {
    for (const c of all) {
      for (const spec of SPECS) {
        const { bytes } = buildResponse(c.request, spec, CTX);
        const head = writtenHead(bytes);
        expect(head, c.label).toBeDefined();
        expect(describeWritten(head!), `${c.label} ${JSON.stringify(spec)}`).toEqual(describeMessage(bytes));
      }
    }
  });

  it("the message it reports serializes to the bytes it sent", () => {
    for (const c of all) {
      for (const spec of SPECS) {
        const built = buildResponse(c.request, spec, WITH_SERVER);
        expect(serialize(built.message).equals(built.bytes), c.label).toBe(true);
        expect(serialize({ ...built.message, headers: new Headers(built.message.headers) })).toEqual(
          built.bytes,
        );
      }
    }
  });
});
