/**
 * The UA's answer to a message the parser refused (src/ua/unparsable.ts):
 * 400 naming the problem (RFC 3261 21.4.1), 505 for another SIP version,
 * 513 for a message too large, and nothing for what cannot be answered.
 */
import { describe, expect, it } from "vitest";
import { type ParseFailure, parseDatagram } from "../../src/sip/parser.js";
import type { Flow } from "../../src/transport/types.js";
import { DEFAULT_CAPABILITIES } from "../../src/ua/local-context.js";
import { answerUnparsable } from "../../src/ua/unparsable.js";

const flow: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "192.0.2.7", port: 5070 },
};
const ctx = {
  listener: { transport: "udp" as const, address: "127.0.0.1", port: 5060 },
  capabilities: DEFAULT_CAPABILITIES,
  server: "sipmock/test",
  realm: "sipmock",
};

function failure(text: string, max = Number.POSITIVE_INFINITY): ParseFailure {
  const r = parseDatagram(Buffer.from(text, "latin1"), max);
  if (r.ok) throw new Error("expected a parse failure");
  return r.error;
}

function request(startLine: string, headers: string[]): string {
  return [startLine, ...headers, "", ""].join("\r\n");
}

const VIA = "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-u1";
const CORE = [
  VIA,
  "From: <sip:a@example.test>;tag=f1",
  "To: <sip:b@example.test>",
  "CSeq: 1 INVITE",
  "Max-Forwards: 70",
];

function lines(bytes: Buffer | undefined): string[] {
  expect(bytes).toBeDefined();
  return bytes!.toString("latin1").split("\r\n");
}

describe("answerUnparsable", () => {
  it("400 whose reason phrase and Warning name the syntax problem, the request's Via, From and CSeq copied, a To tag added", () => {
    const out = lines(
      answerUnparsable(failure(request("INVITE sip:b@example.test SIP/2.0", CORE)), flow, ctx),
    );
    expect(out[0]).toBe("SIP/2.0 400 Bad Request: missing Call-ID header field");
    expect(out).toContain(VIA);
    expect(out).toContain("From: <sip:a@example.test>;tag=f1");
    expect(out).toContain("CSeq: 1 INVITE");
    expect(out.find((l) => l.startsWith("To: "))).toMatch(/^To: <sip:b@example\.test>;tag=[0-9a-f]{12}$/);
    expect(out).toContain('Warning: 399 127.0.0.1:5060 "missing Call-ID header field"');
    expect(out).toContain("Server: sipmock/test");
  });

  it("505 for a SIP version other than 2.0 (RFC 4475 3.1.2.16), 513 for a message over the size accepted", () => {
    const v7 = request("OPTIONS sip:b@example.test SIP/7.0", [
      ...CORE.slice(0, 3),
      "Call-ID: v7",
      "CSeq: 1 OPTIONS",
    ]);
    expect(lines(answerUnparsable(failure(v7), flow, ctx))[0]).toBe("SIP/2.0 505 Version Not Supported");
    const big = request("OPTIONS sip:b@example.test SIP/2.0", [
      ...CORE.slice(0, 3),
      "Call-ID: big",
      "CSeq: 1 OPTIONS",
    ]);
    expect(lines(answerUnparsable(failure(big, 100), flow, ctx))[0]).toBe("SIP/2.0 513 Message Too Large");
  });

  it("the Warning names --advertise instead of the listener's address", () => {
    const out = lines(
      answerUnparsable(failure(request("INVITE sip:b@example.test SIP/2.0", CORE)), flow, {
        ...ctx,
        advertise: "203.0.113.9",
      }),
    );
    expect(out).toContain('Warning: 399 203.0.113.9:5060 "missing Call-ID header field"');
  });

  it("nothing for an ACK, a request without Via, a response, or bytes without a start line", () => {
    const ack = request("ACK sip:b@example.test SIP/2.0", [...CORE.slice(0, 3), "CSeq: 1 ACK"]);
    const noVia = request("INVITE sip:b@example.test SIP/2.0", CORE.slice(1));
    const response = request("SIP/2.0 200 OK", CORE);
    for (const text of [ack, noVia, response, "\x00\x01garbage\r\n\r\n"]) {
      expect(answerUnparsable(failure(text), flow, ctx)).toBeUndefined();
    }
  });
});
