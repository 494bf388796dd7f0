/**
 * Built responses, from their octets: every RFC 4475 torture request
 * (parsed, or what a refused parse kept) and hand-written requests with
 * compact names, several Via rows, folded and oddly spaced lines, answered
 * in many ways (catalogue rules, scenario edits and removals, bodies,
 * Warning, Server). Each response is read back as text and held to RFC
 * 3261: the start line, the Via, From, Call-ID and CSeq rows copied in
 * order (8.2.6.2), To with the UAS's tag when the request had none, the
 * Timestamp of a 100 (8.2.6.1), Record-Route and Contact on 18x/2xx to
 * INVITE (12.1.1), a Content-Length that counts the body, no line a value
 * could inject, what a scenario removes gone and what it gives present. It
 * also checks the journal's WrittenHead against a parse of the bytes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeMessage, describeWritten } from "../../src/control/message-summary.js";
import { canonicalHeaderName } from "../../src/sip/header-names.js";
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
  // Via rows apart, copied headers out of 8.2.6.2's order: the response has them grouped, in order.
  interleaved: [
    "INVITE sip:bob@example.test SIP/2.0",
    "CSeq: 3 INVITE",
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-i1",
    "To: <sip:bob@example.test>",
    "Max-Forwards: 70",
    "Via: SIP/2.0/TCP 192.0.2.7;branch=z9hG4bK-i2",
    "Call-ID: interleaved-1",
    "From: <sip:alice@example.test>;tag=fi",
    "Via: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK-i3",
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

  it("every response copies the request's rows as RFC 3261 8.2.6 says, whatever the request looks like", () => {
    expect(all.length).toBeGreaterThan(40);
    for (const c of all) {
      SPECS.forEach((spec, i) => {
        const built = buildResponse(c.request, spec, i % 2 === 0 ? CTX : WITH_SERVER);
        checkRfc3261(c, spec, built.bytes.toString("latin1"), `${c.label} / spec ${i}`);
      });
    }
  });

  it("copies Via, From, To, Call-ID and CSeq grouped in that order, each name's rows in the request's order", () => {
    const c = all.find((x) => x.label === "interleaved")!;
    for (const status of [100, 180, 486]) {
      const text = buildResponse(c.request, { status }, CTX).bytes.toString("latin1");
      const lines = text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n").slice(1, 8);
      expect(lines, String(status)).toEqual([
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-i1",
        "Via: SIP/2.0/TCP 192.0.2.7;branch=z9hG4bK-i2",
        "Via: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK-i3",
        "From: <sip:alice@example.test>;tag=fi",
        status === 100 ? "To: <sip:bob@example.test>" : "To: <sip:bob@example.test>;tag=mt1",
        "Call-ID: interleaved-1",
        "CSeq: 3 INVITE",
      ]);
    }
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

/** The values of a header's rows in a response's head, in order (the builder writes canonical names). */
function rowsOf(text: string, name: string): string[] {
  const head = text.slice(0, text.indexOf("\r\n\r\n"));
  return head
    .split("\r\n")
    .slice(1)
    .filter((line) => line.startsWith(`${name}: `))
    .map((line) => line.slice(name.length + 2));
}

const COPIED = ["Via", "From", "Call-ID", "CSeq"];

/**
 * A given value as the response carries it: one octet per code unit (its
 * low octet), and a run of code units whose octet is CR, LF or NUL one
 * space (7.3.1: a value never ends its line).
 */
function onWire(value: string): string {
  const octets = Buffer.from(value, "latin1").toString("latin1");
  return octets.replace(/[\r\n\0]+/g, " ");
}

function checkRfc3261(c: Case, spec: ResponseSpec, text: string, label: string): void {
  const req = c.request.headers;
  const given = new Map<string, string[]>();
  for (const [n, v] of spec.headers ?? []) {
    const key = canonicalHeaderName(n);
    given.set(key, [...(given.get(key) ?? []), v]);
  }
  const removed = new Set((spec.removeHeaders ?? []).map((n) => canonicalHeaderName(n)));
  const touched = (name: string) => given.has(name) || removed.has(name);
  // 7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF, nothing else on it.
  const startLine = text.slice(0, text.indexOf("\r\n"));
  expect(startLine, label).toMatch(new RegExp(`^SIP/2\\.0 ${spec.status} [^\\r\\n]*$`));
  // 8.2.6.2: Via (in order), From, Call-ID and CSeq equal the request's.
  for (const name of COPIED)
    if (!touched(name))
      expect(rowsOf(text, name), `${label}: ${name}`).toEqual(req.getRows(name).map(onWire));
  // 8.2.6.2: To equals the request's, with a tag added when it had none (a 100 MAY go without).
  if (!touched("To") && c.request.hasToTag !== undefined) {
    const to = req.getRows("To");
    const expectedTo =
      c.request.hasToTag || spec.status === 100 ? to : [`${to[0]};tag=${CTX.toTag}`, ...to.slice(1)];
    expect(rowsOf(text, "To"), `${label}: To`).toEqual(expectedTo.map(onWire));
  }
  // 8.2.6.1: a 100 copies the Timestamp.
  if (spec.status === 100 && !touched("Timestamp"))
    expect(rowsOf(text, "Timestamp")).toEqual(req.getRows("Timestamp").slice(0, 1).map(onWire));
  // 12.1.1: 18x and 2xx to INVITE copy every Record-Route in order and carry a Contact.
  if (c.request.method === "INVITE" && spec.status > 100 && spec.status < 300) {
    if (!touched("Record-Route"))
      expect(rowsOf(text, "Record-Route"), label).toEqual(req.getRows("Record-Route").map(onWire));
    if (!touched("Contact"))
      expect(rowsOf(text, "Contact").join("|"), label).toMatch(/^<sip:sipmock@127\.0\.0\.1:5060[;>][^|]*$/);
  }
  // What a scenario removes is gone; each row it gives is there (line breaks in a value made spaces).
  for (const name of removed) expect(rowsOf(text, name), `${label}: ${name} removed`).toEqual([]);
  for (const [name, values] of given) {
    if (removed.has(name)) continue;
    const rows = rowsOf(text, name);
    for (const v of values) expect(rows, `${label}: ${name} given`).toContain(onWire(v));
  }
  // 18.3 / 20.14: Content-Length is the body's length in octets.
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  if (!touched("Content-Length"))
    expect(rowsOf(text, "Content-Length"), label).toEqual([String(Buffer.byteLength(body, "latin1"))]);
  // No value (a reason, a given header) ends its line early: no injected line.
  const head = text.slice(0, text.indexOf("\r\n\r\n"));
  expect(head, label).not.toMatch(/\r\n(X|Evil):/);
  expect(head, label).not.toContain("\0");
}
