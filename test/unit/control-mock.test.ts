/**
 * startSipMock() composed of its parts, driven through the test seams (a
 * manual scheduler, an in-memory listener): inbound dispatch, the UA's
 * answer to an unparsable request sent by the control layer, the journal
 * reading the parse the transport made, verify/waitFor on it, shutdown.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/control/logger.js";
import { type SipMock, startSipMock } from "../../src/control/sipmock.js";
import { parseDatagram } from "../../src/sip/parser.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import type { Flow, InboundHandler, Listener } from "../../src/transport/types.js";

const LOCAL = { address: "127.0.0.1", port: 5060 };
const PEER = { address: "192.0.2.7", port: 5070 };
const FLOW: Flow = { transport: "udp", local: LOCAL, remote: PEER };

interface Harness {
  mock: SipMock;
  sent: string[];
  logs: string[];
  inject(text: string): void;
  /** The ParseResult the transport handed up for the last message injected. */
  lastResult(): ReturnType<typeof parseDatagram>;
}

let open: SipMock | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function harness(): Promise<Harness> {
  const ms = 0;
  const scheduler = new Scheduler(
    { now: () => ms },
    (e) => {
      throw e;
    },
    true,
  );
  const sent: string[] = [];
  const logs: string[] = [];
  let onInbound: InboundHandler | undefined;
  let last: ReturnType<typeof parseDatagram> | undefined;
  const logger = createLogger("info", false, (line) => logs.push(line));
  const mock = await startSipMock({
    listen: ["udp:127.0.0.1:5060"],
    logger,
    seams: {
      scheduler,
      now: () => 1_800_000_000_000 + ms,
      openListener: async (spec, handler): Promise<Listener> => {
        onInbound = handler;
        return {
          info: { transport: spec.transport, address: spec.host, port: spec.port },
          send: async (flow, bytes, onWire) => {
            onWire?.(flow);
            sent.push(bytes.toString("latin1"));
          },
          close: async () => {},
        };
      },
    },
  });
  open = mock;
  return {
    mock,
    sent,
    logs,
    inject(text) {
      const bytes = Buffer.from(text, "latin1");
      last = parseDatagram(bytes);
      onInbound!({ flow: FLOW, bytes, result: last, receivedAt: 1_800_000_000_000 + ms });
    },
    lastResult: () => last!,
  };
}

function options(callId: string, extra: string[] = [], method = "OPTIONS"): string {
  return [
    `${method} sip:200@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-${callId}`,
    "Max-Forwards: 70",
    "From: <sip:alice@example.test>;tag=a1",
    "To: <sip:200@127.0.0.1>",
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    ...extra,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

describe("startSipMock through its seams", () => {
  it("an unparsable request: the UA's 400 is sent on its flow and both are journaled", async () => {
    const h = await harness();
    h.inject(options("bad-1").replace("Call-ID: bad-1\r\n", ""));
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.split("\r\n")[0]).toBe("SIP/2.0 400 Bad Request: missing Call-ID header field");
    const [inbound, outbound] = h.mock.journal.entries();
    expect(inbound).toMatchObject({ direction: "in", kind: "request", method: "OPTIONS", cseq: "1 OPTIONS" });
    expect(outbound).toMatchObject({
      direction: "out",
      kind: "response",
      status: 400,
      transaction: "z9hG4bK-bad-1/OPTIONS",
      remote: PEER,
    });
  });

  it("what cannot be answered (an ACK, no Via, garbage) is dropped with one log line each", async () => {
    const h = await harness();
    h.inject(options("bad-2", [], "ACK").replace("Call-ID: bad-2\r\n", ""));
    h.inject(options("bad-3").replace(/Via: [^\r]*\r\n/, ""));
    h.inject("\x00\x01garbage\r\n\r\n");
    expect(h.sent).toEqual([]);
    expect(
      h.logs.filter((l) => l.includes("dropped unanswerable message from udp:192.0.2.7:5070")),
    ).toHaveLength(3);
    expect(h.mock.journal.entries().map((e) => e.kind)).toEqual(["request", "request", "unparsable"]);
  });

  it("verify and waitFor match the request as it arrived, parsed by the SIP parser from the journaled bytes", async () => {
    const h = await harness();
    const waiting = h.mock.waitFor({ method: "OPTIONS", headers: { "User-Agent": "^Zoiper" } });
    h.inject(options("ok-1", ["User-Agent: Zoiper 5"]));
    const entry = await waiting;
    expect(entry.callId).toBe("ok-1");
    expect(h.mock.journal.requestOf(entry)?.headers.get("User-Agent")).toBe("Zoiper 5");
    expect(h.mock.verify({ method: "OPTIONS" }, { times: 1 })).toEqual([entry]);
    expect(h.sent.map((s) => s.split("\r\n")[0])).toEqual(["SIP/2.0 200 OK"]);
    expect(h.mock.journal.entries().map((e) => `${e.direction} ${e.method ?? e.status}`)).toEqual([
      "in OPTIONS",
      "out 200",
    ]);
    // Both at the seams' wall clock: what was received and what was sent.
    const at = new Date(1_800_000_000_000).toISOString();
    expect(h.mock.journal.entries().map((e) => e.time)).toEqual([at, at]);
  });

  it("close() rejects a pending waitFor; a new request while draining gets 503 with Retry-After", async () => {
    const h = await harness();
    const waiting = h.mock.waitFor({ method: "INVITE" }, { timeout: 60_000 });
    const closing = h.mock.close(50);
    await expect(waiting).rejects.toThrow("the mock was closed");
    h.inject(options("late-1"));
    await closing;
    expect(h.sent.map((s) => s.split("\r\n")[0])).toEqual(["SIP/2.0 503 Service Unavailable"]);
    expect(h.sent[0]).toMatch(/\r\nRetry-After: \d+\r\n/);
  });
});
