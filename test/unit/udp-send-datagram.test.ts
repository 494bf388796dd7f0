/**
 * The UDP listener's sendDatagram() (issue 12): the hot path's answers
 * leave without a Promise or a closure per message, and what cannot be sent
 * is returned, never thrown (a Via may name port 0). Real sockets on
 * loopback.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { type Flow, type Listener, NOT_SENT } from "../../src/transport/types.js";
import { listenUdp, UdpTooLargeError } from "../../src/transport/udp.js";

let listener: Listener | undefined;
let peer: Socket | undefined;
afterEach(async () => {
  await listener?.close();
  peer?.close();
  listener = undefined;
  peer = undefined;
});

async function setUp(): Promise<{ flow: (port: number) => Flow; received: Promise<Buffer> }> {
  listener = await listenUdp("127.0.0.1", 0, () => {}, { maxMessageSize: 65_535 });
  peer = createSocket("udp4");
  const received = new Promise<Buffer>((resolve) => peer!.once("message", resolve));
  await new Promise<void>((r) => peer!.bind(0, "127.0.0.1", () => r()));
  const local = { address: "127.0.0.1", port: listener.info.port };
  return { flow: (port) => ({ transport: "udp", local, remote: { address: "127.0.0.1", port } }), received };
}

describe("UDP sendDatagram", () => {
  it("sends the bytes and then says how the send ended", async () => {
    const { flow, received } = await setUp();
    const done = new Promise<Error | null>((resolve) => {
      const refused = listener!.sendDatagram!(
        flow(peer!.address().port),
        Buffer.from("SIP/2.0 200 OK\r\n\r\n"),
        resolve,
      );
      expect(refused).toBeUndefined();
    });
    expect((await received).toString()).toBe("SIP/2.0 200 OK\r\n\r\n");
    expect(await done).toBeNull();
  });

  it("says beforehand what it could not send (too large; nothing once closed), and returns what Node refuses at once", async () => {
    const { flow } = await setUp();
    const never = () => expect.unreachable("done is not called for what was not sent");
    const to = flow(peer!.address().port);
    expect(listener!.checkDatagram!(to, Buffer.alloc(65_507))).toBeUndefined();
    const big = listener!.checkDatagram!(to, Buffer.alloc(70_000));
    expect(big).toBeInstanceOf(UdpTooLargeError);
    expect((big as Error).message).toMatch(/70000 octets do not fit in a UDP datagram/);
    // A Via may name port 0: Node throws at once; it is returned, not thrown.
    const zero = listener!.sendDatagram!(flow(0), Buffer.from("x"), never);
    expect(zero).toBeInstanceOf(Error);
    expect((zero as Error).message).toMatch(/port/i);
    await listener!.close();
    expect(listener!.checkDatagram!(to, Buffer.from("x"))).toBe(NOT_SENT);
  });
});
