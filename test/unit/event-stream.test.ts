/**
 * EventStream (GET /__admin/events) on a real loopback HTTP server: it holds
 * no journal subscription while nobody listens, pings, and drops a client
 * that stops reading while the others get every entry.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { setImmediate as turn } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { EventStream } from "../../src/control/event-stream.js";
import { HttpProblem } from "../../src/control/http-problem.js";
import { Journal } from "../../src/control/journal.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function serve(
  stream: EventStream,
  after?: number,
  opened?: (res: import("node:http").ServerResponse) => void,
): Promise<number> {
  server = createServer((req, res) => {
    try {
      stream.open(req, res, after);
      opened?.(res);
    } catch (e) {
      if (!(e instanceof HttpProblem)) throw e;
      res.writeHead(e.status, e.headers);
      res.end(e.message);
    }
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return (server.address() as AddressInfo).port;
}

/** A client that reads everything; resolves its text once `until` holds. */
function reader(port: number) {
  let text = "";
  const waiters = new Set<() => void>();
  const req = request({ host: "127.0.0.1", port, path: "/" }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (d: string) => {
      text += d;
      for (const w of [...waiters]) w();
    });
  });
  req.end();
  return {
    text: () => text,
    until: (test: (t: string) => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (test(text)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      }),
    close: () => req.destroy(),
  };
}

function entry(journal: Journal, raw: string) {
  return journal.add({
    time: new Date().toISOString(),
    direction: "in",
    transport: "udp",
    local: { address: "127.0.0.1", port: 5060 },
    remote: { address: "127.0.0.1", port: 5070 },
    raw,
    kind: "request",
    method: "OPTIONS",
    retransmission: false,
  });
}

describe("EventStream", () => {
  it("subscribes to the journal only while a client is connected", async () => {
    const journal = new Journal();
    let active = 0;
    const subscribe = journal.subscribe.bind(journal);
    journal.subscribe = (l) => {
      active++;
      const stop = subscribe(l);
      return () => {
        active--;
        return stop();
      };
    };
    const stream = new EventStream(journal);
    const port = await serve(stream);
    entry(journal, "OPTIONS sip:a@x SIP/2.0\r\n\r\n");
    expect(active).toBe(0);
    const a = reader(port);
    await a.until((t) => t.startsWith("retry:"));
    expect(active).toBe(1);
    entry(journal, "OPTIONS sip:b@x SIP/2.0\r\n\r\n");
    await a.until((t) => t.includes("id: 2\nevent: entry\n"));
    expect(a.text()).not.toContain("id: 1\n");
    a.close();
    while (stream.size > 0) await turn();
    expect(active).toBe(0);
  });

  it("sends a comment ping every pingMs", async () => {
    const stream = new EventStream(new Journal(), { pingMs: 20 });
    const a = reader(await serve(stream));
    await a.until((t) => (t.match(/^: ping\n\n/gm) ?? []).length >= 2);
    a.close();
  });

  it("drops a client that stops reading; a reading one gets every entry in order", async () => {
    const journal = new Journal(1000, 1024 * 1024 * 1024);
    const stream = new EventStream(journal, { maxBufferedBytes: 256 * 1024 });
    const port = await serve(stream);
    const good = reader(port);
    await good.until((t) => t.startsWith("retry:"));
    // A raw client that asks and then never reads.
    const stalled = connect(port, "127.0.0.1");
    stalled.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stalled.pause();
    while (stream.size < 2) await turn();
    const big = "x".repeat(256 * 1024);
    const count = 120;
    for (let i = 1; i <= count; i++) {
      entry(journal, `OPTIONS sip:${i}@x SIP/2.0\r\nX-Pad: ${big}\r\n\r\n`);
      await turn();
      await turn();
    }
    await good.until((t) => t.includes(`id: ${count}\n`));
    expect(stream.dropped).toBe(1);
    expect(stream.size).toBe(1);
    const ids = [...good.text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    stalled.destroy();
    good.close();
  });

  it("at most maxClients streams: the next one gets 503 with Retry-After", async () => {
    const stream = new EventStream(new Journal(10, 1024 * 1024), { maxClients: 2 });
    const port = await serve(stream);
    const a = reader(port);
    const b = reader(port);
    await a.until((t) => t.startsWith("retry:"));
    await b.until((t) => t.startsWith("retry:"));
    const third = await new Promise<{ status: number; retryAfter: string | undefined; body: string }>(
      (resolve) => {
        request({ host: "127.0.0.1", port, path: "/" }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (body += d));
          res.on("end", () =>
            resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string, body }),
          );
        }).end();
      },
    );
    expect(third.status).toBe(503);
    expect(third.retryAfter).toBe("5");
    expect(third.body).toMatch(/2 event streams are open already/);
    expect(stream.size).toBe(2);
    a.close();
    b.close();
  });

  it("replays a large journal in chunks as the client reads; a paused client is not dropped and gets all in order", async () => {
    const journal = new Journal(1000, 1024 * 1024 * 1024);
    const big = "x".repeat(100 * 1024);
    const count = 60; // 6 MB of journal, a 1 MiB bound
    for (let i = 1; i <= count; i++) entry(journal, `OPTIONS sip:${i}@x SIP/2.0\r\nX-Pad: ${big}\r\n\r\n`);
    const stream = new EventStream(journal, { maxBufferedBytes: 1024 * 1024 });
    const buffered: number[] = [];
    const port = await serve(stream, 0, (res) => buffered.push(res.writableLength));
    let text = "";
    let resume: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      const req = request({ host: "127.0.0.1", port, path: "/" }, (res) => {
        res.setEncoding("utf8");
        res.pause();
        resume = () => {
          res.on("data", (d: string) => {
            text += d;
            if (text.includes(`id: ${count + 1}\n`)) {
              req.destroy();
              resolve();
            }
          });
          res.resume();
        };
      });
      req.end();
    });
    while (stream.size < 1) await turn();
    // open() queued one chunk, not the whole journal
    expect(buffered[0]).toBeLessThan(1024 * 1024);
    entry(journal, "OPTIONS sip:live@x SIP/2.0\r\n\r\n");
    for (let i = 0; i < 20; i++) await turn();
    expect(stream.dropped).toBe(0);
    resume();
    await done;
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: count + 1 }, (_, i) => i + 1));
    expect(stream.dropped).toBe(0);
  });
});
