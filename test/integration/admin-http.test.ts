/**
 * The admin HTTP API (startAdmin) driven with fetch while SIPp drives the
 * SIP side: bearer token, journal and its filters, calls, scenario swaps,
 * overrides, verify, registrations, reset, Prometheus metrics, RFC 9457
 * problem details, and the OpenAPI document checked operation by operation
 * against the running server.
 */
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AdminServer, startAdmin } from "../../src/control/admin.js";
import { OPENAPI } from "../../src/control/openapi.js";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import {
  answeredCallScenario,
  headerOfText,
  inviteFinalScenario,
  receivedResponses,
  requestScenario,
  runSipp,
  type SippResult,
} from "../peers/sipp.js";

const TOKEN = "s3cret";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const BUSY_YAML = fileURLToPath(new URL("../../scenarios/busy.yaml", import.meta.url));

let mock: SipMock;
let admin: AdminServer;

beforeEach(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    logger: silentLogger,
  });
  admin = await startAdmin(mock, { port: 0, token: TOKEN });
});
afterEach(async () => {
  await admin?.close();
  await mock?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON of any shape, narrowed by the assertions.
  readonly body: any;
}

/** One admin call (with the token unless `headers` says otherwise); bounded by a timeout. */
async function call(
  method: string,
  path: string,
  options: { body?: unknown; type?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const raw =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const res = await fetch(`${admin.url}${path}`, {
    method,
    headers: {
      ...AUTH,
      ...(raw !== undefined ? { "content-type": options.type ?? "application/json" } : {}),
      ...options.headers,
    },
    ...(raw !== undefined ? { body: raw } : {}),
    signal: AbortSignal.timeout(5000),
  });
  const type = res.headers.get("content-type") ?? "";
  // An event stream stays open: its headers are the answer.
  let text = "";
  if (type.startsWith("text/event-stream")) await res.body?.cancel();
  else text = await res.text();
  let body: unknown;
  if (/json/.test(type) && text !== "") body = JSON.parse(text);
  return { status: res.status, type, text, headers: res.headers, body };
}

/** Asserts an RFC 9457 problem with this status; returns its body. */
function expectProblem(r: Reply, status: number) {
  expect(r.status, r.text).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json\b/);
  expect(r.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  expect(r.body.title.length).toBeGreaterThan(0);
  expect(r.body.detail.length).toBeGreaterThan(0);
  return r.body as { title: string; status: number; detail: string; problems?: unknown[] };
}

function sipp(scenarioXml: string, transport: "udp" | "tcp" = "udp"): Promise<SippResult> {
  return runSipp({
    scenarioXml,
    target: `127.0.0.1:${mock.address(transport).port}`,
    transport: transport === "udp" ? "u1" : "t1",
  });
}

async function answeredCall(user = "alice", transport: "udp" | "tcp" = "udp"): Promise<SippResult> {
  const r = await sipp(answeredCallScenario(user), transport);
  expect(r.exitCode, r.summary).toBe(0);
  expect(receivedResponses(r)).toEqual(["100 INVITE", "180 INVITE", "200 INVITE", "200 BYE"]);
  return r;
}

async function options(user = "bob"): Promise<SippResult> {
  const r = await sipp(requestScenario("OPTIONS", user, { code: 200, reason: "OK" }));
  expect(r.exitCode, r.summary).toBe(0);
  return r;
}

/** SIPp INVITE to sip:alice@ that must get exactly this final response. */
async function inviteExpecting(code: number, reason: string): Promise<SippResult> {
  const r = await sipp(inviteFinalScenario("alice", { code, reason }));
  expect(r.exitCode, r.summary).toBe(0);
  expect(receivedResponses(r).filter((x) => x !== "100 INVITE")).toEqual([`${code} INVITE`]);
  return r;
}

function sippCallId(r: SippResult): string {
  const first = r.parsed.find((m) => m.direction === "sent");
  const callId = first ? headerOfText(first.text, "Call-ID") : undefined;
  if (!callId) throw new Error(`no Call-ID in SIPp's trace:\n${r.messages}`);
  return callId;
}

/** "direction status-or-method" of journal entries from the admin API. */
const flowOf = (entries: Array<{ kind: string; direction?: string; method?: string; status?: number }>) =>
  entries.map((e) =>
    e.kind === "media" || e.kind === "dtmf" ? e.kind : `${e.direction} ${e.status ?? e.method}`,
  );

type Operation = { security?: readonly unknown[]; responses: Record<string, { content?: object }> };
const OPERATIONS: Array<{ path: string; method: string; op: Operation }> = Object.entries(
  OPENAPI.paths,
).flatMap(([path, ops]) =>
  Object.entries(ops as Record<string, Operation>).map(([method, op]) => ({
    path,
    method: method.toUpperCase(),
    op,
  })),
);

describe("authentication and problem details", () => {
  it("GET /__admin/health answers without a token", async () => {
    const r = await call("GET", "/__admin/health", { headers: { authorization: "" } });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json\b/);
    expect(r.body).toEqual({
      status: "ok",
      listeners: mock.listeners,
      transactions: 0,
      dialogs: 0,
    });
    expect(r.body.listeners).toHaveLength(2);
  });

  it("everything else without the token, or with a wrong one, is 401 problem+json", async () => {
    const wrong = [
      {},
      { authorization: "Bearer s3cret-not" },
      { authorization: "Bearer S3CRET" },
      { authorization: "s3cret" },
      { authorization: "Basic czNjcmV0" },
      { authorization: "Bearer " },
    ];
    for (const path of [
      "/__admin/journal",
      "/__admin/calls",
      "/__admin/scenario",
      "/metrics",
      "/__admin/nope",
    ]) {
      for (const headers of wrong) {
        const r = await call("GET", path, { headers: { authorization: "", ...headers } });
        const p = expectProblem(r, 401);
        expect(p.title).toBe("Unauthorized");
        expect(p.detail).toContain("Bearer");
      }
    }
    // A state-changing call without the token changes nothing.
    mock.override({ method: "INVITE" }, { respond: 486 });
    expectProblem(await call("DELETE", "/__admin/overrides", { headers: { authorization: "" } }), 401);
    expectProblem(await call("POST", "/__admin/reset", { headers: { authorization: "" } }), 401);
    expect(mock.overrides.size).toBe(1);
  });

  it("a 401 challenges with WWW-Authenticate: Bearer (RFC 9110 15.5.2, RFC 6750 3)", async () => {
    const r = await call("GET", "/__admin/journal", { headers: { authorization: "" } });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate") ?? "(absent)").toMatch(/^Bearer\b/);
  });

  it("an unknown route is 404 problem+json pointing at the OpenAPI document", async () => {
    const p = expectProblem(await call("GET", "/__admin/nope"), 404);
    expect(p.title).toBe("Not Found");
    expect(p.detail).toBe("no such endpoint: GET /__admin/nope (see /__admin/openapi.json)");
    expectProblem(await call("GET", "/"), 404);
    expectProblem(await call("POST", "/__admin/overrides/o1/extra"), 404);
  });

  it("an oversize body is 413 problem+json, and the connection is then closed or still usable", async () => {
    // A raw connection declaring a 2 MiB body and sending 1.1 MiB of it: the
    // server answers 413 before reading the rest. Then either it said
    // Connection: close and closes (RFC 9112 9.6), or it keeps the
    // connection, reads the rest and answers the next request on it.
    const port = Number(new URL(admin.url).port);
    const socket = connect(port, "127.0.0.1");
    let got = "";
    let closed = false;
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
    });
    socket.on("close", () => {
      closed = true;
    });
    socket.on("error", () => {});
    const until = async (done: () => boolean, ms = 2000) => {
      const end = Date.now() + ms;
      while (!done() && Date.now() < end) await sleep(10);
      return done();
    };
    try {
      const total = 2 * 1024 * 1024;
      const first = 1100 * 1024;
      socket.write(
        `PUT /__admin/scenario HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/yaml\r\nContent-Length: ${total}\r\n\r\n`,
      );
      socket.write(Buffer.alloc(first, 0x23));
      expect(await until(() => /\r\n0\r\n\r\n|\}\n$/.test(got) || closed), got).toBe(true);
      const headEnd = got.indexOf("\r\n\r\n");
      const head = got.slice(0, headEnd);
      expect(head.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
      expect(head).toMatch(/\r\ncontent-type: application\/problem\+json/i);
      const body = got.slice(headEnd + 4);
      const json = body.includes("\r\n") ? body.split("\r\n")[1]! : body; // chunked: size line, data
      expect(JSON.parse(json)).toMatchObject({
        status: 413,
        title: "Payload Too Large",
        detail: "the body is larger than 1048576 octets",
      });
      expect(mock.scenario.name).toBe("dial-a-code");
      if (/\r\nconnection: *close\r\n/i.test(`${head}\r\n`)) {
        expect(await until(() => closed), "said Connection: close but kept the connection open").toBe(true);
      } else {
        got = "";
        socket.write(Buffer.alloc(total - first, 0x23));
        socket.write("GET /__admin/health HTTP/1.1\r\nHost: admin\r\n\r\n");
        const answered = await until(() => /^HTTP\/1\.1 200 /m.test(got) || closed);
        expect(
          answered && !closed,
          `413 said "${/\r\nconnection:[^\r]*/i.exec(`${head}\r\n`)?.[0]?.trim() ?? "(no Connection header)"}" but the next request on the connection got ${closed ? "the connection closed" : "no answer in 2 s"}: ${JSON.stringify(got.slice(0, 200))}`,
        ).toBe(true);
      }
    } finally {
      socket.destroy();
    }
  });
});

describe("journal and calls", () => {
  it("lists entries after SIPp traffic; method, code, callId, since, sinceId and direction filter; DELETE empties", async () => {
    const first = await answeredCall("alice");
    await sleep(5);
    const between = new Date().toISOString();
    const lastIdBefore = mock.journal.lastId;
    await sleep(5);
    const second = await options("bob");
    const callA = sippCallId(first);
    const callB = sippCallId(second);

    const all = await call("GET", "/__admin/journal");
    expect(all.status).toBe(200);
    expect(all.type).toMatch(/^application\/json\b/);
    expect(flowOf(all.body)).toEqual([
      "in INVITE",
      "out 100",
      "out 180",
      "out 200",
      "in ACK",
      "in BYE",
      // SIPp's call had SDP: its RTP statistics when the BYE ended its media.
      "media",
      "out 200",
      "in OPTIONS",
      "out 200",
    ]);
    const e0 = all.body[0];
    expect(e0).toMatchObject({
      id: expect.any(Number),
      direction: "in",
      transport: "udp",
      local: { address: "127.0.0.1", port: mock.address("udp").port },
      remote: { address: "127.0.0.1", port: first.localPort },
      kind: "request",
      method: "INVITE",
      callId: callA,
      retransmission: false,
    });
    expect(e0.raw).toMatch(/^INVITE sip:alice@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);

    // method: the requests and their responses (by CSeq).
    const invites = await call("GET", "/__admin/journal?method=INVITE");
    expect(flowOf(invites.body)).toEqual(["in INVITE", "out 100", "out 180", "out 200"]);
    expect(flowOf((await call("GET", "/__admin/journal?method=bye")).body)).toEqual(["in BYE", "out 200"]);
    // code
    const oks = await call("GET", "/__admin/journal?code=200");
    expect(oks.body.map((e: { cseq: string }) => e.cseq)).toEqual(["1 INVITE", "2 BYE", "1 OPTIONS"]);
    expect((await call("GET", "/__admin/journal?code=486")).body).toEqual([]);
    // callId
    const b = await call("GET", `/__admin/journal?callId=${encodeURIComponent(callB)}`);
    expect(flowOf(b.body)).toEqual(["in OPTIONS", "out 200"]);
    // direction
    const ins = await call("GET", "/__admin/journal?direction=in");
    expect(flowOf(ins.body)).toEqual(["in INVITE", "in ACK", "in BYE", "in OPTIONS"]);
    expect(flowOf((await call("GET", "/__admin/journal?direction=out")).body)).toHaveLength(5);
    // sinceId, since (ISO and epoch ms)
    const after = await call("GET", `/__admin/journal?sinceId=${lastIdBefore}`);
    expect(flowOf(after.body)).toEqual(["in OPTIONS", "out 200"]);
    expect(after.body[0].id).toBe(lastIdBefore + 1);
    expect(flowOf((await call("GET", `/__admin/journal?since=${encodeURIComponent(between)}`)).body)).toEqual(
      ["in OPTIONS", "out 200"],
    );
    expect((await call("GET", `/__admin/journal?since=${Date.parse(between)}`)).body).toHaveLength(2);
    expect((await call("GET", `/__admin/journal?since=${Date.now() + 60_000}`)).body).toEqual([]);
    // Filters combine.
    expect(
      flowOf((await call("GET", `/__admin/journal?direction=out&code=200&sinceId=${lastIdBefore}`)).body),
    ).toEqual(["out 200"]);

    // Bad queries.
    for (const [q, mention] of [
      ["code=abc", "code"],
      ["direction=sideways", "direction"],
      ["sinceId=-1", "sinceId"],
      ["since=yesterday-ish", "since"],
    ] as const) {
      const p = expectProblem(await call("GET", `/__admin/journal?${q}`), 400);
      expect(p.detail).toContain(mention);
    }
    expectProblem(await call("GET", "/__admin/calls?code=abc"), 400);

    const del = await call("DELETE", "/__admin/journal");
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expect((await call("GET", "/__admin/journal")).body).toEqual([]);
    expect(mock.journal.size).toBe(0);
  });

  it("GET /__admin/calls groups messages by Call-ID", async () => {
    const a = await answeredCall("alice");
    const b = await options("bob");
    const r = await call("GET", "/__admin/calls");
    expect(r.status).toBe(200);
    expect(r.body.map((c: { callId: string }) => c.callId)).toEqual([sippCallId(a), sippCallId(b)]);
    const [ca, cb] = r.body;
    expect(ca.flow).toEqual([
      "in INVITE",
      "out 100 Trying",
      "out 180 Ringing",
      "out 200 OK",
      "in ACK",
      "in BYE",
      "out 200 OK",
    ]);
    expect(cb.flow).toEqual(["in OPTIONS", "out 200 OK"]);
    expect(ca.messages).toBe(7);
    // Entries by id, matching the journal's.
    const ids = mock.journal.entries().map((e) => e.id);
    expect([...ca.entries, ...cb.entries]).toEqual(ids);
    expect(typeof ca.first).toBe("string");
    expect(typeof ca.last).toBe("string");
    // Filters apply to calls too.
    const onlyB = await call("GET", `/__admin/calls?callId=${encodeURIComponent(sippCallId(b))}`);
    expect(onlyB.body).toHaveLength(1);
    expect(onlyB.body[0].callId).toBe(sippCallId(b));
  });
});

describe("scenario", () => {
  const DECLINE =
    "name: swapped\nrules:\n  - name: decline all\n    match: { method: INVITE }\n    respond: 603\n";

  it("PUT YAML swaps the scenario; invalid YAML is a 400 with problems and the old one keeps answering; PUT JSON works", async () => {
    const put = await call("PUT", "/__admin/scenario", { body: DECLINE, type: "application/yaml" });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({ name: "swapped" });
    await inviteExpecting(603, "Decline");

    for (const bad of [
      "name: broken\nrules:\n  - name: nope\n    respond: 999\n",
      "name: broken\nrules: [\n",
      "name: broken\nrules:\n  - name: typo\n    match: { methd: INVITE }\n    respond: 486\n",
    ]) {
      const r = await call("PUT", "/__admin/scenario", { body: bad, type: "application/yaml" });
      const p = expectProblem(r, 400);
      expect(p.title).toBe("Invalid scenario");
      expect(Array.isArray(p.problems) && p.problems.length > 0, r.text).toBe(true);
      for (const problem of p.problems!) {
        expect(problem).toEqual({
          file: expect.any(String),
          line: expect.any(Number),
          col: expect.any(Number),
          message: expect.any(String),
          hint: expect.any(String),
        });
      }
    }
    const invalid = await call("PUT", "/__admin/scenario", {
      body: "name: broken\nrules:\n  - name: nope\n    respond: 999\n",
      type: "application/yaml",
    });
    expect(invalid.body.problems).toEqual([
      {
        file: "inline",
        line: 4,
        col: 14,
        message: '"respond": a SIP status code is 100..699',
        hint: expect.any(String),
      },
    ]);
    expect(mock.scenario.name).toBe("swapped");
    await inviteExpecting(603, "Decline");
    // GET still shows the one in force (and its source).
    const shown = await call("GET", "/__admin/scenario");
    expect(shown.body.name).toBe("swapped");
    expect(shown.body.source).toBe(DECLINE);

    const json = await call("PUT", "/__admin/scenario", {
      body: { name: "json", rules: [{ name: "busy", match: { method: "INVITE" }, respond: 486 }] },
    });
    expect(json.status, json.text).toBe(200);
    expect(json.body).toEqual({ name: "json" });
    await inviteExpecting(486, "Busy Here");
    // Broken JSON is a 400 too, and changes nothing.
    expectProblem(await call("PUT", "/__admin/scenario", { body: "{", type: "application/json" }), 400);
    await inviteExpecting(486, "Busy Here");
  });

  it("GET shows name, state and rules with applied counts; POST /scenario/reset zeroes them", async () => {
    mock.setScenario(BUSY_YAML);
    await inviteExpecting(486, "Busy Here");
    await inviteExpecting(486, "Busy Here");
    const r = await call("GET", "/__admin/scenario");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: "busy",
      state: expect.any(String),
      rules: [{ rule: 'busy rule 1 "busy"', applied: 2 }],
      expectations: [],
    });
    const reset = await call("POST", "/__admin/scenario/reset");
    expect(reset.status).toBe(204);
    expect(reset.text).toBe("");
    const after = await call("GET", "/__admin/scenario");
    expect(after.body.rules).toEqual([{ rule: 'busy rule 1 "busy"', applied: 0 }]);
    expect(after.body.state).toBe(r.body.state);
    // The journal is untouched by a scenario reset.
    expect(mock.requests({ method: "INVITE" })).toHaveLength(2);
  });
});

describe("overrides", () => {
  it("POST adds a one-shot 486 (201 with id); GET lists it; one INVITE uses it up; then calls are answered", async () => {
    const add = await call("POST", "/__admin/overrides", {
      body: { match: { method: "INVITE" }, respond: 486, times: 1 },
    });
    expect(add.status, add.text).toBe(201);
    expect(add.body).toMatchObject({
      id: expect.any(String),
      applied: 0,
      remaining: 1,
      rule: { match: { method: "INVITE" }, respond: 486, times: 1 },
    });
    const list = await call("GET", "/__admin/overrides");
    expect(list.body.map((o: { id: string }) => o.id)).toEqual([add.body.id]);

    await inviteExpecting(486, "Busy Here");
    expect((await call("GET", "/__admin/overrides")).body).toEqual([]);
    await answeredCall("alice");
  });

  it("DELETE /overrides/{id} removes one (204), an unknown id is a 404 problem, DELETE /overrides clears", async () => {
    const a = (
      await call("POST", "/__admin/overrides", { body: { match: { method: "INVITE" }, respond: 486 } })
    ).body;
    const b = (await call("POST", "/__admin/overrides", { body: { respond: 503 } })).body;
    expect((await call("GET", "/__admin/overrides")).body.map((o: { id: string }) => o.id)).toEqual([
      b.id,
      a.id,
    ]);
    // The unlimited 486 answers every INVITE while it stands... (b matches everything, is newer)
    const del = await call("DELETE", `/__admin/overrides/${encodeURIComponent(b.id)}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    await inviteExpecting(486, "Busy Here");
    await inviteExpecting(486, "Busy Here");
    const again = expectProblem(await call("DELETE", `/__admin/overrides/${encodeURIComponent(b.id)}`), 404);
    expect(again.detail).toContain(b.id);
    expectProblem(await call("DELETE", "/__admin/overrides/no-such-override"), 404);
    const clear = await call("DELETE", "/__admin/overrides");
    expect(clear.status).toBe(204);
    expect((await call("GET", "/__admin/overrides")).body).toEqual([]);
    await answeredCall("alice");
  });

  it("an invalid override is a 400 problem with a readable detail and adds nothing", async () => {
    const cases: Array<[unknown, string | RegExp]> = [
      [{ match: { method: "OPTIONS" }, respond: 180 }, /180 is provisional/],
      [{ match: { method: "INVITE" }, respond: 486, bogus: 1 }, 'unknown key "bogus"'],
      [{ match: { methd: "INVITE" }, respond: 486 }, 'unknown key "methd"; fix: did you mean "method"?'],
      [{ match: { method: "INVITE" }, respond: 999 }, /100\.\.699/],
      [{ match: { method: "INVITE" }, respond: 486, times: 0 }, "times must be a positive integer"],
      [{ match: { method: "INVITE" }, respond: 486, times: "once" }, "times must be a positive integer"],
    ];
    for (const [body, detail] of cases) {
      const p = expectProblem(await call("POST", "/__admin/overrides", { body }), 400);
      expect(p.title).toBe("Invalid override");
      if (typeof detail === "string") expect(p.detail).toContain(detail);
      else expect(p.detail).toMatch(detail);
    }
    expectProblem(
      await call("POST", "/__admin/overrides", { body: "{not json", type: "application/json" }),
      400,
    );
    expect((await call("GET", "/__admin/overrides")).body).toEqual([]);
  });

  it("a JSON body that is not an object (null) is a 400 problem, not a 500", async () => {
    expectProblem(await call("POST", "/__admin/overrides", { body: "null", type: "application/json" }), 400);
    expectProblem(await call("POST", "/__admin/verify", { body: "null", type: "application/json" }), 400);
  });
});

describe("verify, registrations, reset", () => {
  it("POST /verify: 200 {ok:true} when the count holds, 409 problem with the near misses when not", async () => {
    const a = await answeredCall("alice");
    const port = mock.address("udp").port;
    const ok = await call("POST", "/__admin/verify", {
      body: { match: { method: "INVITE", requestUri: { user: "^alice$" } }, times: 1 },
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ ok: true, received: 1 });
    expect(
      (await call("POST", "/__admin/verify", { body: { match: { method: "BYE" }, atLeast: 1, atMost: 1 } }))
        .body,
    ).toEqual({ ok: true, received: 1 });

    const miss = await call("POST", "/__admin/verify", {
      body: { match: { method: "INVITE", requestUri: { user: "^999$" } } },
    });
    const p = expectProblem(miss, 409);
    expect(p.title).toBe("Verification failed");
    const invite = mock.requests({ method: "INVITE" })[0]!;
    expect(p.detail.split("\n").slice(0, 4)).toEqual([
      `expected at least 1 request(s) matching {"method":"INVITE","requestUri":{"user":"^999$"}}, received 0`,
      "closest requests that did not match:",
      `  #${invite.id} INVITE sip:alice@127.0.0.1:${port} SIP/2.0 (Call-ID ${sippCallId(a)}): 1/2 conditions`,
      `    - requestUri {"user":"^999$"}: was "sip:alice@127.0.0.1:${port}"`,
    ]);
    const tooMany = expectProblem(
      await call("POST", "/__admin/verify", { body: { match: { method: "INVITE" }, times: 2 } }),
      409,
    );
    expect(tooMany.detail).toMatch(
      /^expected exactly 2 request\(s\) matching \{"method":"INVITE"\}, received 1\n/,
    );
  });

  it("POST /verify with an invalid pattern is a 400 problem (documented), not a 500", async () => {
    const p = expectProblem(
      await call("POST", "/__admin/verify", { body: { match: { methd: "INVITE" }, times: 1 } }),
      400,
    );
    expect(p.detail).toContain('unknown key "methd"');
  });

  it("GET /registrations after a SIPp REGISTER; POST /reset is 204 and empties the journal", async () => {
    expect((await call("GET", "/__admin/registrations")).body).toEqual([]);
    const r = await sipp(
      requestScenario("REGISTER", "carol", { code: 200, reason: "OK", headers: ["Contact"] }, [
        "Contact: <sip:carol@[local_ip]:[local_port];transport=[transport]>",
        "Expires: 120",
      ]),
    );
    expect(r.exitCode, r.summary).toBe(0);
    const regs = await call("GET", "/__admin/registrations");
    expect(regs.status).toBe(200);
    expect(regs.body).toEqual([
      {
        aor: "sip:carol@127.0.0.1",
        contacts: [{ uri: `sip:carol@127.0.0.1:${r.localPort};transport=UDP`, expires: expect.any(Number) }],
      },
    ]);
    const expires = regs.body[0].contacts[0].expires;
    expect(expires).toBeGreaterThan(0);
    expect(expires).toBeLessThanOrEqual(120);

    mock.override({ method: "INVITE" }, { respond: 486 });
    expect((await call("GET", "/__admin/journal")).body.length).toBeGreaterThan(0);
    const reset = await call("POST", "/__admin/reset");
    expect(reset.status).toBe(204);
    expect(reset.text).toBe("");
    expect((await call("GET", "/__admin/journal")).body).toEqual([]);
    expect((await call("GET", "/__admin/overrides")).body).toEqual([]);
    expect(mock.journal.size).toBe(0);
  });
});

describe("GET /metrics", () => {
  it("is Prometheus text with request and response counters matching the traffic, and the gauges", async () => {
    await answeredCall("alice");
    await options("bob");
    await options("bob");
    const busy = await sipp(inviteFinalScenario("486", { code: 486, reason: "Busy Here" }), "tcp");
    expect(busy.exitCode, busy.summary).toBe(0);
    mock.override({ method: "MESSAGE" }, { respond: 415 });
    await sleep(20);
    const r = await call("GET", "/metrics");
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4\b/);
    const text = r.text;
    const value = (series: string) => {
      const m = new RegExp(`^${series.replace(/[{}"]/g, "\\$&")} (\\d+)$`, "m").exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const busy100 = receivedResponses(busy).filter((x) => x === "100 INVITE").length;
    expect(value('sipmock_requests_received_total{method="INVITE"}')).toBe(2);
    expect(value('sipmock_requests_received_total{method="ACK"}')).toBe(2);
    expect(value('sipmock_requests_received_total{method="BYE"}')).toBe(1);
    expect(value('sipmock_requests_received_total{method="OPTIONS"}')).toBe(2);
    expect(value('sipmock_responses_sent_total{code="100"}')).toBe(1 + busy100);
    expect(value('sipmock_responses_sent_total{code="180"}')).toBe(1);
    expect(value('sipmock_responses_sent_total{code="200"}')).toBe(4);
    expect(value('sipmock_responses_sent_total{code="486"}')).toBe(1);
    expect(value('sipmock_responses_sent_total{code="415"}')).toBeUndefined();
    for (const [name, type] of [
      ["sipmock_requests_received_total", "counter"],
      ["sipmock_responses_sent_total", "counter"],
      ["sipmock_retransmissions_total", "counter"],
      ["sipmock_faults_injected_total", "counter"],
      ["sipmock_unparsable_messages_total", "counter"],
      ["sipmock_transactions_active", "gauge"],
      ["sipmock_dialogs_active", "gauge"],
      ["sipmock_journal_entries", "gauge"],
      ["sipmock_overrides_active", "gauge"],
      ["sipmock_uptime_seconds", "gauge"],
      ["process_resident_memory_bytes", "gauge"],
      ["nodejs_heap_size_used_bytes", "gauge"],
      ["nodejs_external_memory_bytes", "gauge"],
    ] as const) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S.*$`, "m"));
      expect(text).toMatch(new RegExp(`^# TYPE ${name} ${type}$`, "m"));
    }
    expect(value("sipmock_journal_entries")).toBe(mock.journal.size);
    expect(value("sipmock_overrides_active")).toBe(1);
    expect(value("sipmock_dialogs_active")).toBe(mock.activeDialogs);
    expect(value("sipmock_unparsable_messages_total")).toBe(0);
    // The test process's own memory: some MiB resident, a heap in use within it.
    const rss = value("process_resident_memory_bytes")!;
    expect(rss).toBeGreaterThan(16 * 1024 * 1024);
    expect(value("nodejs_heap_size_used_bytes")).toBeGreaterThan(1024 * 1024);
    expect(value("nodejs_heap_size_used_bytes")).toBeLessThan(rss);
    expect(value("nodejs_external_memory_bytes")).toBeGreaterThan(0);
    // Every non-comment line is `name{labels} value` or `name value`.
    for (const line of text.trimEnd().split("\n")) {
      if (line.startsWith("#")) continue;
      expect(line).toMatch(/^[a-z_]+(\{[a-z]+="[^"]*"\})? \d+$/);
    }
  });
});

describe("the OpenAPI document describes the server", () => {
  it("GET /__admin/openapi.json returns the document", async () => {
    const r = await call("GET", "/__admin/openapi.json");
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json\b/);
    expect(r.body).toEqual(JSON.parse(JSON.stringify(OPENAPI)));
    expect(r.body.openapi).toMatch(/^3\.1\./);
  });

  it("every documented operation answers, with the token, a status and content type the document lists", async () => {
    // Traffic first, so the journal and calls are not empty.
    await answeredCall("alice");
    await sleep(10);
    expect(OPERATIONS.length).toBeGreaterThanOrEqual(17);
    const bodies: Record<string, { body: unknown; type?: string }> = {
      "POST /__admin/verify": { body: { match: { method: "INVITE" }, atLeast: 0 } },
      "PUT /__admin/scenario": {
        body: "name: doc\nrules:\n  - name: busy\n    match: { method: INVITE }\n    respond: 486\n",
        type: "application/yaml",
      },
      "POST /__admin/overrides": { body: { match: { method: "INVITE" }, respond: 486, times: 1 } },
    };
    const seen: string[] = [];
    for (const { path, method, op } of OPERATIONS) {
      const key = `${method} ${path}`;
      let url = path;
      if (path.includes("{id}")) {
        const made = mock.override({ method: "OPTIONS" }, { respond: 503 });
        url = path.replace("{id}", encodeURIComponent(made.id));
      }
      const r = await call(method, url, bodies[key] ?? {});
      const documented = Object.keys(op.responses);
      expect(documented, `${key} answered ${r.status}: ${r.text.slice(0, 300)}`).toContain(String(r.status));
      const content = op.responses[String(r.status)]?.content as
        | Record<string, { schema?: unknown }>
        | undefined;
      if (content === undefined) {
        expect(r.text, `${key} ${r.status} documents no body`).toBe("");
      } else {
        const types = Object.keys(content);
        expect(
          types.some((t) => r.type.startsWith(t)),
          `${key}: ${r.type} not in ${types}`,
        ).toBe(true);
        const schema = content[r.type.split(";")[0]!]?.schema as
          | { type?: string; items?: { $ref?: string }; $ref?: string }
          | undefined;
        if (schema?.type === "array") expect(Array.isArray(r.body), key).toBe(true);
        if (schema?.type === "object") {
          expect(typeof r.body, key).toBe("object");
          expect(Array.isArray(r.body), key).toBe(false);
        }
        if (schema?.items?.$ref === "#/components/schemas/JournalRecord") {
          expect(r.body.length, key).toBeGreaterThan(0);
          const schemas = OPENAPI.components.schemas;
          for (const e of r.body) {
            const of =
              e.kind === "dtmf"
                ? schemas.DtmfEntry
                : e.kind === "media"
                  ? schemas.MediaEntry
                  : schemas.JournalEntry;
            for (const k of of.required) expect(e, `${key}: ${e.kind} ${k}`).toHaveProperty(k);
          }
        }
        if (schema?.$ref === "#/components/schemas/Problem") {
          for (const k of OPENAPI.components.schemas.Problem.required) expect(r.body).toHaveProperty(k);
        }
      }
      seen.push(`${key} ${r.status}`);
    }
    // The operations with a body did what they say (not a documented error).
    expect(seen).toEqual(
      expect.arrayContaining([
        "POST /__admin/verify 200",
        "PUT /__admin/scenario 200",
        "POST /__admin/overrides 201",
        "DELETE /__admin/overrides/{id} 204",
      ]),
    );
  });

  it("every operation needs the token exactly when the document says so", async () => {
    const mismatches: string[] = [];
    for (const { path, method, op } of OPERATIONS) {
      const url = path.replace("{id}", "o1");
      const needsToken = (op.security ?? OPENAPI.security).length > 0;
      const r = await call(method, url, { headers: { authorization: "" } });
      if ((r.status === 401) !== needsToken) {
        mismatches.push(
          `${method} ${path}: document says token ${needsToken ? "needed" : "not needed"}, got ${r.status}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("an undocumented path is 404, a documented path with an undocumented method is 405", async () => {
    expectProblem(await call("GET", "/__admin/undocumented"), 404);
    expectProblem(await call("GET", "/__admin/journal/1"), 404);
    const methods = ["GET", "PUT", "POST", "DELETE", "PATCH"];
    let checked = 0;
    for (const [path, ops] of Object.entries(OPENAPI.paths)) {
      const allowed = Object.keys(ops).map((m) => m.toUpperCase());
      for (const m of methods.filter((x) => !allowed.includes(x))) {
        const r = await call(m, path.replace("{id}", "o1"));
        const p = expectProblem(r, 405);
        expect(p.title).toBe("Method Not Allowed");
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it("a 405 lists the allowed methods in Allow (RFC 9110 15.5.6)", async () => {
    const r = await call("POST", "/__admin/journal");
    expect(r.status).toBe(405);
    const allow = (r.headers.get("allow") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .sort();
    expect(allow).toEqual(["DELETE", "GET"]);
  });
});

describe("a web page cannot drive the admin API", () => {
  it("a cross-origin request (Origin header) is refused with 403", async () => {
    const r = await call("POST", "/__admin/reset", { headers: { origin: "http://evil.example" } });
    expect(expectProblem(r, 403).detail).toBe("cross-origin requests to the admin API are refused");
  });

  it("another Host name (DNS rebinding) is refused with 403", async () => {
    // fetch will not send a foreign Host header; node:http will.
    const { request } = await import("node:http");
    const url = new URL(admin.url);
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: "/__admin/journal",
          headers: { host: "evil.example", ...AUTH },
        },
        (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body).detail).toBe('Host "evil.example" is not this admin API\'s address');
  });

  it("a text/plain body (a form post needs no preflight) is refused with 415", async () => {
    const r = await call("POST", "/__admin/overrides", { body: '{"respond": 486}', type: "text/plain" });
    expect(expectProblem(r, 415).detail).toBe("send application/json or application/yaml");
    expect(mock.overrides.all()).toEqual([]);
  });

  it("a scenario sent over the API cannot read files or the environment", async () => {
    process.env.SIPMOCK_TEST_SECRET = "do-not-leak";
    try {
      const env = await call("PUT", "/__admin/scenario", {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a scenario's ${VAR} placeholder, on purpose
        body: 'name: "${SIPMOCK_TEST_SECRET:-none}"\nrules: []\n',
        type: "application/yaml",
      });
      expect(env.status).toBe(200);
      expect(env.body.name).toBe("none");
      const file = await call("POST", "/__admin/overrides", {
        body: { respond: 200, body: { file: "/etc/hostname" } },
      });
      expect(expectProblem(file, 400).detail).toMatch(
        /body files can only be read by scenarios loaded from a file/,
      );
    } finally {
      delete process.env.SIPMOCK_TEST_SECRET;
    }
  });

  it("HEAD works like GET, and the Bearer scheme is case-insensitive", async () => {
    const head = await call("HEAD", "/__admin/journal");
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    const lower = await call("GET", "/__admin/overrides", { headers: { authorization: `bearer ${TOKEN}` } });
    expect(lower.status).toBe(200);
  });
});
