/**
 * The journal, verification with near misses, expectations and their JUnit
 * report, on real message bytes.
 */
import { describe, expect, it } from "vitest";
import { checkExpectations, formatReport, junitXml } from "../../src/control/expectations.js";
import {
  type DtmfEntry,
  describeMessage,
  isMessage,
  Journal,
  type JournalEntry,
  type MediaEntry,
} from "../../src/control/journal.js";
import { checkPattern, PatternError, VerificationError, verify } from "../../src/control/verify.js";

const local = { address: "127.0.0.1", port: 5060 };
const remote = { address: "192.0.2.7", port: 5070 };

function request(
  method: string,
  user: string,
  o: { callId?: string; branch?: string; extra?: string[]; from?: string } = {},
): string {
  return [
    `${method} sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.7:5070;branch=${o.branch ?? `z9hG4bK-${method}-${user}`}`,
    "Max-Forwards: 70",
    `From: ${o.from ?? "<sip:alice@example.test>"};tag=a1`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${o.callId ?? "call-1"}`,
    `CSeq: 1 ${method}`,
    ...(o.extra ?? []),
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

function add(
  j: Journal,
  direction: "in" | "out",
  raw: string,
  time = "2026-11-26T10:00:00.000Z",
  retransmission = false,
): JournalEntry {
  return j.add({
    time,
    direction,
    transport: "udp",
    local,
    remote,
    raw,
    ...describeMessage(Buffer.from(raw, "latin1")),
    retransmission,
  });
}

describe("journal entries", () => {
  it("summarise requests and responses with transaction and dialog", () => {
    const req = describeMessage(Buffer.from(request("INVITE", "486", { branch: "z9hG4bK-x" }), "latin1"));
    expect(req).toEqual({
      kind: "request",
      method: "INVITE",
      callId: "call-1",
      cseq: "1 INVITE",
      from: "<sip:alice@example.test>;tag=a1",
      to: "<sip:486@127.0.0.1>",
      transaction: "z9hG4bK-x/INVITE",
    });
    const res = describeMessage(
      Buffer.from(
        "SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-x\r\nFrom: <sip:alice@example.test>;tag=a1\r\nTo: <sip:486@127.0.0.1>;tag=m9\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        "latin1",
      ),
    );
    expect(res).toMatchObject({
      kind: "response",
      status: 486,
      reason: "Busy Here",
      transaction: "z9hG4bK-x/INVITE",
      dialog: "call-1;a1;m9",
    });
    expect(describeMessage(Buffer.from(request("ACK", "486", { branch: "z9hG4bK-x" }))).transaction).toBe(
      "z9hG4bK-x/INVITE",
    );
    expect(describeMessage(Buffer.from("\x00\x01garbage")).kind).toBe("unparsable");
  });

  it("carries the rule of a request to the responses of its transaction", () => {
    const j = new Journal();
    const inv = add(j, "in", request("INVITE", "486", { branch: "z9hG4bK-r" }));
    j.ruleFor(inv, "busy rule 1");
    const res = add(
      j,
      "out",
      `SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-r\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\n\r\n`,
    );
    expect(res.rule).toBe("busy rule 1");
  });

  it("forgets rules and dialogs with clear(): a response or digit after it names none", () => {
    const j = new Journal();
    const inv = add(j, "in", request("INVITE", "486", { branch: "z9hG4bK-c", callId: "c9" }));
    j.ruleFor(inv, "busy rule 1");
    const busy = `SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-c\r\nFrom: <sip:a@h>;tag=a1\r\nTo: <sip:b@h>;tag=b2\r\nCall-ID: c9\r\nCSeq: 1 INVITE\r\n\r\n`;
    expect(add(j, "out", busy).rule).toBe("busy rule 1");
    const digit: Omit<DtmfEntry, "id"> = {
      time: "2026-11-26T10:00:01.000Z",
      kind: "dtmf",
      direction: "in",
      callId: "c9",
      digit: "1",
      durationMs: 100,
      volume: 10,
      via: "info",
      transport: "udp",
    };
    expect(j.addMedia(digit).dialog).toBe("c9;a1;b2");
    j.clear();
    expect(add(j, "out", busy).rule).toBeUndefined();
    j.clear();
    expect(j.addMedia(digit).dialog).toBeUndefined();
    expect(add(j, "out", busy).dialog).toBe("c9;a1;b2");
    expect(j.addMedia(digit).dialog).toBe("c9;a1;b2");
  });

  it("a request received names the rule its transaction key finds, as if looked up on arrival", () => {
    const received = (j: Journal, raw: string, retransmission = false) => {
      const bytes = Buffer.from(raw, "latin1");
      return j.recordReceived(0, "udp", local, remote, retransmission, bytes, describeMessage(bytes));
    };
    const a = request("INVITE", "486", { branch: "z9hG4bK-a", callId: "a" });
    // One rule kept (maxEntries 1): setting another's evicts it.
    const j = new Journal(1);
    j.ruleFor(received(j, a), "rule A");
    const again = received(j, a, true);
    const b = add(j, "in", request("INVITE", "486", { branch: "z9hG4bK-b", callId: "b" }));
    j.ruleFor(b, "rule B");
    expect(again.rule).toBe("rule A");
    expect(received(j, a, true).rule).toBeUndefined(); // evicted since
    j.settle();
    // Seen at once by a listener, and by a reader of the journal.
    const k = new Journal();
    const seen: (string | undefined)[] = [];
    k.ruleFor(received(k, a), "rule A");
    const stop = k.subscribe((e) => seen.push(isMessage(e) ? e.rule : "?"));
    received(k, a, true);
    stop();
    const last = received(k, a, true);
    expect(k.entries().at(-1)).toEqual(last.toJSON());
    expect([...seen, last.rule]).toEqual(["rule A", "rule A"]);
  });

  it("filters, groups by Call-ID and stays bounded", () => {
    const j = new Journal(3);
    add(j, "in", request("OPTIONS", "a", { callId: "c1" }), "2026-11-26T10:00:00.000Z");
    add(j, "in", request("INVITE", "b", { callId: "c2" }), "2026-11-26T10:00:01.000Z");
    add(j, "out", "SIP/2.0 100 Trying\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\n\r\n", "2026-11-26T10:00:01.100Z");
    add(j, "out", "SIP/2.0 200 OK\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\n\r\n", "2026-11-26T10:00:02.000Z");
    expect(j.size).toBe(3);
    expect(j.entries().map((e) => e.id)).toEqual([2, 3, 4]);
    expect(j.entries({ method: "INVITE" }).map((e) => e.id)).toEqual([2, 3, 4]);
    expect(j.entries({ status: 200 }).map((e) => e.id)).toEqual([4]);
    expect(j.entries({ since: "2026-11-26T10:00:01.050Z" }).map((e) => e.id)).toEqual([3, 4]);
    expect(j.entries({ sinceId: 3 }).map((e) => e.id)).toEqual([4]);
    expect(j.calls().map((c) => [c.callId, c.flow])).toEqual([
      ["c2", ["in INVITE", "out 100 Trying", "out 200 OK"]],
    ]);
  });

  it("keeps the newest maxEntries across many evictions and compactions, in order", () => {
    const j = new Journal(5);
    const raw = request("OPTIONS", "a", { callId: "c" });
    for (let i = 0; i < 5000; i++) add(j, "in", raw);
    expect(j.size).toBe(5);
    expect(j.entries().map((e) => e.id)).toEqual([4996, 4997, 4998, 4999, 5000]);
    add(j, "in", raw);
    expect(j.entries({ limit: 2 }).map((e) => e.id)).toEqual([5000, 5001]);
    j.clear();
    expect(j.size).toBe(0);
    add(j, "in", raw);
    expect(j.entries().map((e) => e.id)).toEqual([5002]);
  });
});

describe("verification", () => {
  const j = new Journal();
  add(j, "in", request("INVITE", "486", { callId: "v1", extra: ["User-Agent: Zoiper"] }));
  add(j, "in", request("INVITE", "486", { callId: "v1" }), undefined, true);
  add(j, "in", request("OPTIONS", "486", { callId: "v2" }));
  add(j, "in", request("INVITE", "603", { callId: "v3", from: "<sip:bob@example.test>" }));

  it("counts matching requests, retransmissions excluded", () => {
    expect(verify(j, { method: "INVITE", requestUri: { user: "^486$" } }, { times: 1 })).toHaveLength(1);
    expect(verify(j, { method: "INVITE" }, { atLeast: 2, atMost: 2 })).toHaveLength(2);
  });

  it("a failure names what was expected and the closest requests, with their differences", () => {
    let message = "";
    try {
      verify(j, { method: "INVITE", requestUri: { user: "^486$" }, from: { user: "^bob$" } });
    } catch (e) {
      expect(e).toBeInstanceOf(VerificationError);
      message = (e as Error).message;
    }
    expect(message.split("\n")).toEqual([
      'expected at least 1 request(s) matching {"method":"INVITE","requestUri":{"user":"^486$"},"from":{"user":"^bob$"}}, received 0',
      "closest requests that did not match:",
      "  #4 INVITE sip:603@127.0.0.1 SIP/2.0 (Call-ID v3): 2/3 conditions",
      '    - requestUri {"user":"^486$"}: was "sip:603@127.0.0.1"',
      "  #1 INVITE sip:486@127.0.0.1 SIP/2.0 (Call-ID v1): 2/3 conditions",
      '    - from {"user":"^bob$"}: was "<sip:alice@example.test>;tag=a1"',
      "  #3 OPTIONS sip:486@127.0.0.1 SIP/2.0 (Call-ID v2): 1/3 conditions",
      '    - method "INVITE": was "OPTIONS"',
      '    - from {"user":"^bob$"}: was "<sip:alice@example.test>;tag=a1"',
    ]);
  });

  it("too many is a failure too, listing what matched", () => {
    expect(() => verify(j, { method: "INVITE" }, { times: 1 })).toThrow(
      /expected exactly 1 request\(s\) matching .* received 2\nmatching:\n {2}#1 .*\n {2}#4 /,
    );
  });

  it("patterns are validated like scenario matches", () => {
    expect(() => checkPattern({ methd: "INVITE" })).toThrow(PatternError);
    expect(() => checkPattern({ methd: "INVITE" })).toThrow('invalid request pattern: unknown key "methd"');
    expect(() => checkPattern({ requestUri: { user: "(" } })).toThrow(
      /invalid request pattern: invalid regular expression "\(": .*RE2 syntax/,
    );
  });
});

describe("expectations (CI verdicts)", () => {
  const j = new Journal();
  add(j, "in", request("INVITE", "486", { callId: "e1" }), "2026-11-26T10:00:00.000Z");
  add(j, "in", request("ACK", "486", { callId: "e1" }), "2026-11-26T10:00:00.100Z");
  add(
    j,
    "in",
    request("REGISTER", "alice", { callId: "e2", extra: ['Authorization: Digest username="alice"'] }),
    "2026-11-26T10:00:07.000Z",
  );

  const results = checkExpectations(j, [
    { name: "one INVITE to 486", match: { method: "INVITE", requestUri: { user: "^486$" } }, times: 1 },
    { name: "its ACK", match: { method: "ACK" } },
    {
      name: "REGISTER with credentials within 5 s",
      match: { method: "REGISTER", headers: { Authorization: { present: true } } },
      within: "5s",
    },
  ]);

  it("each expectation passes or fails with the count", () => {
    expect(results.map((r) => [r.name, r.ok, r.received, r.expected])).toEqual([
      ["one INVITE to 486", true, 1, "exactly 1"],
      ["its ACK", true, 1, "at least 1"],
      ["REGISTER with credentials within 5 s", false, 0, "at least 1 within 5s"],
    ]);
  });

  it("a readable report", () => {
    expect(formatReport(results).split("\n")).toEqual([
      "PASS one INVITE to 486: received 1 (expected exactly 1)",
      "PASS its ACK: received 1 (expected at least 1)",
      "FAIL REGISTER with credentials within 5 s: received 0, expected at least 1 within 5s",
      "2 of 3 expectations met",
    ]);
  });

  it("JUnit XML with one testcase per expectation", () => {
    const xml = junitXml("ci <run>", results, 1.5);
    expect(xml).toContain('<testsuite name="ci &lt;run&gt;" tests="3" failures="1" errors="0" time="1.500">');
    expect(xml).toContain('<testcase classname="ci &lt;run&gt;" name="its ACK" time="0"></testcase>');
    expect(xml).toContain('<failure message="received 0, expected at least 1 within 5s">');
  });
});

describe("journal bounds", () => {
  it("is bounded by bytes as well as entries, and lists the most recent with limit", () => {
    const j = new Journal(100, 4000); // about 1,000 octets + 850 of overhead each
    for (let i = 0; i < 5; i++)
      add(j, "in", request("MESSAGE", "u", { callId: `b${i}`, extra: [`X-Pad: ${"x".repeat(800)}`] }));
    expect(j.size).toBe(2);
    expect(j.entries().map((e) => e.callId)).toEqual(["b3", "b4"]);
    expect(j.entries({ limit: 1 }).map((e) => e.callId)).toEqual(["b4"]);
  });
});

describe("media entries (kind dtmf and media) among the messages", () => {
  const stats = { packets: 10, octets: 40, lost: 0, jitterMs: 0.5 };
  const dropped = { malformed: 0, unknownPayloadType: 0, oversized: 0, faultLoss: 0 };
  /** A call's RTP statistics at its end, as the mock journals them. */
  const mediaEnd = (callId: string): Omit<MediaEntry, "id"> => ({
    time: "2026-11-26T10:00:02.000Z",
    kind: "media",
    callId,
    transport: "udp",
    local: { address: "127.0.0.1", port: 20000 },
    codec: "PCMU",
    sent: stats,
    received: stats,
    dropped,
    rtcp: { sent: 1, received: 0 },
  });
  function call(j: Journal) {
    add(j, "in", request("INVITE", "alice", { callId: "m1" }));
    const ok = request("INVITE", "alice", { callId: "m1" })
      .replace(/^INVITE [^\r]*/, "SIP/2.0 200 OK")
      .replace("To: <sip:alice@127.0.0.1>", "To: <sip:alice@127.0.0.1>;tag=b2");
    add(j, "out", ok);
    j.addMedia({
      time: "2026-11-26T10:00:01.000Z",
      kind: "dtmf",
      direction: "in",
      callId: "m1",
      digit: "5",
      durationMs: 100,
      volume: 10,
      via: "rfc4733",
      transport: "udp",
      remote: { address: "192.0.2.7", port: 4000 },
    });
    add(j, "in", request("BYE", "alice", { callId: "m1" }), "2026-11-26T10:00:02.000Z");
    j.addMedia(mediaEnd("m1"));
  }

  it("numbers them in sequence with the messages, names the call's dialog and filters by kind", () => {
    const j = new Journal();
    call(j);
    const all = j.records();
    expect(all.map((e) => [e.id, e.kind])).toEqual([
      [1, "request"],
      [2, "response"],
      [3, "dtmf"],
      [4, "request"],
      [5, "media"],
    ]);
    expect(all[2]!.dialog).toBe("m1;a1;b2");
    expect(j.entries().map((e) => e.id)).toEqual([1, 2, 4]);
    expect(j.records({ kind: "dtmf" }).map((e) => e.id)).toEqual([3]);
    expect(j.records({ kind: ["dtmf", "media"], callId: "m1" }).map((e) => e.id)).toEqual([3, 5]);
    // Message filters select messages only.
    expect(j.records({ method: "BYE" }).map((e) => e.id)).toEqual([4]);
    expect(j.records({ status: 200 }).map((e) => e.id)).toEqual([2]);
    expect(j.records({ direction: "in" }).map((e) => e.id)).toEqual([1, 3, 4]);
    // calls() and verify count SIP messages only.
    expect(j.calls()[0]!.messages).toBe(3);
    expect(verify(j, { method: "BYE" }, { times: 1 })).toHaveLength(1);
  });

  it("name the call's last dialog, with other calls' messages between, as it changes", () => {
    const j = new Journal();
    const answer = (callId: string, from: string, to: string) =>
      `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-${callId}\r\nFrom: <sip:a@h>;tag=${from}\r\nTo: <sip:b@h>;tag=${to}\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\n\r\n`;
    const digit = (callId: string) => {
      const d: Omit<DtmfEntry, "id"> = {
        time: "2026-11-26T10:00:01.000Z",
        kind: "dtmf",
        direction: "in",
        callId,
        digit: "1",
        durationMs: 100,
        volume: 10,
        via: "rfc4733",
        transport: "udp",
      };
      return j.addMedia(d).dialog;
    };
    add(j, "out", answer("d1", "a1", "b1"));
    add(j, "out", answer("d2", "a2", "b2"));
    expect(digit("d1")).toBe("d1;a1;b1");
    expect(digit("d1")).toBe("d1;a1;b1");
    expect(digit("d2")).toBe("d2;a2;b2");
    // A request without a To tag names no dialog: the call's last one stands.
    add(j, "in", request("INFO", "bob", { callId: "d1" }));
    expect(digit("d1")).toBe("d1;a1;b1");
    // The mock's own BYE: the tags the other way round.
    add(j, "out", answer("d1", "b1", "a1"));
    for (let i = 0; i < 50; i++) add(j, "out", answer(`x${i}`, "a", "b"));
    expect(digit("d1")).toBe("d1;b1;a1");
    expect(digit("d2")).toBe("d2;a2;b2");
    expect(digit("none")).toBeUndefined();
    expect(j.records({ kind: "dtmf", callId: "d1" }).map((e) => e.dialog)).toEqual([
      "d1;a1;b1",
      "d1;a1;b1",
      "d1;a1;b1",
      "d1;b1;a1",
    ]);
  });

  it("name the dialog the call's INVITE answer made once all its messages have left the journal", () => {
    const j = new Journal(20);
    const answer = (callId: string, to: string, cseq = "1 INVITE", status = "200 OK") =>
      `SIP/2.0 ${status}\r\nVia: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-${callId}\r\nFrom: <sip:a@h>;tag=a1\r\nTo: <sip:b@h>;tag=${to}\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\n\r\n`;
    const media = (callId: string): string | undefined => j.addMedia(mediaEnd(callId)).dialog;
    add(j, "out", answer("long", "b1"));
    // A 200 to an in-dialog request (not an INVITE) does not make the call's dialog.
    add(j, "out", answer("long", "zz", "2 INFO"));
    // 100 messages of five other calls: the journal (20 entries) no longer holds the long call's.
    for (let i = 0; i < 100; i++) add(j, "out", answer(`x${i % 5}`, "b"));
    expect(j.records({ callId: "long" })).toEqual([]);
    expect(media("long")).toBe("long;a1;b1");
    // A 486 makes no dialog to remember.
    add(j, "out", answer("busy", "b9", "1 INVITE", "486 Busy Here"));
    for (let i = 0; i < 30; i++) add(j, "out", answer(`y${i}`, "b"));
    expect(media("busy")).toBeUndefined();
    j.clear();
    expect(media("long")).toBeUndefined();
  });

  it("count against the byte budget, drop oldest first and go with clear()", () => {
    const j = new Journal(3);
    const seen: string[] = [];
    j.subscribe((e) => seen.push(e.kind));
    call(j);
    expect(seen).toEqual(["request", "response", "dtmf", "request", "media"]);
    expect(j.records().map((e) => e.id)).toEqual([3, 4, 5]);
    expect(j.octets).toBeGreaterThan(512);
    j.clear();
    expect(j.records()).toEqual([]);
    expect(j.octets).toBe(0);
  });
});

describe("journal entries as objects (issue 12: octets kept, text and time derived when read)", () => {
  it("entries() are plain data: spread, structuredClone, Object.keys and JSON see every field, raw and time included", () => {
    const j = new Journal();
    const raw = request("OPTIONS", "bob");
    const at = Date.parse("2026-11-26T10:00:00.000Z");
    j.record(
      at,
      "in",
      "udp",
      local,
      remote,
      false,
      Buffer.from(raw, "latin1"),
      describeMessage(Buffer.from(raw, "latin1")),
    );
    const [e] = j.entries();
    const whole = {
      id: 1,
      time: "2026-11-26T10:00:00.000Z",
      direction: "in",
      transport: "udp",
      local,
      remote,
      raw,
      ...describeMessage(Buffer.from(raw, "latin1")),
      retransmission: false,
    };
    expect({ ...e }).toEqual(whole);
    expect(structuredClone(e)).toEqual(whole);
    expect(Object.keys(e!).slice(0, 8)).toEqual([
      "id",
      "time",
      "direction",
      "transport",
      "local",
      "remote",
      "raw",
      "kind",
    ]);
    expect(Object.keys(e!)).not.toContain("wire");
    expect(Object.keys(e!)).not.toContain("at");
    expect(JSON.parse(JSON.stringify(e))).toEqual(whole);
    // Each read is data of its own: changing it changes nothing held.
    (e as { rule?: string }).rule = "changed";
    expect(j.entries()[0]!.rule).toBeUndefined();
  });

  it("a journaled message keeps its octets in shared chunks and no header text of its own until a field is read", () => {
    const j = new Journal();
    const wire = Buffer.from(request("OPTIONS", "bob"), "latin1");
    const e = j.record(Date.now(), "in", "udp", local, remote, false, wire, describeMessage(wire));
    // The octets were copied: the message's own Buffer can change or go.
    wire.fill(0x20);
    expect(e.raw).toBe(request("OPTIONS", "bob"));
    expect(e.bytes.equals(Buffer.from(request("OPTIONS", "bob"), "latin1"))).toBe(true);
    // Only plain properties are own (no header strings kept): the rest reads the octets again.
    expect(Object.keys(e)).toEqual([
      "id",
      "time",
      "direction",
      "transport",
      "local",
      "remote",
      "kind",
      "method",
      "status",
      "retransmission",
      "rule",
      "faults",
    ]);
    expect(e.callId).toBe("call-1");
    expect(e.transaction).toBe(describeMessage(Buffer.from(request("OPTIONS", "bob"), "latin1")).transaction);
  });

  it("an entry given a time that is not ISO text keeps it as given (and still serialises)", () => {
    const j = new Journal();
    const e = add(j, "in", request("OPTIONS", "bob"), "yesterday");
    expect(e.time).toBe("yesterday");
    expect(JSON.parse(JSON.stringify(e)).time).toBe("yesterday");
    const f = add(j, "in", request("OPTIONS", "bob"), "2026-11-26T10:00:00Z");
    expect(f.time).toBe("2026-11-26T10:00:00Z");
  });
});
