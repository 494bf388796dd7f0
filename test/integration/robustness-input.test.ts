/**
 * Issue 10 (input hardening) against the real server, the built CLI: every
 * input that once stalled it (test/corpus/stall) is answered within a time
 * budget, its memory stays bounded and it answers the next request;
 * catastrophic user regexes, deep or alias-bombed admin bodies, bodies of
 * the wrong type, oversized scenarios and an unprotected non-loopback admin
 * API are refused with a clear answer.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, startAdmin, startSipMock } from "../../src/index.js";
import { freeUdpPort, run, start, waitForOutput } from "../helpers/cli.js";
import { request, statusOf, tcpClient, udpClient } from "../helpers/wire-client.js";

/** Inputs that once stalled the server (issue 10), replayed as they were sent. */
const STALL = join(import.meta.dirname, "..", "corpus", "stall");
/**
 * Per input, wall time across process boundaries on a shared machine:
 * generous, yet each of these took 3 s (33 s) or more before the fix, and
 * takes milliseconds now.
 */
const BUDGET_MS = 2500;
/** The server's resident memory must stay well under this after each input. */
const MAX_RSS = 400 * 1024 * 1024;

function rssOf(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** Runs `fn` and returns how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

describe("the real server under adversarial input", () => {
  let server: Awaited<ReturnType<typeof start>>;
  let admin: string;
  let sipPort: number;

  beforeAll(async () => {
    sipPort = await freeUdpPort();
    server = await start([
      "serve",
      "--listen",
      `udp:127.0.0.1:${sipPort}`,
      "--listen",
      `tcp:127.0.0.1:${sipPort}`,
      // The issue's TCP case: a raised limit lets a 200 KB message be parsed.
      "--max-message-size",
      "300000",
      "--admin",
      "0",
      "--log-level",
      "warn",
    ]);
    await waitForOutput(server.output, /admin API on http:\/\/127\.0\.0\.1:\d+/);
    admin = /admin API on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.output())![1]!;
  });
  afterAll(() => {
    server?.child.kill("SIGKILL");
  });

  const target = () => ({ host: "127.0.0.1", port: sipPort });

  /** The server still answers: an OPTIONS gets its 200, and memory stayed bounded. */
  async function stillAnswers(): Promise<void> {
    const c = await udpClient(target());
    try {
      await c.send(request("OPTIONS", "alive", target(), { localPort: c.port }));
      expect(statusOf(await c.waitFor((m) => statusOf(m) >= 200, 2000))).toBe(200);
    } finally {
      await c.close();
    }
    expect(rssOf(server.child)).toBeLessThan(MAX_RSS);
  }

  const admin$ = (method: string, path: string, body?: string, type = "application/json") =>
    fetch(`${admin}${path}`, {
      method,
      ...(body !== undefined ? { body, headers: { "content-type": type } } : {}),
    }).then(async (r) => ({
      status: r.status,
      type: r.headers.get("content-type") ?? "",
      text: await r.text(),
    }));

  const udpFiles = readdirSync(STALL).filter((f) => f.startsWith("udp-"));
  it.each(udpFiles)("UDP %s: answered 400 within the budget, then the next request", async (file) => {
    const bytes = readFileSync(join(STALL, file));
    const c = await udpClient(target());
    try {
      // The corpus Via names port 5070; rport sends the answer to this client.
      const { value, ms } = await timed(async () => {
        await c.send(bytes);
        return c.waitFor((m) => statusOf(m) >= 400, 3000);
      });
      expect(statusOf(value)).toBe(400);
      expect(ms).toBeLessThan(BUDGET_MS);
    } finally {
      await c.close();
    }
    await stillAnswers();
  });

  it("TCP: a 200 KB unparsable message is answered 400 within the budget", async () => {
    const bytes = readFileSync(join(STALL, "tcp-to-open-angles-200k.bin"));
    const c = await tcpClient(target());
    try {
      const { value, ms } = await timed(async () => {
        await c.send(bytes);
        return c.waitFor((m) => statusOf(m) >= 400, 3000);
      });
      expect(statusOf(value)).toBe(400);
      expect(ms).toBeLessThan(BUDGET_MS);
    } finally {
      await c.close();
    }
    await stillAnswers();
  });

  it("an override matching ^(a+)+$ cannot freeze the server (RE2: linear time)", async () => {
    const created = await admin$(
      "POST",
      "/__admin/overrides",
      JSON.stringify({ match: { to: { user: "^(a+)+$" } }, respond: 486 }),
    );
    expect(created.status).toBe(201);
    const c = await udpClient(target());
    try {
      const user = `${"a".repeat(28)}!`;
      const { value, ms } = await timed(async () => {
        await c.send(request("OPTIONS", user, target(), { localPort: c.port }));
        return c.waitFor((m) => statusOf(m) >= 200, 3000);
      });
      // Not matched (the "!"), so the default answer; 28 a's took 12.5 s with backtracking.
      expect(statusOf(value)).toBe(200);
      expect(ms).toBeLessThan(BUDGET_MS);
      const hit = await timed(async () => {
        await c.send(request("OPTIONS", "a".repeat(28), target(), { localPort: c.port }));
        return c.waitFor((m) => statusOf(m) === 486, 3000);
      });
      expect(hit.ms).toBeLessThan(BUDGET_MS);
    } finally {
      await c.close();
      await admin$("DELETE", "/__admin/overrides");
    }
    const verify = await timed(() =>
      admin$("POST", "/__admin/verify", JSON.stringify({ match: { to: { user: "^(a+)+$" } }, atLeast: 1 })),
    );
    expect(verify.value.status, verify.value.text).toBe(200);
    expect(JSON.parse(verify.value.text)).toEqual({ ok: true, received: 1 });
    expect(verify.ms).toBeLessThan(BUDGET_MS);
    await stillAnswers();
  });

  it("a pattern RE2 cannot run (backreference, lookaround) is a 400 problem naming why", async () => {
    for (const [path, body] of [
      ["/__admin/overrides", { match: { to: { user: "^(a)\\1$" } }, respond: 486 }],
      ["/__admin/verify", { match: { from: { user: "(?=a)a" } } }],
    ] as const) {
      const r = await admin$("POST", path, JSON.stringify(body));
      expect(r.status, r.text).toBe(400);
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(r.text).detail).toMatch(/invalid regular expression .*RE2 syntax/);
    }
  });

  it("two PUT /__admin/scenario of 500,000 '[' get 400 problems within the budget; the server lives", async () => {
    const body = "[".repeat(500_000);
    for (const type of ["application/yaml", "application/json"]) {
      for (let i = 0; i < 2; i++) {
        const r = await timed(() => admin$("PUT", "/__admin/scenario", body, type));
        expect(r.value.status, r.value.text).toBe(400);
        expect(r.value.type).toMatch(/^application\/problem\+json/);
        expect(r.ms).toBeLessThan(BUDGET_MS);
      }
    }
    await stillAnswers();
  });

  it("a YAML alias bomb is a 400 problem, not a 500", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const bomb = `${levels.join("\n")}\nname: bomb\nrules: []\n`;
    for (const [method, path] of [
      ["PUT", "/__admin/scenario"],
      ["POST", "/__admin/overrides"],
    ] as const) {
      const r = await timed(() => admin$(method, path, bomb, "application/yaml"));
      expect(r.value.status, r.value.text).toBe(400);
      expect(r.value.type).toMatch(/^application\/problem\+json/);
      expect(r.ms).toBeLessThan(BUDGET_MS);
    }
    await stillAnswers();
  });

  it("a text/plain body gets 415 on every endpoint, even one that reads no body", async () => {
    for (const [method, path] of [
      ["PUT", "/__admin/scenario"],
      ["POST", "/__admin/reset"],
      ["DELETE", "/__admin/journal"],
    ] as const) {
      const r = await admin$(method, path, "name: x\nrules: []\n", "text/plain");
      expect(r.status, `${method} ${path}`).toBe(415);
      expect(r.type).toMatch(/^application\/problem\+json/);
    }
  });

  it("a body announced above 1 MiB is refused 413 before it is read", async () => {
    const r = await admin$("PUT", "/__admin/scenario", "x".repeat(1024 * 1024 + 1), "application/yaml");
    expect(r.status).toBe(413);
    expect(r.type).toMatch(/^application\/problem\+json/);
  });
});

describe("scenario files are bounded (validate, serve)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sipmock-bounds-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rules = (n: number) =>
    `name: many\nrules:\n${Array.from({ length: n }, (_, i) => `  - match: { requestUri: { user: "u${i}" } }\n    respond: 486\n`).join("")}`;

  it("a 50 MB scenario is refused at once with file:1:1 and the fix, by validate and serve", () => {
    const file = join(dir, "huge.yaml");
    writeFileSync(file, `name: huge\nrules:\n${"  # padding\n".repeat(5_000_000)}`);
    const v = run(["validate", file]);
    expect(v.status).toBe(1);
    expect(v.stderr).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:1:1: scenario is \\d+ octets, more than the 4194304 accepted; fix: .*--max-scenario-size\\n$`,
      ),
    );
    const s = run(["serve", "--listen", "udp:127.0.0.1:0", "--scenario", file]);
    expect(s.status).toBe(1);
    expect(s.stderr).toMatch(/huge\.yaml:1:1: scenario is \d+ octets, more than the 4194304 accepted/);
  });

  it("more rules than --max-rules is one clear error; the flag raises the bound", () => {
    const file = join(dir, "many.yaml");
    writeFileSync(file, rules(10_001));
    const v = run(["validate", file]);
    expect(v.status).toBe(1);
    expect(v.stderr).toMatch(/many\.yaml:2:1: 10001 rules, more than the 10000 accepted; fix: .*--max-rules/);
    const raised = run(["validate", "--max-rules", "20000", file]);
    expect(raised.stderr).toBe("");
    expect(raised.stdout).toBe(`${file}: ok (10001 rules)\n`);
    const lowered = run(["validate", "--max-scenario-size", "1000", file]);
    expect(lowered.stderr).toMatch(/more than the 1000 accepted/);
  });
});

describe("--admin on an address other than loopback", () => {
  it("refuses to start without --admin-token, starts with --admin-insecure", async () => {
    const refused = run(["serve", "--listen", "udp:127.0.0.1:0", "--admin", "0.0.0.0:0"]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /^sipmock: --admin 0\.0\.0\.0:0 is reachable from other machines: give --admin-token/,
    );
    const port = await freeUdpPort();
    const open = await start([
      "serve",
      "--listen",
      `udp:127.0.0.1:${port}`,
      "--admin",
      "0.0.0.0:0",
      "--admin-insecure",
    ]);
    try {
      await waitForOutput(open.output, /admin API on http:\/\/0\.0\.0\.0:\d+/);
    } finally {
      open.child.kill("SIGKILL");
    }
  });
});

describe("every bad admin body gets a 4xx problem, never a 500", () => {
  it("random JSON and YAML values, and random match blocks, on every endpoint that reads a body", async () => {
    const mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const admin = await startAdmin(mock, { port: 0 });
    const bad: string[] = [];
    const send = async (method: string, path: string, body: string, type: string) => {
      const r = await fetch(`${admin.url}${path}`, { method, body, headers: { "content-type": type } });
      const text = await r.text();
      const problem = (r.headers.get("content-type") ?? "").startsWith("application/problem+json");
      if (r.status >= 500 || (r.status >= 400 && !problem)) {
        bad.push(`${method} ${path} ${body.slice(0, 200)} -> ${r.status} ${text.slice(0, 200)}`);
      }
    };
    try {
      const routes = [
        ["PUT", "/__admin/scenario"],
        ["POST", "/__admin/overrides"],
        ["POST", "/__admin/verify"],
        ["POST", "/__admin/calls/x/reinvite"],
        ["POST", "/__admin/registrations/alice/call"],
        ["POST", "/__admin/registrations/alice/notify"],
      ] as const;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.jsonValue({ maxDepth: 6 }),
          fc.constantFrom("application/json", "application/yaml"),
          async ([method, path], value, type) => send(method, path, JSON.stringify(value) ?? "null", type),
        ),
        { numRuns: 200 },
      );
      const keys = ["method", "to", "from", "requestUri", "headers", "body", "source", "transport"];
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 })),
          fc.jsonValue({ maxDepth: 2 }),
          async (match, respond) => {
            await send("POST", "/__admin/overrides", JSON.stringify({ match, respond }), "application/json");
            await send("POST", "/__admin/verify", JSON.stringify({ match }), "application/json");
            const scenario = JSON.stringify({ name: "fuzz", rules: [{ match, respond }] });
            await send("PUT", "/__admin/scenario", scenario, "application/json");
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      await admin.close();
      await mock.close();
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
