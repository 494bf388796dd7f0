/**
 * The serializer writes its octets in place (no string of the whole head):
 * they are what Buffer.from(text, "latin1") makes of the message as text,
 * whatever the rows hold, and the journal's record of them reads as a parse.
 */
import { describe, expect, it } from "vitest";
import { CATALOG } from "../../src/catalog/index.js";
import { describeMessage, describeWritten } from "../../src/control/message-summary.js";
import { canonicalHeaderName } from "../../src/sip/header-names.js";
import { type HeaderField, Headers } from "../../src/sip/message.js";
import { sanitizeReasonPhrase, serialize, serializeFields, writtenHead } from "../../src/sip/serializer.js";

/** The message as text, made the obvious way: what the octets must be. */
function asText(startLine: string, rows: readonly HeaderField[], body: string): Buffer {
  // Each code unit is written as its low octet; no value octet is CR, LF or NUL (runs become one SP).
  const octets = (v: string) => Buffer.from(v, "latin1").toString("latin1");
  const lines = rows.map((r) => `${r.name}: ${octets(r.value).replace(/[\r\n\0]+/g, " ")}\r\n`).join("");
  return Buffer.from(`${startLine}\r\n${lines}\r\n${body}`, "latin1");
}

const ROWS: HeaderField[] = [
  { name: "Via", value: "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1" },
  { name: "v", value: "SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK-2" },
  { name: "f", value: "  <sip:a@example.test>;tag=1  " },
  { name: "TO", value: "<sip:b@example.test>" },
  { name: "i", value: "id-1" },
  { name: "cseq", value: "1 INVITE" },
  { name: "X-Empty", value: "" },
  { name: "Subject", value: "J\u00fcrgen \u20ac \ud83d\ude00" },
  { name: "Content-Length", value: "4" },
];

describe("serialize", () => {
  it("writes the octets of the message as latin1 text, rows as given (compact, any case, odd spacing, beyond latin1)", () => {
    const bytes = serialize({ startLine: "SIP/2.0 200 OK", headers: ROWS, body: Buffer.from("body") });
    expect(bytes).toEqual(asText("SIP/2.0 200 OK", ROWS, "body"));
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });

  it("runs of CR, LF and NUL in a value become one SP, wherever they are", () => {
    for (const value of ["a\r\nX-Injected: 1", "\r\n\0", "end\n", "\0start", "a\rb\nc\0d"]) {
      const rows = [...ROWS.slice(0, 3), { name: "X", value }, ...ROWS.slice(3)];
      const bytes = serialize({ startLine: "SIP/2.0 200 OK", headers: rows, body: Buffer.alloc(0) });
      expect(bytes).toEqual(asText("SIP/2.0 200 OK", rows, ""));
      expect(bytes.toString("latin1").split("\r\n")).toHaveLength(ROWS.length + 4);
    }
  });

  it("takes rows from a Headers list, an array or any iterable alike", () => {
    const expected = asText("OPTIONS sip:b@example.test SIP/2.0", new Headers(ROWS).toArray(), "");
    function* rows() {
      yield* new Headers(ROWS);
    }
    for (const headers of [new Headers(ROWS), new Headers(ROWS).toArray(), rows()]) {
      const bytes = serialize({
        startLine: "OPTIONS sip:b@example.test SIP/2.0",
        headers,
        body: Buffer.alloc(0),
      });
      expect(bytes).toEqual(expected);
    }
  });

  it("records the first row of each header the journal reads, trimmed, whatever its spelling", () => {
    const bytes = serializeFields("SIP/2.0 200 OK", ROWS, Buffer.from("body"));
    expect(writtenHead(bytes)).toEqual({
      startLine: "SIP/2.0 200 OK",
      via: "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1",
      from: "<sip:a@example.test>;tag=1",
      to: "<sip:b@example.test>",
      callId: "id-1",
      cseq: "1 INVITE",
    });
    expect(describeWritten(writtenHead(bytes)!)).toEqual(describeMessage(bytes));
    // Not enumerable: the octets compare as octets.
    expect(Object.keys(bytes)).toEqual(Object.keys(Buffer.from(bytes)));
  });

  it("a value with a line break is recorded as written (made one line)", () => {
    const rows = [{ name: "Call-ID", value: " a\r\nb " }];
    expect(writtenHead(serializeFields("SIP/2.0 200 OK", rows, Buffer.alloc(0)))?.callId).toBe("a b");
  });
});

describe("the catalogue's header names", () => {
  it("are canonical (the response builder compares them with its rows' names as they are)", () => {
    const names = CATALOG.flatMap((c) => [...c.required, ...c.recommended].map((r) => r.name));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(canonicalHeaderName(name)).toBe(name);
  });
});

describe("code units beyond latin1 whose octet is CR, LF or NUL (each is written as its low octet)", () => {
  it("cannot end a header line early: U+010A, U+010D and U+0100 become a space", () => {
    const bytes = serializeFields(
      "SIP/2.0 200 OK",
      [{ name: "Subject", value: "a\u010aEvil: 1\u010d\u0100z" }],
      Buffer.alloc(0),
    );
    expect(bytes.toString("latin1")).toBe("SIP/2.0 200 OK\r\nSubject: a Evil: 1 z\r\n\r\n");
  });

  it("cannot end the status line early either", () => {
    expect(sanitizeReasonPhrase("Busy\u010aX: y\u010d")).toBe("Busy'X: y'");
    expect(sanitizeReasonPhrase("caf\u00e9 \u20ac")).toBe("caf\u00e9 \u20ac");
  });
});
