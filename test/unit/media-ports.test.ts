/**
 * RTP/RTCP pairs from ephemeral ports (RFC 3550 11): RTP even, RTCP the next
 * odd port, both really bound. The kernel hands out even and odd ephemeral
 * ports at random, so 64 pairs take both ways (an even first port kept for
 * RTP, an odd one kept for RTCP) with near certainty.
 */
import { createSocket, type Socket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { PortAllocator } from "../../src/media/ports.js";

const PAIRS = 64;

async function closeAll(sockets: Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
}

describe("ephemeral RTP/RTCP pairs", () => {
  it("binds RTP on an even port and RTCP on the next odd one, every pair distinct", async () => {
    const ports = new PortAllocator();
    const sockets: Socket[] = [];
    const seen = new Set<number>();
    try {
      for (let i = 0; i < PAIRS; i++) {
        const pair = await ports.allocate("127.0.0.1");
        sockets.push(pair.rtp, pair.rtcp);
        expect(pair.port % 2).toBe(0);
        expect(pair.rtp.address()).toMatchObject({ address: "127.0.0.1", port: pair.port });
        expect(pair.rtcp.address()).toMatchObject({ address: "127.0.0.1", port: pair.port + 1 });
        expect(seen.has(pair.port)).toBe(false);
        seen.add(pair.port);
      }
    } finally {
      await closeAll(sockets);
    }
  });

  it("gives IPv6 pairs the same way, and the sockets reach an IPv4 literal and a name", async () => {
    const ports = new PortAllocator();
    const v6 = await ports.allocate("::1");
    const v4 = await ports.allocate("127.0.0.1");
    const peer = createSocket("udp4");
    try {
      expect(v6.port % 2).toBe(0);
      expect(v6.rtcp.address()).toMatchObject({ address: "::1", port: v6.port + 1 });
      await new Promise<void>((r) => peer.bind(0, "127.0.0.1", () => r()));
      const got: string[] = [];
      const arrived = new Promise<void>((r) =>
        peer.on("message", (m) => {
          got.push(m.toString());
          if (got.length === 2) r();
        }),
      );
      const port = peer.address().port;
      v4.rtp.send("literal", port, "127.0.0.1");
      v4.rtcp.send("name", port, "localhost");
      await arrived;
      expect(got.sort()).toEqual(["literal", "name"]);
    } finally {
      await closeAll([v6.rtp, v6.rtcp, v4.rtp, v4.rtcp, peer]);
    }
  });
});
