/**
 * The answers to the messages of one TCP segment leave in one write (a
 * writev), not one system call each (issue 12): SIPp and proxies pipeline
 * many requests per segment. Real sockets on loopback.
 */
import { connect, Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { listenTcp } from "../../src/transport/tcp.js";
import type { Listener } from "../../src/transport/types.js";

const options = (i: number) =>
  [
    `OPTIONS sip:bench@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-batch-${i}`,
    "From: <sip:a@127.0.0.1>;tag=a",
    "To: <sip:bench@127.0.0.1>",
    `Call-ID: batch-${i}`,
    `CSeq: ${i + 1} OPTIONS`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");

let listener: Listener | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await listener?.close();
  listener = undefined;
});

describe("TCP answers to one segment's messages", () => {
  it("leave in one writev, complete and in order", async () => {
    const N = 20;
    listener = await listenTcp(
      "127.0.0.1",
      0,
      (inbound) => {
        // Answer each message at once, as the transaction layer does.
        const req = inbound.bytes.toString("latin1");
        const callId = /Call-ID: (\S+)/.exec(req)![1];
        void listener!.send(inbound.flow, Buffer.from(`SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n`));
      },
      { maxMessageSize: 65535 },
    );
    const client = connect(listener.info.port, "127.0.0.1");
    await new Promise<void>((r) => client.once("connect", () => r()));
    const fromServer = (s: Socket) => s.remotePort === client.localPort;
    const writes = { single: 0, vectored: 0 };
    const proto = Socket.prototype as unknown as Record<"_write" | "_writev", (...a: unknown[]) => void>;
    const write = proto._write;
    const writev = proto._writev;
    vi.spyOn(proto, "_write").mockImplementation(function (this: Socket, ...a: unknown[]) {
      if (fromServer(this)) writes.single++;
      return write.apply(this, a);
    });
    vi.spyOn(proto, "_writev").mockImplementation(function (this: Socket, ...a: unknown[]) {
      if (fromServer(this)) writes.vectored++;
      return writev.apply(this, a);
    });
    let got = "";
    const all = new Promise<void>((resolve) =>
      client.on("data", (d: Buffer) => {
        got += d.toString("latin1");
        if (got.split("SIP/2.0 200 OK").length - 1 === N) resolve();
      }),
    );
    client.write(Array.from({ length: N }, (_, i) => options(i)).join(""));
    await all;
    client.destroy();
    const order = [...got.matchAll(/Call-ID: batch-(\d+)/g)].map((m) => Number(m[1]));
    expect(order).toEqual(Array.from({ length: N }, (_, i) => i));
    // One writev when the 20 arrive in one segment (loopback): fewer writes than answers in any case.
    expect(writes.single).toBe(0);
    expect(writes.vectored).toBeGreaterThanOrEqual(1);
    expect(writes.vectored).toBeLessThan(N / 2);
  });

  it("more than 1 MiB of answers to one segment's requests all arrive (the cork is no unread peer)", async () => {
    const N = 430;
    const body = "x".repeat(6000);
    const failures: string[] = [];
    let answered = 0;
    listener = await listenTcp(
      "127.0.0.1",
      0,
      (inbound) => {
        listener!
          .send(inbound.flow, Buffer.from(`SIP/2.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`))
          .then(
            () => answered++,
            (e: Error) => failures.push(e.message),
          );
      },
      { maxMessageSize: 65535 },
    );
    const client = connect(listener.info.port, "127.0.0.1");
    await new Promise<void>((r) => client.once("connect", () => r()));
    let received = 0;
    const all = new Promise<void>((resolve) => {
      client.on("data", (d: Buffer) => {
        received += d.length;
        if (received >= N * (body.length + 40)) resolve();
      });
      // The listener closing the connection ends the wait too (and fails below).
      client.on("close", () => resolve());
    });
    client.write(Array.from({ length: N }, (_, i) => options(i)).join("")); // ~100 KB in one write
    await all;
    client.destroy();
    expect(failures).toEqual([]);
    expect(answered).toBe(N);
    expect(received).toBe(N * (body.length + 40));
  });
});
