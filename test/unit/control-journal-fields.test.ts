/**
 * A journal entry's fields come from the SIP parser (message-summary.ts
 * describeParsed / describeMessage), also for the broken messages a fault
 * makes and for the torture tests of RFC 4475: no regex reader of its own.
 */
import { deepStrictEqual } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Journal } from "../../src/control/journal.js";
import { silentLogger } from "../../src/control/logger.js";
import { describeMessage, describeParsed, describeWritten } from "../../src/control/message-summary.js";
import { Metrics } from "../../src/control/metrics.js";
import { Recorder } from "../../src/control/mock/recorder.js";
import { parseDatagram, parseStartLine } from "../../src/sip/parser.js";
import { serialize, writtenHead } from "../../src/sip/serializer.js";
import { StreamFramer } from "../../src/sip/stream-framer.js";
import { annotateTopVia } from "../../src/transport/received.js";
import { DEFAULT_CAPABILITIES } from "../../src/ua/local-context.js";
import { type BuildContext, buildResponse, type ResponseSpec } from "../../src/ua/response-builder.js";
import { applyByteFaults } from "../../src/ua/wire-faults.js";

const BUSY = [
  "SIP/2.0 486 Busy Here",
  "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-x",
  "From: <sip:alice@example.test>;tag=a1",
  "To: <sip:486@127.0.0.1>;tag=m9",
  "Call-ID: call-1",
  "CSeq: 1 INVITE",
  "Content-Length: 0",
  "",
  "",
].join("\r\n");

const WHOLE = {
  callId: "call-1",
  cseq: "1 INVITE",
  from: "<sip:alice@example.test>;tag=a1",
  to: "<sip:486@127.0.0.1>;tag=m9",
  transaction: "z9hG4bK-x/INVITE",
  dialog: "call-1;a1;m9",
};

const faulty = (fault: object) =>
  describeMessage(applyByteFaults(Buffer.from(BUSY, "latin1"), fault as never, () => 0.5));

describe("journal fields from the parser", () => {
  it("a parsed message: the same fields whether from the transport's parse or parsed here", () => {
    const bytes = Buffer.from(BUSY, "latin1");
    const fields = describeParsed(parseDatagram(bytes), BUSY);
    expect(fields).toEqual({ kind: "response", status: 486, reason: "Busy Here", ...WHOLE });
    expect(describeMessage(bytes)).toEqual(fields);
  });

  it("folded header lines are read unfolded (RFC 3261 7.3.1), as the UA reads them (RFC 4475 3.1.1.1 wsinv)", () => {
    const wsinv = readFileSync(join(import.meta.dirname, "..", "fixtures", "rfc4475", "wsinv.dat"));
    expect(describeMessage(wsinv)).toMatchObject({
      kind: "request",
      method: "INVITE",
      cseq: "0009 INVITE",
      transaction: "390skdjuw/INVITE",
      dialog: "wsinv.ndaksdj@192.0.2.1;98asjd8;1918181833n",
    });
  });

  it("a response a fault broke keeps what it still says: status, Call-ID, transaction", () => {
    // The CSeq line without its colon is no header: no transaction key.
    const { transaction: _t, cseq: _c, ...withoutCseq } = WHOLE;
    expect(faulty({ malformed: "header" })).toEqual({
      kind: "response",
      status: 486,
      reason: "Busy Here",
      ...withoutCseq,
    });
    // No SP in the status line: unparsable, the headers still read.
    expect(faulty({ malformed: "start-line" })).toEqual({ kind: "unparsable", ...WHOLE });
    expect(faulty({ contentLength: 50 })).toEqual({
      kind: "response",
      status: 486,
      reason: "Busy Here",
      ...WHOLE,
    });
    expect(faulty({ truncate: 40 })).toEqual({ kind: "response", status: 486, reason: "Busy Here" });
    expect(faulty({ garbage: 16 }).kind).toBe("unparsable");
  });

  it("a CSeq the parser refuses (number of 2**31 or more, RFC 4475 scalar02) still names the transaction", () => {
    const text =
      "REGISTER sip:example.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKbig\r\nCall-ID: s2\r\nCSeq: 36893488147419103232 REGISTER\r\n\r\n";
    expect(describeMessage(text)).toMatchObject({
      kind: "request",
      cseq: "36893488147419103232 REGISTER",
      transaction: "z9hG4bKbig/REGISTER",
    });
  });

  it("a request line with a Request-URI the parser refuses is still a request with its method", () => {
    const text =
      "INVITE sip:a@[b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nCall-ID: q\r\nCSeq: 1 INVITE\r\n\r\n";
    expect(describeMessage(text)).toEqual({
      kind: "request",
      method: "INVITE",
      callId: "q",
      cseq: "1 INVITE",
      transaction: "z9hG4bKq/INVITE",
    });
  });
});

describe("the parsed request beside a journal entry", () => {
  const text = `OPTIONS sip:200@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-o\r\nFrom: <sip:a@example.test>;tag=a1\r\nTo: <sip:200@127.0.0.1>\r\nCall-ID: o-1\r\nCSeq: 1 OPTIONS\r\n\r\n`;
  const fields = (direction: "in" | "out") => ({
    time: "2026-12-04T10:00:00.000Z",
    direction,
    transport: "udp" as const,
    local: { address: "127.0.0.1", port: 5060 },
    remote: { address: "192.0.2.7", port: 5070 },
    raw: text,
    ...describeMessage(text),
    retransmission: false,
  });

  it("is the request as the peer sent it (the transport's received/rport annotation is not in it), not in the entry's JSON", () => {
    const j = new Journal();
    const e = j.add(fields("in"));
    const stack = parseDatagram(Buffer.from(text, "latin1"));
    if (!stack.ok || stack.message.kind !== "request") throw new Error("expected a request");
    annotateTopVia(stack.message.headers, { address: "198.51.100.9", port: 6000 });
    const sent = /\r\nVia: ([^\r]*)/.exec(text)![1];
    expect(j.requestOf(e)?.headers.get("Via")).toBe(sent);
    expect(stack.message.headers.get("Via")).not.toBe(sent);
    expect(Object.keys(JSON.parse(JSON.stringify(e)))).not.toContain("request");
  });

  it("an entry added without it is parsed from its bytes once; outbound entries have none", () => {
    const j = new Journal();
    const e = j.add(fields("in"));
    const first = j.requestOf(e);
    expect(first?.method).toBe("OPTIONS");
    expect(j.requestOf(e)).toBe(first);
    expect(j.requestOf(j.add(fields("out")))).toBeUndefined();
  });
});

describe("journal fields of what the mock sent (serializer pieces, no second parse)", () => {
  const dir = join(import.meta.dirname, "..", "fixtures", "rfc4475");
  const rows = (text: string) =>
    text
      .split("\r\n\r\n")[0]!
      .split("\r\n")
      .slice(1)
      .map((l) => ({ name: l.slice(0, l.indexOf(":")), value: l.slice(l.indexOf(":") + 1) }));

  const same = (
    startLine: string,
    headers: { name: string; value: string }[],
    body: Buffer = Buffer.alloc(0),
  ) => {
    const bytes = serialize({ startLine, headers, body });
    const head = writtenHead(bytes);
    expect(head).toBeDefined();
    expect(describeWritten(head!)).toEqual(describeMessage(bytes));
    return describeWritten(head!);
  };

  it("a response as built: the fields the parser reads from its bytes", () => {
    expect(same("SIP/2.0 486 Busy Here", rows(BUSY))).toEqual({
      kind: "response",
      status: 486,
      reason: "Busy Here",
      ...WHOLE,
    });
  });

  it("scenario-made oddities read the same: missing, repeated, broken, compact and folded-away values", () => {
    const base = rows(BUSY);
    const without = (name: string) => base.filter((h) => h.name !== name);
    same("SIP/2.0 486 Busy Here", without("Call-ID"));
    same("SIP/2.0 486 Busy Here", without("Via"));
    same("SIP/2.0 486 Busy Here", without("CSeq"));
    same("SIP/2.0 486 Busy Here", [...base, { name: "From", value: "<sip:b@x>;tag=other" }]);
    same("SIP/2.0 486 Busy Here", [{ name: "To", value: "not <a uri" }, ...without("To")]);
    same("SIP/2.0 486 Busy Here", [{ name: "CSeq", value: "99999999999 INVITE" }, ...without("CSeq")]);
    same("SIP/2.0 486 Busy Here", [{ name: "i", value: "compact-id" }, ...without("Call-ID")]);
    same("SIP/2.0 486 Busy Here", [{ name: "Call-ID", value: "a\r\nInjected: x" }, ...without("Call-ID")]);
    same("SIP/2.0 486 Busy Here", [
      { name: "Via", value: "SIP/2.0/UDP a.test;branch=z9hG4bK-1, SIP/2.0/TCP b.test;branch=z9hG4bK-2" },
      ...without("Via"),
    ]);
    same("SIP/2.0 1000 Too Big", base);
    same("OPTIONS sip:bob@example.test SIP/2.0", base);
    same("garbage", base);
  });

  it("any status line as written is read as the parser reads it (its status and reason, or not a response)", () => {
    const line = fc
      .tuple(
        fc.constantFrom("SIP/2.0 ", "sip/2.0 ", "SIP/2.0  ", "SIP/2.1 ", "SIP/2.0"),
        fc.stringMatching(/^[0-9a-z]{0,4}$/),
        fc.constantFrom("", " ", " OK", "  Busy Here", "\tx", " Ringing "),
      )
      .map(([version, code, reason]) => `${version}${code}${reason}`);
    fc.assert(
      fc.property(line, (startLine) => {
        const f = describeWritten({ startLine });
        const p = parseStartLine(startLine);
        if (typeof p !== "string" && p.kind === "response") {
          expect([f.kind, f.status, f.reason]).toEqual(["response", p.status, p.reason]);
        } else expect(f.kind).not.toBe("response");
      }),
      { numRuns: 2000 },
    );
  });

  it("every RFC 4475 torture message, re-serialized: the same fields as parsing its bytes", () => {
    let compared = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".dat"))) {
      const text = readFileSync(join(dir, file)).toString("latin1");
      const r = parseDatagram(Buffer.from(text, "latin1"));
      const headers = r.ok ? r.message.headers : r.error.partial?.headers;
      if (!headers) continue;
      same(text.slice(0, text.indexOf("\r\n")), [...headers], r.ok ? r.message.body : Buffer.alloc(0));
      compared++;
    }
    expect(compared).toBeGreaterThan(40);
  });
});

describe("journal fields of a response built from a parsed request (the request's parse reused)", () => {
  const CTX: BuildContext = {
    local: { host: "127.0.0.1", port: 5060, transport: "udp" },
    capabilities: DEFAULT_CAPABILITIES,
    toTag: "mt1",
    realm: "r",
    nonce: () => "n",
    opaque: "o",
  };
  const dir = join(import.meta.dirname, "..", "fixtures", "rfc4475");
  const requests = readdirSync(dir)
    .filter((f) => f.endsWith(".dat"))
    .map((f) => parseDatagram(readFileSync(join(dir, f))))
    .flatMap((r) => (r.ok && r.message.kind === "request" ? [r.message] : []));
  const specs: ResponseSpec[] = [
    { status: 100 },
    { status: 180 },
    { status: 486 },
    { status: 200 },
    { status: 486, headers: [["To", "<sip:other@example.test>;tag=given"]] },
    { status: 486, headers: [["From", "broken <"]] },
    { status: 486, headers: [["Via", "SIP/2.0/UDP h.test;branch=z9hG4bK-over"]] },
    { status: 486, headers: [["CSeq", "7 BYE"]] },
    { status: 486, removeHeaders: ["Via", "To"] },
  ];

  it("every parsed RFC 4475 request, answered in several ways: the fields the parser reads from the bytes", () => {
    expect(requests.length).toBeGreaterThan(15);
    let reused = 0;
    for (const req of requests) {
      for (const spec of specs) {
        const request = {
          method: req.method,
          headers: req.headers,
          core: req.core,
          hasToTag: !!req.core.to.tag,
        };
        const { bytes } = buildResponse(request, spec, CTX);
        const head = writtenHead(bytes)!;
        expect(describeWritten(head), `${req.core.callId} ${JSON.stringify(spec)}`).toEqual(
          describeMessage(bytes),
        );
        if (head.known?.to?.value === head.to && head.known?.from?.value === head.from) reused++;
      }
    }
    // The reused parse is the common case, not a path no message takes.
    expect(reused).toBeGreaterThan(requests.length * 4);
  });
});

describe("a response sent again (a retransmission) is journaled with the same fields", () => {
  it("the serializer's record of the head is read once, then the bytes are parsed", () => {
    const parsed = parseDatagram(Buffer.from(BUSY, "latin1"));
    if (!parsed.ok) throw new Error(parsed.error.detail);
    const bytes = serialize({
      startLine: "SIP/2.0 486 Busy Here",
      headers: parsed.message.headers,
      body: Buffer.alloc(0),
    });
    const journal = new Journal();
    const recorder = new Recorder(journal, new Metrics(), silentLogger, [], () => Date.UTC(2026, 0, 1));
    const flow = {
      transport: "udp" as const,
      local: { address: "127.0.0.1", port: 5060 },
      remote: { address: "192.0.2.7", port: 5070 },
    };
    expect(writtenHead(bytes)).toBeDefined();
    recorder.sent(flow, bytes, false);
    // The Buffer (kept by its transaction for its retransmissions) no longer holds the head.
    expect(writtenHead(bytes)).toBeUndefined();
    recorder.sent(flow, bytes, true);
    const [first, again] = journal.entries().map((e) => ({ ...e }));
    expect(first).toMatchObject({ kind: "response", status: 486, reason: "Busy Here", ...WHOLE });
    expect(again).toEqual({ ...first, id: 2, retransmission: true });
  });
});

describe("sent and received octets the journal keeps are Buffers of their own", () => {
  it("the serializer's output owns its memory (no pool slab kept alive) and compares as its octets", () => {
    const parsed = parseDatagram(Buffer.from(BUSY, "latin1"));
    if (!parsed.ok) throw new Error(parsed.error.detail);
    const bytes = serialize({
      startLine: "SIP/2.0 486 Busy Here",
      headers: parsed.message.headers,
      body: Buffer.alloc(0),
    });
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
    expect(writtenHead(bytes)).toBeDefined();
    deepStrictEqual(bytes, Buffer.from(bytes.toString("latin1"), "latin1"));
  });

  it("a message framed from a stream owns its memory; its body is a view of it", () => {
    const framer = new StreamFramer({ maxMessageSize: 65535 });
    const invite =
      "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK-1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nbody";
    const frames = framer.push(Buffer.from(`${invite}${invite}`, "latin1"));
    expect(frames).toHaveLength(2);
    for (const f of frames) {
      if (f.type !== "message") throw new Error(f.type);
      expect(f.bytes.byteOffset).toBe(0);
      expect(f.bytes.buffer.byteLength).toBe(f.bytes.length);
      expect(f.result.ok && f.result.message.body.toString()).toBe("body");
    }
  });
});
