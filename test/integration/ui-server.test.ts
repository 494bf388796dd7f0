/**
 * The web UI's server side over real HTTP (no browser): the page shell and
 * its assets under a strict Content-Security-Policy, the token as ?token=
 * for the page and the event stream only, same-origin requests allowed and
 * cross-origin ones refused, and /__admin/events streaming the journal as
 * Server-Sent Events while SIP requests arrive over UDP.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AdminServer, startAdmin } from "../../src/control/admin.js";
import type { JournalEntry } from "../../src/control/journal.js";
import { UI_CSP } from "../../src/control/ui-server.js";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { request, statusOf, udpClient } from "../helpers/wire-client.js";

const TOKEN = "t0ken-for-the-ui";
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let mock: SipMock;
let admin: AdminServer;

beforeEach(async () => {
  mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
  admin = await startAdmin(mock, { port: 0, token: TOKEN });
});
afterEach(async () => {
  await admin?.close();
  await mock?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${admin.url}${path}`, { headers, redirect: "manual", signal: AbortSignal.timeout(5000) });

function expectUiHeaders(res: Response): void {
  expect(res.headers.get("content-security-policy")).toBe(CSP);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
}

/** One SIP OPTIONS over UDP, answered. */
async function options(user: string, extra: string[] = []): Promise<void> {
  const udp = { host: "127.0.0.1", port: mock.address("udp").port };
  const c = await udpClient(udp);
  try {
    await c.send(request("OPTIONS", user, udp, { localPort: c.port, extra }));
    await c.waitFor((m) => statusOf(m) === 200);
  } finally {
    await c.close();
  }
}

interface SseEvent {
  readonly event?: string;
  readonly id?: string;
  readonly data?: string;
  readonly comment?: string;
  readonly retry?: string;
}

/** An open event stream: the events parsed so far, and a wait for the next matching one. */
function openStream(path: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = "";
  return new Promise<{
    res: IncomingMessage;
    events: SseEvent[];
    next(test: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
    close(): void;
  }>((resolve, reject) => {
    const req = httpRequest(`${admin.url}${path}`, { headers }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: Record<string, string> = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) e.comment = line.slice(1).trim();
            else {
              const colon = line.indexOf(":");
              e[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, "");
            }
          }
          events.push(e);
          end = buffer.indexOf("\n\n");
        }
        for (const w of [...waiters]) w();
      });
      resolve({
        res,
        events,
        next: (test, timeoutMs = 5000) =>
          new Promise<SseEvent>((ok, fail) => {
            const check = () => {
              const hit = events.find(test);
              if (hit) {
                waiters.delete(check);
                clearTimeout(timer);
                ok(hit);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no such event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the page and its assets", () => {
  it("GET /__admin/ui?token= is the page shell: #app, the data element with mode live and the token, the app's script and style sheet", async () => {
    const res = await get(`/__admin/ui?token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expectUiHeaders(res);
    const html = await res.text();
    expect(html).toContain('<div id="app"></div>');
    expect(html).toContain('<link rel="stylesheet" href="ui/app.css">');
    expect(html).toContain('<script src="ui/app.js"></script>');
    const data = /<script id="sipmock-data" type="application\/json">([^<]*)<\/script>/.exec(html);
    expect(JSON.parse(data![1]!)).toEqual({ mode: "live", api: "/__admin", token: TOKEN });
    // No inline script or style the policy would have to allow.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toMatch(/<style|style=|\son\w+=/);
  });

  it("the token: a Bearer header works too, no or a wrong ?token= is 401, and ?token= opens nothing but the page and the stream", async () => {
    expect((await get("/__admin/ui", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    for (const path of [
      "/__admin/ui",
      `/__admin/ui?token=${TOKEN}x`,
      "/__admin/ui?token=",
      "/__admin/events",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="sipmock"');
      const problem = (await res.json()) as { detail: string };
      expect(problem.detail).toBe(
        `open ${path.split("?")[0]}?token=<token> or send Authorization: Bearer <token> (serve --admin-token)`,
      );
      // Errors carry the policy too.
      expectUiHeaders(res);
    }
    for (const path of ["/__admin/journal", "/__admin/calls", "/__admin/registrations", "/metrics"]) {
      expect((await get(`${path}?token=${TOKEN}`)).status, path).toBe(401);
    }
  });

  it("app.js and app.css need no token, have their types, nosniff and the policy", async () => {
    for (const [path, type] of [
      ["/__admin/ui/app.js", "text/javascript; charset=utf-8"],
      ["/__admin/ui/app.css", "text/css; charset=utf-8"],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expectUiHeaders(res);
      expect((await res.text()).length).toBeGreaterThan(0);
    }
  });

  it("/__admin/ui/ redirects to /__admin/ui (its relative links resolve from there), keeping the query", async () => {
    const res = await get(`/__admin/ui/?token=${TOKEN}`);
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe(`/__admin/ui?token=${TOKEN}`);
  });

  it("every admin response, JSON included, carries the policy", async () => {
    const res = await get("/__admin/journal", { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expectUiHeaders(res);
    expect(UI_CSP).toBe(CSP);
  });
});

describe("Origin and Host", () => {
  const post = (path: string, headers: Record<string, string>) =>
    fetch(`${admin.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      signal: AbortSignal.timeout(5000),
    });

  it("the UI's own POST (Origin: this very origin) is served; another origin, or null, is a 403", async () => {
    const self = new URL(admin.url).origin;
    expect((await post("/__admin/reset", { origin: self })).status).toBe(204);
    for (const origin of [
      "http://evil.example",
      "null",
      `${self}.evil.example`,
      self.replace("http:", "https:"),
    ]) {
      const res = await post("/__admin/reset", { origin });
      expect(res.status, origin).toBe(403);
    }
  });

  it("a foreign Host (DNS rebinding) is refused on the page and the stream even with the token", async () => {
    for (const path of [`/__admin/ui?token=${TOKEN}`, `/__admin/events?token=${TOKEN}`]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${admin.url}${path}`, { headers: { host: "rebound.example:80" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
      expect(status, path).toBe(403);
    }
  });
});

describe("GET /__admin/events", () => {
  it("streams every new journal entry as `event: entry` with its id, in order, with the rule that answered", async () => {
    const stream = await openStream(`/__admin/events?token=${TOKEN}`);
    try {
      expect(stream.res.statusCode).toBe(200);
      expect(stream.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      expect(stream.res.headers["content-security-policy"]).toBe(CSP);
      expect(stream.res.headers["cache-control"]).toBe("no-store");
      await stream.next((e) => e.retry !== undefined);
      await options("alice");
      await options("bob", ["X-Evil: <script>alert(1)</script>"]);
      await stream.next((e) => e.event === "entry" && JSON.parse(e.data!).id === 4);
      const entries = stream.events
        .filter((e) => e.event === "entry")
        .map((e) => ({ id: e.id, entry: JSON.parse(e.data!) as JournalEntry }));
      expect(entries.map((e) => e.id)).toEqual(["1", "2", "3", "4"]);
      // Exactly what the journal API gives.
      expect(entries.map((e) => e.entry)).toEqual(JSON.parse(JSON.stringify(mock.journal.entries())));
      expect(entries.map((e) => `${e.entry.direction} ${e.entry.method ?? e.entry.status}`)).toEqual([
        "in OPTIONS",
        "out 200",
        "in OPTIONS",
        "out 200",
      ]);
      expect(entries[0]!.entry.rule).toBeDefined();
      expect(entries[2]!.entry.raw).toContain("X-Evil: <script>alert(1)</script>");
    } finally {
      stream.close();
    }
  });

  it("a Bearer header works too; DELETE /__admin/journal sends `event: reset` and the stream goes on", async () => {
    const stream = await openStream("/__admin/events", { authorization: `Bearer ${TOKEN}` });
    try {
      expect(stream.res.statusCode).toBe(200);
      await options("alice");
      await stream.next((e) => e.event === "entry" && e.id === "2");
      const del = await fetch(`${admin.url}/__admin/journal`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(del.status).toBe(204);
      await stream.next((e) => e.event === "reset");
      await options("carol");
      const after = await stream.next((e) => e.event === "entry" && e.id === "3");
      expect(JSON.parse(after.data!).raw).toMatch(/^OPTIONS sip:carol@/);
      expect(stream.events.map((e) => e.event ?? (e.retry ? "retry" : e.comment))).toEqual([
        "retry",
        "entry",
        "entry",
        "reset",
        "entry",
        "entry",
      ]);
    } finally {
      stream.close();
    }
  });

  it("closing the admin server ends open streams (it does not wait for the browser)", async () => {
    const stream = await openStream(`/__admin/events?token=${TOKEN}`);
    await stream.next((e) => e.retry !== undefined);
    const ended = new Promise<void>((resolve) => stream.res.once("close", () => resolve()));
    await admin.close();
    await ended;
  });

  it("Last-Event-ID (a reconnecting browser) or ?sinceId= replays the entries after it first", async () => {
    await options("alice");
    await options("bob");
    const byHeader = await openStream(`/__admin/events?token=${TOKEN}`, { "last-event-id": "2" });
    const byQuery = await openStream(`/__admin/events?token=${TOKEN}&sinceId=3`);
    try {
      await byHeader.next((e) => e.id === "4");
      await byQuery.next((e) => e.id === "4");
      expect(byHeader.events.filter((e) => e.event === "entry").map((e) => e.id)).toEqual(["3", "4"]);
      expect(byQuery.events.filter((e) => e.event === "entry").map((e) => e.id)).toEqual(["4"]);
      await options("carol");
      await byQuery.next((e) => e.id === "6");
      expect(byQuery.events.filter((e) => e.event === "entry").map((e) => e.id)).toEqual(["4", "5", "6"]);
    } finally {
      byHeader.close();
      byQuery.close();
    }
    const bad = await get(`/__admin/events?token=${TOKEN}&sinceId=x`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });
});
