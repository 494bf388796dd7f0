/**
 * The scenario engine on real request bytes: matching, times, probability,
 * state, sequences per scope, templates, faults, and what it hands the UAS.
 */
import { describe, expect, it } from "vitest";
import { ScenarioEngine } from "../../src/scenario/engine.js";
import { formatProblem, parseScenario } from "../../src/scenario/load.js";
import type { Decision, RequestFacts } from "../../src/scenario/types.js";
import type { ParsedRequest } from "../../src/sip/message.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { uriUser } from "../../src/sip/uri.js";

function engine(yaml: string, random?: () => number): ScenarioEngine {
  const r = parseScenario(yaml, "test.yaml", {});
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join("\n"));
  return new ScenarioEngine([r.source], {
    ...(random ? { random } : {}),
    now: () => new Date("2026-11-26T10:00:00Z"),
  });
}

interface Req {
  method?: string;
  user?: string;
  host?: string;
  from?: string;
  to?: string;
  callId?: string;
  extra?: string[];
  body?: string;
  transport?: "udp" | "tcp";
  source?: string;
}

function facts(o: Req = {}): RequestFacts {
  const method = o.method ?? "INVITE";
  const body = o.body ?? "";
  const text = [
    `${method} sip:${o.user ?? "bob"}@${o.host ?? "mock.test"} SIP/2.0`,
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-e1",
    "Max-Forwards: 70",
    `From: ${o.from ?? '"Alice" <sip:alice@example.test>'};tag=f1`,
    `To: ${o.to ?? "<sip:bob@mock.test>"}`,
    `Call-ID: ${o.callId ?? "c1@example.test"}`,
    `CSeq: 5 ${method}`,
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
  const r = parseDatagram(Buffer.from(text, "latin1"));
  if (!r.ok || r.message.kind !== "request") throw new Error(r.ok ? "not a request" : r.error.detail);
  const request = r.message as ParsedRequest;
  const user = uriUser(request.uri);
  return {
    method,
    ...(user !== undefined ? { requestUser: user } : {}),
    requestHost: "mock.test",
    transport: o.transport ?? "udp",
    sourceAddress: o.source ?? "192.0.2.1",
    sourcePort: 5060,
    hasBody: body.length > 0,
    request,
  };
}

const status = (d: Decision) =>
  d.kind === "respond"
    ? (d.final?.status ?? d.steps.map((s) => ("send" in s ? s.send.status : "w")))
    : d.kind;

const SDP = [
  "v=0",
  "o=a 1 1 IN IP4 192.0.2.1",
  "s=-",
  "c=IN IP4 192.0.2.1",
  "t=0 0",
  "m=audio 4000 RTP/AVP 8 101",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:101 telephone-event/8000",
  "",
].join("\r\n");

describe("request matching", () => {
  it.each([
    ["method list", "match: { method: [OPTIONS, MESSAGE] }", { method: "MESSAGE" }, { method: "INVITE" }],
    [
      "Request-URI user regex",
      'match: { requestUri: { user: "^busy" } }',
      { user: "busy-1" },
      { user: "notbusy" },
    ],
    [
      "Request-URI host equals",
      "match: { requestUri: { host: { equals: mock.test } } }",
      {},
      { host: "other.test" },
    ],
    ["To user", "match: { to: { user: { equals: carol } } }", { to: "<sip:carol@mock.test>" }, {}],
    [
      "From display name",
      'match: { from: { displayName: "^Ali" } }',
      {},
      { from: "<sip:alice@example.test>" },
    ],
    [
      "From URI contains",
      "match: { from: { uri: { contains: example.test } } }",
      {},
      { from: "<sip:a@other.test>" },
    ],
    [
      "header regex",
      'match: { headers: { User-Agent: "^Zoiper" } }',
      { extra: ["User-Agent: Zoiper 5"] },
      { extra: ["User-Agent: Linphone"] },
    ],
    [
      "header present",
      "match: { headers: { Require: { present: true } } }",
      { extra: ["Require: 100rel"] },
      {},
    ],
    [
      "header absent",
      "match: { headers: { Authorization: { present: false } } }",
      {},
      { extra: ['Authorization: Digest username="a"'] },
    ],
    [
      "header equalsIgnoreCase",
      "match: { headers: { X-Test: { equalsIgnoreCase: YES } } }",
      { extra: ["X-Test: yes"] },
      { extra: ["X-Test: no"] },
    ],
    ["body contains", "match: { body: { contains: PCMA } }", { body: SDP }, {}],
    [
      "SDP codec",
      "match: { body: { sdpCodec: pcma } }",
      { body: SDP },
      { body: SDP.replace(/PCMA/, "G729") },
    ],
    ["empty body", "match: { body: { empty: true } }", {}, { body: SDP }],
    ["transport", "match: { transport: tcp }", { transport: "tcp" }, { transport: "udp" }],
    ["source CIDR", "match: { source: 10.0.0.0/8 }", { source: "10.1.2.3" }, { source: "192.0.2.1" }],
    ["source IPv6 CIDR", "match: { source: [ 'fd00::/8' ] }", { source: "fd00::5" }, { source: "::1" }],
  ] as Array<[string, string, Req, Req]>)("%s", (_name, match, yes, no) => {
    const e = engine(`rules:\n  - ${match}\n    respond: 486\n`);
    expect(status(e.decide(facts({ method: "INVITE", ...yes })))).toBe(486);
    expect(e.decide(facts({ method: "INVITE", ...no })).kind).toBe("default");
  });

  it("rules are tried in order; the first match wins and is named in the decision", () => {
    const e = engine(
      [
        "rules:",
        "  - name: vip",
        '    match: { from: { user: "^vip" } }',
        "    respond: 200",
        "  - name: others",
        "    respond: 486",
      ].join("\n"),
    );
    expect(e.decide(facts({ from: "<sip:vip1@x.test>" }))).toMatchObject({
      rule: 'test.yaml rule 1 "vip"',
      final: { status: 200 },
    });
    expect(e.decide(facts())).toMatchObject({ rule: 'test.yaml rule 2 "others"', final: { status: 486 } });
  });
});

describe("then: requests the mock sends after the answer", () => {
  it("are compiled into the decision with their delays and options; a drop sends none", () => {
    const e = engine(
      [
        "rules:",
        "  - name: talk",
        "    match: { method: INVITE, requestUri: { user: talk } }",
        "    respond: 200",
        "    then:",
        "      - { after: 1.5s, send: re-INVITE, direction: sendonly, codecs: [PCMA] }",
        "      - { after: 3s, send: BYE }",
        "  - match: { method: REGISTER }",
        "    default: true",
        "    then:",
        "      - { send: NOTIFY, newMessages: 2 }",
        "      - { after: 250ms, send: INVITE, hangUpAfter: 1m, from: voicemail }",
        "  - match: { method: INVITE }",
        "    fault: { drop: true }",
        "    then: [ { send: OPTIONS } ]",
      ].join("\n"),
    );
    expect(e.decide(facts({ user: "talk" }))).toMatchObject({
      kind: "respond",
      followUps: [
        { send: "re-INVITE", afterMs: 1500, direction: "sendonly", codecs: ["PCMA"] },
        { send: "BYE", afterMs: 3000 },
      ],
    });
    expect(e.decide(facts({ method: "REGISTER" }))).toEqual({
      kind: "default",
      rule: "test.yaml rule 2",
      followUps: [
        { send: "NOTIFY", afterMs: 0, messagesWaiting: true, newMessages: 2 },
        { send: "INVITE", afterMs: 250, from: "voicemail", hangUpAfterMs: 60_000 },
      ],
    });
    expect(e.decide(facts({ user: "other" }))).toEqual({ kind: "drop", rule: "test.yaml rule 3" });
    expect(e.describe().join("\n")).toContain("then re-INVITE after 1.5s, BYE after 3s");
  });
});

describe("times, probability, state", () => {
  it("times: the rule applies N times, then the next one answers", () => {
    const e = engine("rules:\n  - respond: 503\n    times: 2\n  - respond: 200\n");
    expect([1, 2, 3, 4].map(() => status(e.decide(facts({ method: "OPTIONS" }))))).toEqual([
      503, 503, 200, 200,
    ]);
    expect(e.status()).toEqual([
      { rule: "test.yaml rule 1", applied: 2, remaining: 0 },
      { rule: "test.yaml rule 2", applied: 2 },
    ]);
    e.reset();
    expect(status(e.decide(facts({ method: "OPTIONS" })))).toBe(503);
  });

  it("probability uses the random source; misses fall through", () => {
    const rolls = [0.1, 0.9, 0.29, 0.3];
    const e = engine("rules:\n  - respond: 503\n    probability: 0.3\n", () => rolls.shift()!);
    expect([1, 2, 3, 4].map(() => e.decide(facts({ method: "OPTIONS" })).kind)).toEqual([
      "respond",
      "default",
      "respond",
      "default",
    ]);
  });

  it("a seed makes probabilities reproducible", () => {
    const y = "seed: 42\nrules:\n  - respond: 503\n    probability: 0.5\n";
    Array.from({ length: 20 }, () => engine(y)).map((e) => e.decide(facts({ method: "OPTIONS" })).kind);
    const a = engine(y);
    const b = engine(y);
    const seqA = Array.from({ length: 30 }, () => a.decide(facts({ method: "OPTIONS" })).kind);
    const seqB = Array.from({ length: 30 }, () => b.decide(facts({ method: "OPTIONS" })).kind);
    expect(seqA).toEqual(seqB);
    expect(new Set(seqA)).toEqual(new Set(["respond", "default"]));
  });

  it("scenario state: requireState / setState, inspectable and resettable", () => {
    const e = engine(
      [
        "initialState: LoggedOut",
        "rules:",
        "  - match: { method: REGISTER }",
        "    requireState: LoggedOut",
        "    setState: LoggedIn",
        "    default: true",
        "  - match: { method: INVITE }",
        "    requireState: LoggedOut",
        "    respond: 403",
        "  - match: { method: INVITE }",
        "    requireState: LoggedIn",
        "    respond: 486",
      ].join("\n"),
    );
    expect(e.getState()).toBe("LoggedOut");
    expect(status(e.decide(facts()))).toBe(403);
    expect(e.decide(facts({ method: "REGISTER" })).kind).toBe("default");
    expect(e.getState()).toBe("LoggedIn");
    expect(status(e.decide(facts()))).toBe(486);
    e.reset();
    expect(e.getState()).toBe("LoggedOut");
  });
});

describe("sequences", () => {
  const seq = (scope: string, after = "stick") =>
    engine(
      `rules:\n  - match: { method: REGISTER }\n    sequence:\n      scope: ${scope}\n      after: ${after}\n      answers:\n        - respond: 503\n        - respond: 401\n        - respond: 200\n`,
    );
  const reg = (o: Req = {}) => facts({ method: "REGISTER", ...o });

  it("global, sticking at the last answer", () => {
    const e = seq("global");
    expect([1, 2, 3, 4, 5].map(() => status(e.decide(reg())))).toEqual([503, 401, 200, 200, 200]);
  });

  it("cycle starts again", () => {
    const e = seq("global", "cycle");
    expect([1, 2, 3, 4].map(() => status(e.decide(reg())))).toEqual([503, 401, 200, 503]);
  });

  it.each([
    ["call", { callId: "a@x" }, { callId: "b@x" }],
    ["from", { from: "<sip:alice@example.test>" }, { from: "<sip:bob@example.test>" }],
    ["aor", { to: "<sip:alice@mock.test>" }, { to: "<sip:carol@mock.test>" }],
    ["source", { source: "192.0.2.1" }, { source: "192.0.2.2" }],
  ] as Array<[string, Req, Req]>)("per %s: each key has its own position", (scope, one, two) => {
    const e = seq(scope);
    expect(status(e.decide(reg(one)))).toBe(503);
    expect(status(e.decide(reg(one)))).toBe(401);
    expect(status(e.decide(reg(two)))).toBe(503);
    expect(status(e.decide(reg(one)))).toBe(200);
  });

  it("the short form (a plain list) is global and sticks", () => {
    const e = engine("rules:\n  - sequence: [ { respond: 500 }, { respond: 200 } ]\n");
    expect([1, 2, 3].map(() => status(e.decide(facts({ method: "OPTIONS" }))))).toEqual([500, 200, 200]);
  });
});

describe("answers", () => {
  it("templates fill header values and bodies from the request", () => {
    const e = engine(
      [
        "rules:",
        "  - match: { method: MESSAGE }",
        "    respond: 200",
        '    headers: { X-From: "{{from.user}}", X-Call: "{{callId}}/{{cseq}}", X-Ua: "{{header.User-Agent}}", X-N: "{{counter}}", X-Src: "{{source.address}}:{{source.port}}", Date: "{{now.http}}" }',
        '    body: "hello {{from.displayName}} via {{transport}}"',
      ].join("\n"),
    );
    const d = e.decide(facts({ method: "MESSAGE", extra: ["User-Agent: Zoiper"] }));
    e.decide(facts({ method: "MESSAGE" }));
    const second = e.decide(facts({ method: "MESSAGE" }));
    expect(d).toMatchObject({
      final: {
        status: 200,
        headers: [
          ["X-From", "alice"],
          ["X-Call", "c1@example.test/5"],
          ["X-Ua", "Zoiper"],
          ["X-N", "1"],
          ["X-Src", "192.0.2.1:5060"],
          ["Date", "Thu, 26 Nov 2026 10:00:00 GMT"],
        ],
        body: { contentType: "text/plain", content: "hello Alice via udp" },
      },
    });
    expect(second.kind === "respond" && second.final?.headers?.find(([n]) => n === "X-N")?.[1]).toBe("3");
  });

  it("2xx and 183 to INVITE carry the SDP answer unless a body is given", () => {
    const e = engine(
      "rules:\n  - match: { method: INVITE }\n    steps: [ { send: 183 }, { wait: 1s }, { respond: 200 } ]\n",
    );
    expect(e.decide(facts())).toEqual({
      kind: "respond",
      rule: "test.yaml rule 1",
      steps: [{ send: { status: 183, body: "sdp" } }, { waitMs: 1000 }],
      final: { status: 200, body: "sdp" },
    });
  });

  it("a provisional answer to INVITE rings until CANCEL (no final)", () => {
    const e = engine("rules:\n  - match: { method: INVITE }\n    respond: 180\n");
    expect(e.decide(facts())).toEqual({
      kind: "respond",
      rule: "test.yaml rule 1",
      steps: [{ send: { status: 180 } }],
    });
  });

  it("delay becomes a wait before the final; a range picks within it", () => {
    const e = engine("rules:\n  - respond: 486\n    delay: { min: 100ms, max: 300ms }\n", () => 0.5);
    expect(e.decide(facts())).toMatchObject({ steps: [{ waitMs: 200 }], final: { status: 486 } });
  });

  it("dialACode answers code users and falls through for others", () => {
    const e = engine("rules:\n  - dialACode: true\n  - respond: 404\n");
    expect(e.decide(facts({ user: "486" }))).toMatchObject({ kind: "respond", final: { status: 486 } });
    expect(status(e.decide(facts({ user: "alice" })))).toBe(404);
  });

  it("faults: wire faults pass through, omitHeaders removes, drop decides", () => {
    const e = engine(
      "rules:\n  - match: { method: INVITE }\n    respond: 405\n    fault: { omitHeaders: [Allow], noRetransmit: true, duplicate: 2, tcp: close }\n  - match: { method: OPTIONS }\n    fault: { drop: 0.5 }\n",
      (() => {
        const r = [0.4, 0.6];
        return () => r.shift() ?? 0;
      })(),
    );
    expect(e.decide(facts())).toEqual({
      kind: "respond",
      rule: "test.yaml rule 1",
      steps: [],
      final: { status: 405, removeHeaders: ["Allow"] },
      fault: { noRetransmit: true, duplicate: 2, tcp: "close" },
    });
    expect(e.decide(facts({ method: "OPTIONS" }))).toEqual({ kind: "drop", rule: "test.yaml rule 2" });
    expect(e.decide(facts({ method: "OPTIONS" }))).toEqual({
      kind: "default",
      rule: "built-in (no rule matched)",
    });
  });
});
