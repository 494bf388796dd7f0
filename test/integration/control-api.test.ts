/**
 * The embedding API (startSipMock's SipMock) exercised with real SIPp
 * traffic: the journal and calls, verify with near misses, waitFor,
 * overrides, setScenario / resetScenario / reset, registrations and
 * metrics. SIPp is the independent peer: what it sent and saw is checked
 * against what the API reports.
 */
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JournalEntry } from "../../src/control/journal.js";
import { OverrideError } from "../../src/control/overrides.js";
import { PatternError, VerificationError } from "../../src/control/verify.js";
import { ScenarioLoadError, type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { header, request, statusOf, udpClient } from "../helpers/wire-client.js";
import {
  answeredCallScenario,
  headerOfText,
  inviteFinalScenario,
  receivedResponses,
  requestScenario,
  runSipp,
  type SippResult,
  statusOfText,
} from "../peers/sipp.js";

const T1 = 50;
const BUSY = fileURLToPath(new URL("../../scenarios/busy.yaml", import.meta.url));

let mock: SipMock;

beforeEach(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: silentLogger,
    timers: { t1: T1 },
  });
});
afterEach(async () => {
  await mock?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sipp(scenarioXml: string, transport: "udp" | "tcp" = "udp"): Promise<SippResult> {
  return runSipp({
    scenarioXml,
    target: `127.0.0.1:${mock.address(transport).port}`,
    transport: transport === "udp" ? "u1" : "t1",
  });
}

/** The Call-ID SIPp put in its first request (independent of the mock's journal). */
function sippCallId(r: SippResult): string {
  const first = r.parsed.find((m) => m.direction === "sent");
  const callId = first ? headerOfText(first.text, "Call-ID") : undefined;
  if (!callId) throw new Error(`no Call-ID in SIPp's trace:\n${r.messages}`);
  return callId;
}

/** The first line of a raw message. */
const firstLine = (e: JournalEntry) => e.raw.slice(0, e.raw.indexOf("\r\n"));

/** Journal entries that are not retransmissions. */
const originals = () => mock.journal.entries().filter((e) => !e.retransmission);

function only<T>(list: readonly T[], what: string): T {
  if (list.length !== 1) throw new Error(`expected exactly one ${what}, got ${list.length}`);
  return list[0]!;
}

const ANSWERED_FLOW = [
  "in INVITE",
  "out 100 Trying",
  "out 180 Ringing",
  "out 200 OK",
  "in ACK",
  "in BYE",
  "out 200 OK",
];
const BUILT_IN_RULE = 'dial-a-code rule 2 "built-in UAS"';

describe("journal, calls, waitFor and verify after a SIPp call", () => {
  for (const transport of ["udp", "tcp"] as const) {
    it(`an answered call to sip:alice@ over ${transport.toUpperCase()} is journalled message by message`, async () => {
      const r = await sipp(answeredCallScenario("alice"), transport);
      expect(r.exitCode, r.summary).toBe(0);
      expect(receivedResponses(r)).toEqual(["100 INVITE", "180 INVITE", "200 INVITE", "200 BYE"]);
      const callId = sippCallId(r);
      const { port } = mock.address(transport);

      const ack = await mock.waitFor({ method: "ACK" }, { timeout: 2000 });
      expect(ack.method).toBe("ACK");
      expect(ack.callId).toBe(callId);

      const invites = mock.verify({ method: "INVITE", requestUri: { user: "^alice$" } }, { times: 1 });
      expect(invites).toHaveLength(1);
      expect(mock.verify({ method: ["ACK", "BYE"] }, { times: 2 })).toHaveLength(2);
      expect(mock.verify({ method: "INVITE" }, { atLeast: 1, atMost: 1 })).toHaveLength(1);
      expect(mock.verify({ method: "OPTIONS" }, { atMost: 0 })).toEqual([]);
      expect(() => mock.verify({ method: "INVITE" }, { times: 2 })).toThrow(VerificationError);
      expect(mock.requests().map((e) => e.method)).toEqual(["INVITE", "ACK", "BYE"]);
      expect(mock.requests({ transport })).toHaveLength(3);
      expect(mock.requests({ transport: transport === "udp" ? "tcp" : "udp" })).toEqual([]);

      // One call, grouped by SIPp's Call-ID; retransmissions (T1 is 50 ms)
      // may interleave but only as marked copies of what the flow holds.
      const calls = mock.calls();
      expect(calls.map((c) => c.callId)).toEqual([callId]);
      const call = calls[0]!;
      expect(call.flow.filter((f) => !f.endsWith(" (retransmission)"))).toEqual(ANSWERED_FLOW);
      for (const f of call.flow.filter((x) => x.endsWith(" (retransmission)"))) {
        expect(ANSWERED_FLOW).toContain(f.replace(" (retransmission)", ""));
      }
      expect(call.messages).toBe(call.entries.length);
      expect(call.entries.map((e) => e.id)).toEqual(mock.journal.entries().map((e) => e.id));
      expect(call.first).toBe(call.entries[0]!.time);
      expect(call.last).toBe(call.entries.at(-1)!.time);
      expect(Date.parse(call.last)).toBeGreaterThanOrEqual(Date.parse(call.first));

      const entries = originals();
      expect(entries.map((e) => `${e.direction} ${e.kind} ${e.method ?? e.status}`)).toEqual([
        "in request INVITE",
        "out response 100",
        "out response 180",
        "out response 200",
        "in request ACK",
        "in request BYE",
        "out response 200",
      ]);
      const [invite, trying, ringing, ok, ackEntry, bye, byeOk] = entries as [
        JournalEntry,
        JournalEntry,
        JournalEntry,
        JournalEntry,
        JournalEntry,
        JournalEntry,
        JournalEntry,
      ];
      expect(invite).toEqual(invites[0]);
      expect(ackEntry).toEqual(ack);
      // Ids ascend in order of the wire.
      const ids = mock.journal.entries().map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);

      for (const e of mock.journal.entries()) {
        expect(e.transport).toBe(transport);
        expect(e.local).toEqual({ address: "127.0.0.1", port });
        expect(e.remote.address).toBe("127.0.0.1");
        expect(e.callId).toBe(callId);
        expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      }
      // Over UDP SIPp sends from (and is answered at) its -p port.
      if (transport === "udp") {
        for (const e of mock.journal.entries()) expect(e.remote.port).toBe(r.localPort);
      }

      // The rule that answered, on the INVITE and every response to it, and on the BYE and its 200.
      for (const e of [invite, trying, ringing, ok, bye, byeOk]) expect(e.rule).toBe(BUILT_IN_RULE);

      // Raw bytes exactly as on the wire.
      expect(invite.raw.startsWith(`INVITE sip:alice@127.0.0.1:${port} SIP/2.0\r\n`)).toBe(true);
      expect(invite.raw).toContain(`\r\nCall-ID: ${callId}\r\n`);
      expect(invite.raw).toMatch(/\r\n\r\nv=0\r\n/);
      expect(trying.raw.startsWith("SIP/2.0 100 Trying\r\n")).toBe(true);
      expect(ringing.raw.startsWith("SIP/2.0 180 Ringing\r\n")).toBe(true);
      expect(ok.raw.startsWith("SIP/2.0 200 OK\r\n")).toBe(true);
      expect(ok.raw).toMatch(/\r\nContent-Type: application\/sdp\r\n/i);
      expect(ok.raw).toMatch(/\r\n\r\nv=0\r\n/);
      expect(firstLine(ackEntry)).toMatch(/^ACK sip:\S+ SIP\/2\.0$/);
      expect(firstLine(bye)).toMatch(/^BYE sip:\S+ SIP\/2\.0$/);
      expect(byeOk.raw.startsWith("SIP/2.0 200 OK\r\n")).toBe(true);
      // The journal's 200 is what SIPp received (the same bytes, modulo SIPp's trace line endings).
      const sippOk = r.parsed.find((m) => m.direction === "received" && statusOfText(m.text) === 200)!;
      expect(headerOfText(ok.raw, "To")).toBe(headerOfText(sippOk.text, "To"));
      expect(ok.reason).toBe("OK");
      expect(ok.cseq).toBe("1 INVITE");
      expect(byeOk.cseq).toBe("2 BYE");
      // Transaction keys: the INVITE and its responses share one; the BYE has its own.
      expect(new Set([invite, trying, ringing, ok].map((e) => e.transaction)).size).toBe(1);
      expect(invite.transaction).toMatch(/^z9hG4bK\S*\/INVITE$/);
      expect(bye.transaction).toMatch(/\/BYE$/);
      expect(byeOk.transaction).toBe(bye.transaction);
      // Dialog: known once the To tag is.
      expect(invite.dialog).toBeUndefined();
      expect(ok.dialog).toMatch(new RegExp(`^${callId.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")};[^;]+;[^;]+$`));
      expect(bye.dialog).toBe(ok.dialog);
    });
  }

  it("a failed verify lists the closest requests first, with what differed", async () => {
    const r = await sipp(answeredCallScenario("alice"));
    expect(r.exitCode, r.summary).toBe(0);
    const callId = sippCallId(r);
    const { port } = mock.address("udp");
    const invite = only(mock.requests({ method: "INVITE" }), "INVITE");
    const ack = only(mock.requests({ method: "ACK" }), "ACK");
    const bye = only(mock.requests({ method: "BYE" }), "BYE");
    const contact = `sip:sipmock@127.0.0.1:${port};transport=udp`;
    expect(firstLine(ack)).toBe(`ACK ${contact} SIP/2.0`);
    expect(firstLine(bye)).toBe(`BYE ${contact} SIP/2.0`);

    let error: unknown;
    try {
      mock.verify({ method: "INVITE", requestUri: { user: "^999$" } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as Error).name).toBe("VerificationError");
    expect((error as Error).message.split("\n")).toEqual([
      `expected at least 1 request(s) matching {"method":"INVITE","requestUri":{"user":"^999$"}}, received 0`,
      "closest requests that did not match:",
      // The INVITE meets one of the two conditions: it comes first.
      `  #${invite.id} INVITE sip:alice@127.0.0.1:${port} SIP/2.0 (Call-ID ${callId}): 1/2 conditions`,
      `    - requestUri {"user":"^999$"}: was "sip:alice@127.0.0.1:${port}"`,
      // BYE and ACK meet none: newest first.
      `  #${bye.id} BYE ${contact} SIP/2.0 (Call-ID ${callId}): 0/2 conditions`,
      `    - method "INVITE": was "BYE"`,
      `    - requestUri {"user":"^999$"}: was "${contact}"`,
      `  #${ack.id} ACK ${contact} SIP/2.0 (Call-ID ${callId}): 0/2 conditions`,
      `    - method "INVITE": was "ACK"`,
      `    - requestUri {"user":"^999$"}: was "${contact}"`,
    ]);

    // Too many: the ones that matched are listed too.
    expect(() => mock.verify({ method: "INVITE" }, { times: 2 })).toThrow(
      new RegExp(
        `^expected exactly 2 request\\(s\\) matching \\{"method":"INVITE"\\}, received 1\\nmatching:\\n  #${invite.id} \\S+ INVITE sip:alice@127\\.0\\.0\\.1:${port} SIP/2\\.0 \\(Call-ID ${callId.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)\\n`,
      ),
    );
    expect(() => mock.verify({ method: "BYE" }, { atMost: 0 })).toThrow(
      /^expected at most 0 request\(s\) matching \{"method":"BYE"\}, received 1\n/,
    );
  });

  it("verify on an empty journal says nothing arrived", () => {
    expect(() => mock.verify({ method: "INVITE" })).toThrow(
      new VerificationError(
        'expected at least 1 request(s) matching {"method":"INVITE"}, received 0\nno requests were received at all',
      ),
    );
  });

  it("waitFor resolves with a request that arrives later, and rejects after its timeout naming the pattern", async () => {
    const waiting = mock.waitFor({ method: "OPTIONS", requestUri: { user: "^bob$" } }, { timeout: 8000 });
    const r = await sipp(requestScenario("OPTIONS", "bob", { code: 200, reason: "OK" }));
    expect(r.exitCode, r.summary).toBe(0);
    const got = await waiting;
    expect(got.method).toBe("OPTIONS");
    expect(got.callId).toBe(sippCallId(r));
    expect(got).toEqual(only(mock.requests({ method: "OPTIONS" }), "OPTIONS"));

    const started = Date.now();
    const pattern = { method: "INVITE", requestUri: { user: "^999$" } } as const;
    const error = await mock.waitFor(pattern, { timeout: 150 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(VerificationError);
    const message = (error as Error).message;
    expect(message).toContain(`no request matching ${JSON.stringify(pattern)} within 150 ms`);
    // The OPTIONS came closest (it is the only request).
    expect(message).toContain(`#${got.id} OPTIONS (Call-ID ${got.callId}): method "INVITE": was "OPTIONS"`);
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2000);
  });

  it("a pattern with an unknown key is a PatternError for waitFor, verify and requests", async () => {
    const bad = { methd: "INVITE" } as never;
    const msg = 'invalid request pattern: unknown key "methd"';
    await expect((async () => mock.waitFor(bad, { timeout: 100 }))()).rejects.toThrow(new PatternError(msg));
    expect(() => mock.verify(bad)).toThrow(new PatternError(msg));
    expect(() => mock.requests(bad)).toThrow(PatternError);
    expect(() => mock.verify({ requestUri: { user: "(" } })).toThrow(PatternError);
  });
});

describe("overrides", () => {
  it("a one-shot 503 with Retry-After answers the next INVITE only, then disappears", async () => {
    const info = mock.override(
      { method: "INVITE" },
      { respond: 503, headers: { "Retry-After": "30" } },
      { times: 1 },
    );
    expect(info.id).toMatch(/^\S+$/);
    expect(info.applied).toBe(0);
    expect(info.remaining).toBe(1);
    expect(mock.overrides.all().map((o) => o.id)).toEqual([info.id]);
    expect(mock.overrides.all()[0]!.rule).toMatchObject({
      match: { method: "INVITE" },
      respond: 503,
      headers: { "Retry-After": "30" },
      times: 1,
    });

    const first = await sipp(
      inviteFinalScenario("alice", { code: 503, reason: "Service Unavailable", headers: ["Retry-After"] }),
    );
    expect(first.exitCode, first.summary).toBe(0);
    const unavailable = first.parsed.find((m) => m.direction === "received" && statusOfText(m.text) === 503);
    expect(unavailable, first.messages).toBeDefined();
    expect(headerOfText(unavailable!.text, "Retry-After")).toBe("30");
    expect(mock.overrides.all()).toEqual([]);
    expect(mock.overrides.size).toBe(0);
    // The journal names the override as the answering rule.
    const invite503 = only(mock.requests({ method: "INVITE" }), "INVITE");
    expect(invite503.rule).toBe(`override rule 1 "override ${info.id}"`);
    const out503 = only(
      mock.journal.entries({ status: 503 }).filter((e) => !e.retransmission),
      "503",
    );
    expect(out503.rule).toBe(invite503.rule);

    const second = await sipp(answeredCallScenario("alice"));
    expect(second.exitCode, second.summary).toBe(0);
    expect(receivedResponses(second)).toEqual(["100 INVITE", "180 INVITE", "200 INVITE", "200 BYE"]);
    const invites = mock.requests({ method: "INVITE" });
    expect(invites).toHaveLength(2);
    expect(invites[1]!.rule).toBe(BUILT_IN_RULE);
  });

  it("overrides can be listed, deleted one by one and cleared", () => {
    const a = mock.override({ method: "INVITE" }, { respond: 486 });
    const b = mock.override({ method: "OPTIONS" }, { respond: 503 }, { times: 2 });
    expect(a.id).not.toBe(b.id);
    expect(a.remaining).toBeUndefined();
    // Newest first.
    expect(mock.overrides.all().map((o) => o.id)).toEqual([b.id, a.id]);
    expect(mock.overrides.delete(a.id)).toBe(true);
    expect(mock.overrides.delete(a.id)).toBe(false);
    expect(mock.overrides.all().map((o) => o.id)).toEqual([b.id]);
    mock.override(undefined, { respond: 500 });
    expect(mock.overrides.size).toBe(2);
    mock.overrides.clear();
    expect(mock.overrides.all()).toEqual([]);
  });

  it("an invalid override throws OverrideError with a readable message and adds nothing", () => {
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e as Error;
      }
      throw new Error("no error thrown");
    };
    const provisional = attempt(() => mock.override({ method: "OPTIONS" }, { respond: 180 }));
    expect(provisional).toBeInstanceOf(OverrideError);
    expect(provisional.name).toBe("OverrideError");
    expect(provisional.message).toBe(
      "respond: 180 is provisional, but this rule can match non-INVITE requests; fix: RFC 4320: a non-INVITE request needs a final answer; use a final code or match: { method: INVITE }",
    );
    const unknownKey = attempt(() => mock.override({ method: "INVITE" }, { respond: 486, bogus: 1 }));
    expect(unknownKey).toBeInstanceOf(OverrideError);
    expect(unknownKey.message).toMatch(/^unknown key "bogus"; fix: allowed here: .*\brespond\b/);
    const typo = attempt(() => mock.override({ methd: "INVITE" } as never, { respond: 486 }));
    expect(typo).toBeInstanceOf(OverrideError);
    expect(typo.message).toBe('unknown key "methd"; fix: did you mean "method"?');
    const badCode = attempt(() => mock.override({ method: "INVITE" }, { respond: 999 }));
    expect(badCode).toBeInstanceOf(OverrideError);
    expect(badCode.message).toContain("100..699");
    expect(mock.overrides.all()).toEqual([]);
  });
});

describe("scenario swaps and reset", () => {
  it("setScenario(busy.yaml) answers 486; invalid YAML is refused and busy stays; reset clears journal and overrides", async () => {
    mock.setScenario(BUSY);
    expect(mock.scenario.name).toBe("busy");
    const busy = await sipp(inviteFinalScenario("alice", { code: 486, reason: "Busy Here" }));
    expect(busy.exitCode, busy.summary).toBe(0);
    expect(receivedResponses(busy).filter((x) => x !== "100 INVITE")).toEqual(["486 INVITE"]);

    let error: unknown;
    try {
      mock.setScenario("name: broken\nrules:\n  - name: nope\n    respond: 999\n");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioLoadError);
    const problems = (error as ScenarioLoadError).problems;
    expect(problems).toEqual([
      {
        file: "inline",
        line: 4,
        col: 14,
        message: '"respond": a SIP status code is 100..699',
        hint: expect.any(String),
      },
    ]);
    expect((error as Error).message).toMatch(/^inline:4:14: "respond": a SIP status code is 100\.\.699/);
    expect(() => mock.setScenario("name: broken\nrules: [\n")).toThrow(ScenarioLoadError);
    expect(() => mock.setScenario("/nonexistent/sipmock/scenario.yaml")).toThrow(ScenarioLoadError);
    expect(mock.scenario.name).toBe("busy");
    const stillBusy = await sipp(inviteFinalScenario("alice", { code: 486, reason: "Busy Here" }));
    expect(stillBusy.exitCode, stillBusy.summary).toBe(0);

    mock.override({ method: "OPTIONS" }, { respond: 503 });
    expect(mock.journal.size).toBeGreaterThan(0);
    mock.reset();
    expect(mock.journal.size).toBe(0);
    expect(mock.journal.entries()).toEqual([]);
    expect(mock.calls()).toEqual([]);
    expect(mock.requests()).toEqual([]);
    expect(mock.overrides.all()).toEqual([]);
    // reset() keeps the scenario: it still answers 486, and the journal fills again.
    expect(mock.scenario.name).toBe("busy");
    const afterReset = await sipp(inviteFinalScenario("alice", { code: 486, reason: "Busy Here" }));
    expect(afterReset.exitCode, afterReset.summary).toBe(0);
    expect(mock.requests({ method: "INVITE" })).toHaveLength(1);
  });

  it("setScenario(YAML text) with a one-shot rule; resetScenario re-arms it", async () => {
    mock.setScenario(
      "name: once\nrules:\n  - name: first busy\n    match: { method: INVITE }\n    respond: 486\n    times: 1\n",
    );
    expect(mock.scenario.name).toBe("once");
    const busy = () => sipp(inviteFinalScenario("alice", { code: 486, reason: "Busy Here" }));
    const r1 = await busy();
    expect(r1.exitCode, r1.summary).toBe(0);
    // Used up: the built-in UAS answers.
    const r2 = await sipp(answeredCallScenario("alice"));
    expect(r2.exitCode, r2.summary).toBe(0);
    mock.resetScenario();
    const r3 = await busy();
    expect(r3.exitCode, r3.summary).toBe(0);
    expect(mock.requests({ method: "INVITE" }).map((e) => e.rule)).toEqual([
      'once rule 1 "first busy"',
      expect.not.stringContaining("first busy"),
      'once rule 1 "first busy"',
    ]);
  });
});

describe("registrations and metrics", () => {
  it("registrations() lists carol's binding after a SIPp REGISTER", async () => {
    expect(mock.registrations()).toEqual([]);
    const r = await sipp(
      requestScenario("REGISTER", "carol", { code: 200, reason: "OK", headers: ["Contact"] }, [
        "Contact: <sip:carol@[local_ip]:[local_port];transport=[transport]>",
        "Expires: 120",
      ]),
    );
    expect(r.exitCode, r.summary).toBe(0);
    const regs = mock.registrations();
    expect(regs).toEqual([
      {
        aor: "sip:carol@127.0.0.1",
        contacts: [{ uri: `sip:carol@127.0.0.1:${r.localPort};transport=UDP`, expires: expect.any(Number) }],
      },
    ]);
    const expires = regs[0]!.contacts[0]!.expires;
    expect(expires).toBeGreaterThan(0);
    expect(expires).toBeLessThanOrEqual(120);
  });

  it("metrics count requests by method and responses by code, retransmissions apart", async () => {
    const call = await sipp(answeredCallScenario("alice"));
    expect(call.exitCode, call.summary).toBe(0);
    for (let i = 0; i < 2; i++) {
      const o = await sipp(requestScenario("OPTIONS", "bob", { code: 200, reason: "OK" }), "tcp");
      expect(o.exitCode, o.summary).toBe(0);
    }
    const busy = await sipp(inviteFinalScenario("486", { code: 486, reason: "Busy Here" }));
    expect(busy.exitCode, busy.summary).toBe(0);
    // Metrics see entries one turn of the event loop later.
    await sleep(20);
    const text = mock.metrics.render({ transactions: 0, dialogs: 0, journalEntries: 0, overrides: 0 });
    const value = (line: string) => {
      const m = new RegExp(`^${line.replace(/[{}"]/g, "\\$&")} (\\d+)$`, "m").exec(text);
      return m ? Number(m[1]) : undefined;
    };
    // Counted independently from what SIPp sent and received.
    const all = [call, busy];
    const sent = (method: string) =>
      all.flatMap((r) => r.parsed).filter((m) => m.direction === "sent" && m.text.startsWith(`${method} `))
        .length;
    expect(sent("INVITE")).toBe(2);
    expect(sent("ACK")).toBe(2);
    expect(value('sipmock_requests_received_total{method="INVITE"}')).toBe(2);
    expect(value('sipmock_requests_received_total{method="ACK"}')).toBe(2);
    expect(value('sipmock_requests_received_total{method="BYE"}')).toBe(1);
    expect(value('sipmock_requests_received_total{method="OPTIONS"}')).toBe(2);
    expect(value('sipmock_requests_received_total{method="REGISTER"}')).toBeUndefined();
    const received = [call, busy].flatMap((r) => receivedResponses(r));
    const responses100 = received.filter((x) => x === "100 INVITE").length;
    expect(value('sipmock_responses_sent_total{code="100"}')).toBe(responses100);
    expect(value('sipmock_responses_sent_total{code="180"}')).toBe(1);
    expect(value('sipmock_responses_sent_total{code="200"}')).toBe(4); // INVITE, BYE, 2 x OPTIONS
    expect(value('sipmock_responses_sent_total{code="486"}')).toBe(1);
    expect(value("sipmock_unparsable_messages_total")).toBe(0);
    expect(text).toContain("# TYPE sipmock_requests_received_total counter\n");
    expect(text).toContain("# TYPE sipmock_responses_sent_total counter\n");
    // The retransmission counter agrees with the journal.
    const retrans = mock.journal.entries().filter((e) => e.retransmission);
    const sentRetrans = retrans.filter((e) => e.direction === "out").length;
    expect(value('sipmock_retransmissions_total{direction="sent"}') ?? 0).toBe(sentRetrans);
    // Gauges are what the caller passes.
    const g = mock.metrics.render({ transactions: 3, dialogs: 2, journalEntries: 41, overrides: 1 });
    expect(g).toMatch(/^sipmock_transactions_active 3$/m);
    expect(g).toMatch(/^sipmock_dialogs_active 2$/m);
    expect(g).toMatch(/^sipmock_journal_entries 41$/m);
    expect(g).toMatch(/^sipmock_overrides_active 1$/m);
    expect(g).toMatch(/^# TYPE sipmock_uptime_seconds gauge$/m);
  });
});

describe("dialogs", () => {
  it("a 2xx creates a dialog, listed until BYE ends it", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      timers: { t1: 50 },
    });
    const target = { host: "127.0.0.1", port: mock.address("udp").port };
    const c = await udpClient(target);
    await c.send(request("INVITE", "alice", target, { localPort: c.port, callId: "dlg-1@test" }));
    const ok = await c.waitFor((m) => statusOf(m) === 200);
    const toTag = /;tag=([^;\s]+)/.exec(header(ok, "To")!)![1]!;
    expect(mock.dialogs()).toEqual([
      { callId: "dlg-1@test", localTag: toTag, remoteTag: expect.any(String), confirmed: false },
    ]);
    await c.close();
  });
});
