/** The raw message view's tokens (ui/src/headers.ts): header names with their RFC, hostile text kept as text. */
import { describe, expect, it } from "vitest";
import { lookupCode } from "../../src/catalog/index.js";
import { headerValues, viaEndpoint } from "../../ui/src/endpoints.js";
import {
  headerDoc,
  headerTitle,
  type Line,
  tokenizeMessage,
  visible,
  wireText,
} from "../../ui/src/headers.js";

const HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)"];

const raw = [
  "SIP/2.0 486 Busy Here",
  "v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
  `Subject: ${HOSTILE[0]}`,
  `X-Evil: ${HOSTILE[1]}`,
  `Contact: <${HOSTILE[2]}>`,
  "X-<svg/onload=alert(1)>: 1",
  "Call-ID: c1",
  "CSeq: 1 INVITE",
  "Warning: 399 host",
  '  "folded text"',
  "Content-Length: 13",
  "",
  "body <b>x</b>",
].join("\r\n");

const lines = tokenizeMessage(raw, lookupCode);
const headers = lines.filter((l): l is Extract<Line, { kind: "header" }> => l.kind === "header");

describe("message tokens", () => {
  it("splits start line, headers (name, separator, value) and body, keeping every character", () => {
    const rebuilt = lines
      .map((l) => (l.kind === "header" ? `${l.name}${l.sep}${l.value}` : l.text))
      .join("\r\n");
    expect(rebuilt).toBe(raw);
    expect(lines[0]).toEqual({
      kind: "start",
      text: "SIP/2.0 486 Busy Here",
      title: expect.stringMatching(/^486 Busy Here: RFC 3261 21\.4\.24, /),
    });
    expect(headers.map((h) => h.name)).toEqual([
      "v",
      "Subject",
      "X-Evil",
      "Contact",
      "X-<svg/onload=alert(1)>",
      "Call-ID",
      "CSeq",
      "Warning",
      "Content-Length",
    ]);
    expect(lines.find((l) => l.kind === "text" && l.text.includes("folded"))).toBeTruthy();
  });

  it("gives hostile values back verbatim as plain strings (the view puts them in text nodes)", () => {
    expect(headers.find((h) => h.name === "Subject")!.value).toBe(HOSTILE[0]);
    expect(headers.find((h) => h.name === "X-Evil")!.value).toBe(HOSTILE[1]);
    expect(headers.find((h) => h.name === "Contact")!.value).toBe(`<${HOSTILE[2]}>`);
    for (const l of lines) for (const v of Object.values(l)) expect(typeof v).toBe("string");
  });

  it("explains each header by its RFC and section, compact forms too", () => {
    expect(headers.find((h) => h.name === "v")!.title).toBe(
      "RFC 3261 20.42: Via (compact form of Via), the path taken so far; responses go back along it",
    );
    expect(headerTitle("CSeq")).toMatch(/^RFC 3261 20\.16: CSeq, /);
    expect(headerTitle("i")).toMatch(/^RFC 3261 20\.8: Call-ID/);
    expect(headerTitle("X-Evil")).toBe("extension header (not in sipmock's table)");
    expect(headerDoc("session-expires")?.rfc).toBe("RFC 4028 4");
    expect(headerDoc("o")?.name).toBe("Event");
  });

  it("names a request's method RFC and an uncatalogued status", () => {
    expect(tokenizeMessage("BYE sip:a@b SIP/2.0\r\n\r\n", lookupCode)[0]).toMatchObject({
      title: "BYE: RFC 3261 15",
    });
    expect(tokenizeMessage("SIP/2.0 499 Odd\r\n\r\n", lookupCode)[0]).toMatchObject({
      title: "status 499: not catalogued",
    });
  });

  it("shows UTF-8 text decoded, other octets as they are", () => {
    const utf8 = Buffer.from('From: "Zoë 東京" <sip:z@h>', "utf8").toString("latin1");
    expect(wireText(utf8)).toBe('From: "Zoë 東京" <sip:z@h>');
    expect(wireText("caf\xe9 \xff")).toBe("caf\xe9 \xff");
    expect(wireText("ascii")).toBe("ascii");
  });

  it("shows control characters as escapes", () => {
    expect(visible("a\x00b\x1bc\td")).toBe("a\\x00b\\x1bc\td");
  });
});

describe("header values", () => {
  it("splits comma-joined values outside quotes and brackets, folded lines unfolded", () => {
    const msg =
      'INVITE sip:x SIP/2.0\r\nContact: "a, b" <sip:a@h>, <sip:b@h;x=1,2>\r\nm: <sip:c@h>\r\n Foo\r\n\r\n';
    expect(headerValues(msg, ["contact", "m"])).toEqual([
      '"a, b" <sip:a@h>',
      "<sip:b@h;x=1,2>",
      "<sip:c@h> Foo",
    ]);
  });

  it("reads Via sent-by with default ports per transport", () => {
    expect(viaEndpoint("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK")).toBe("udp:10.0.0.1:5060");
    expect(viaEndpoint("SIP / 2.0 / TLS h.example:5071")).toBe("tls:h.example:5071");
    expect(viaEndpoint("SIP/2.0/WSS [2001:db8::1]")).toBe("wss:[2001:db8::1]:5061");
    expect(viaEndpoint("garbage")).toBeUndefined();
  });
});
