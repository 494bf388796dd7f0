/**
 * The wire's datagram path (issue 12): an answer over UDP is journaled and
 * logged before it leaves, as every send is (a test reading the log after
 * its peer got the answer must find the line there); what cannot be sent
 * is logged, not journaled; shutdown waits for datagrams in flight.
 */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/control/logger.js";
import type { Recorder } from "../../src/control/mock/recorder.js";
import { Wire } from "../../src/control/mock/wire.js";
import { type Flow, type Listener, NOT_SENT } from "../../src/transport/types.js";

const flow: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "127.0.0.1", port: 5062 },
};
const answer = Buffer.from("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");

function setUp(check: ReturnType<NonNullable<Listener["checkDatagram"]>>, thrown?: Error) {
  const order: string[] = [];
  const lines: string[] = [];
  let done: ((err: Error | null) => void) | undefined;
  const recorder = {
    sent: () => {
      order.push("journaled");
      return undefined;
    },
  } as unknown as Recorder;
  const wire = new Wire(
    createLogger("warn", false, (l) => lines.push(l)),
    recorder,
  );
  const listener: Listener = {
    info: { transport: "udp", address: "127.0.0.1", port: 5060 },
    send: async () => {
      order.push("send()");
    },
    checkDatagram: () => check,
    sendDatagram: (_f, _b, d) => {
      order.push("left");
      done = d;
      return thrown;
    },
    close: async () => {},
  };
  wire.add(listener);
  return { wire, order, lines, finish: (err: Error | null) => done?.(err) };
}

describe("Wire datagrams", () => {
  it("journal an answer before it leaves, and shutdown waits until the socket says it went", async () => {
    const t = setUp(undefined);
    t.wire.send(flow, answer, false);
    expect(t.order).toEqual(["journaled", "left"]);
    let flushed = false;
    const flushing = t.wire.flush(5_000).then(() => {
      flushed = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(flushed).toBe(false);
    t.finish(null);
    await flushing;
    expect(flushed).toBe(true);
  });

  it("log what cannot be sent, without journaling it; say nothing once closed", () => {
    const big = setUp(new Error("70000 octets do not fit in a UDP datagram (at most 65507)"));
    big.wire.send(flow, answer, false);
    expect(big.order).toEqual([]);
    expect(big.lines.join("\n")).toMatch(/send to .* failed: 70000 octets do not fit/);
    const closed = setUp(NOT_SENT);
    closed.wire.send(flow, answer, false);
    expect([closed.order, closed.lines]).toEqual([[], []]);
    const refused = setUp(undefined, new Error("Port should be > 0 and < 65536. Received 0."));
    refused.wire.send(flow, answer, false);
    expect(refused.order).toEqual(["journaled", "left"]);
    expect(refused.lines.join("\n")).toMatch(/failed: Port should be > 0/);
  });

  it("keep the Promise path for sends whose failure someone waits for (client transactions)", () => {
    const t = setUp(undefined);
    t.wire.send(flow, answer, false, () => {});
    expect(t.order).toEqual(["send()"]);
  });
});
