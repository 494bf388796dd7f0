/**
 * Ended calls' ephemeral RTP/RTCP pairs are reused (no socket/bind/close per
 * call) only after a quarantine of QUARANTINE_MS with nothing received; a
 * datagram reaching a pooled pair (a late packet of the old call, a peer
 * still sending) closes the pair for good, so it never reaches a new call.
 * Time is the allocator's clock, moved by hand.
 */
import { spawnSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualMediaClock } from "../../src/media/clock.js";
import { IDLE_MS, MAX_POOLED, PairPool, QUARANTINE_MS } from "../../src/media/pair-pool.js";
import { PortAllocator, type SocketPair } from "../../src/media/ports.js";
import { harness, Peer, rtpPacket, until } from "../fixtures/media/harness.js";

let t = 0;
const allocators: PortAllocator[] = [];
const open: SocketPair[] = [];

function allocator(): PortAllocator {
  const a = new PortAllocator(undefined, () => t);
  allocators.push(a);
  return a;
}

async function take(a: PortAllocator): Promise<SocketPair> {
  const pair = await a.allocate("127.0.0.1");
  open.push(pair);
  return pair;
}

async function peer(): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return s;
}

afterEach(() => {
  for (const a of allocators.splice(0)) a.close();
  for (const p of open.splice(0)) {
    for (const s of [p.rtp, p.rtcp]) {
      try {
        s.close();
      } catch {
        // closed already
      }
    }
  }
  t = 0;
});

describe("RTP/RTCP pair reuse", () => {
  it("reuses a quiet pair only once its quarantine is over, same sockets and ports", async () => {
    const a = allocator();
    const first = await take(a);
    a.release(first);
    t += QUARANTINE_MS - 1;
    const during = await take(a);
    expect(during.port).not.toBe(first.port);
    t += 1;
    const after = await take(a);
    expect(after).toBe(first);
    expect(after.rtp.address()).toMatchObject({ address: "127.0.0.1", port: first.port });
    expect(after.rtcp.address()).toMatchObject({ address: "127.0.0.1", port: first.port + 1 });
  });

  it("closes a pooled pair that receives an RTP or RTCP datagram: the old call's packets never reach a new call", async () => {
    const a = allocator();
    const p = await peer();
    try {
      for (const which of ["rtp", "rtcp"] as const) {
        const pair = await take(a);
        a.release(pair);
        const closed = once(pair.rtp, "close");
        p.send(
          Buffer.from("late packet of the old call"),
          pair.port + (which === "rtcp" ? 1 : 0),
          "127.0.0.1",
        );
        await closed;
        t += QUARANTINE_MS;
        const next = await take(a);
        expect(next).not.toBe(pair);
        expect(next.port).not.toBe(pair.port);
        // The old port is closed, not held: it can be bound again.
        const again = createSocket("udp4");
        await new Promise<void>((r) => again.bind(pair.port, "127.0.0.1", () => r()));
        again.close();
        a.release(next);
        t += QUARANTINE_MS;
        expect(await take(a)).toBe(next);
      }
    } finally {
      p.close();
    }
  });

  it("delivers a reused pair's datagrams to its new owner only", async () => {
    const a = allocator();
    const pair = await take(a);
    const old: string[] = [];
    pair.owner = {
      onRtp: (m) => old.push(m.toString()),
      onRtcp: (m) => old.push(m.toString()),
      onSocketError: () => {},
    };
    a.release(pair);
    t += QUARANTINE_MS;
    expect(await take(a)).toBe(pair);
    const got: string[] = [];
    const arrived = new Promise<void>((r) => {
      const note = (what: string) => {
        got.push(what);
        if (got.length === 2) r();
      };
      pair.owner = {
        onRtp: (m) => note(`rtp ${m}`),
        onRtcp: (m) => note(`rtcp ${m}`),
        onSocketError: () => {},
      };
    });
    const p = await peer();
    try {
      p.send("new call", pair.port, "127.0.0.1");
      p.send("new call", pair.port + 1, "127.0.0.1");
      await arrived;
    } finally {
      p.close();
    }
    expect(got.sort()).toEqual(["rtcp new call", "rtp new call"]);
    expect(old).toEqual([]);
  });

  it("keeps at most its maximum of pairs, oldest out first", async () => {
    expect(MAX_POOLED).toBeGreaterThanOrEqual(1024);
    const a = allocator();
    const pairs: SocketPair[] = [];
    for (let i = 0; i < 3; i++) pairs.push(await take(a));
    const pool = new PairPool(() => t, QUARANTINE_MS, 2);
    expect(pairs.map((p) => pool.put(p))).toEqual([true, true, false]);
    expect(pool.size).toBe(2);
    expect(pool.take("127.0.0.1")).toBeUndefined();
    expect(pool.take("::1")).toBeUndefined();
    t += QUARANTINE_MS;
    expect(pool.take("127.0.0.1")).toBe(pairs[0]);
    expect(pool.take("127.0.0.1")).toBe(pairs[1]);
    expect(pool.take("127.0.0.1")).toBeUndefined();
  });

  it("close() closes the pooled pairs, and pairs released after it", async () => {
    const a = allocator();
    const pairs: SocketPair[] = [];
    for (let i = 0; i < 3; i++) pairs.push(await take(a));
    const closedAll = Promise.all(pairs.map((p) => once(p.rtcp, "close")));
    for (const p of pairs) a.release(p);
    a.close();
    await closedAll;
    t += QUARANTINE_MS;
    const next = await take(a);
    expect(pairs).not.toContain(next);
    // Released after close(): closed at once, not pooled.
    const done = new Promise<void>((r) => a.release(next, r));
    await done;
    expect(next.closed).toBe(true);
  });

  it("gives the pooled pairs' descriptors back when a bind runs out of them (EMFILE)", () => {
    // A child under `ulimit -n 100`: 30 pooled pairs, then 30 new ones while the pool cannot lend.
    const fixture = join(import.meta.dirname, "../fixtures/media/fd-limit.ts");
    const r = spawnSync(
      "bash",
      ["-c", `ulimit -n 100 && exec "${process.execPath}" --import tsx "${fixture}" 30`],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ got: 30 });
  });

  it("closes the pairs nobody took for IDLE_MS, with one timer, and keeps the ones taken since", async () => {
    const clock = new ManualMediaClock(5_000);
    const a = new PortAllocator(
      undefined,
      () => clock.now(),
      (ms, fn) => clock.setTimer(ms, fn),
    );
    allocators.push(a);
    expect(IDLE_MS).toBe(60_000);
    const [p1, p2, p3] = [await take(a), await take(a), await take(a)];
    const closed2 = once(p2.rtp, "close");
    for (const p of [p1, p2, p3]) a.release(p);
    expect(clock.pending).toBe(1);
    // p1 reused at 30 s and released again: idle from then, not from its first release.
    clock.advance(30_000);
    expect(await take(a)).toBe(p1);
    a.release(p1);
    expect(clock.pending).toBe(1);
    clock.advance(IDLE_MS - 30_000 - 1);
    expect([p1, p2, p3].map((p) => p.closed)).toEqual([false, false, false]);
    // p2 and p3 have been idle for IDLE_MS: closed, their ports free again; p1 stays pooled.
    clock.advance(1);
    expect([p1, p2, p3].map((p) => p.closed)).toEqual([false, true, true]);
    await closed2;
    await bindWhenFree(p3.port).then((s) => s.close());
    expect(clock.pending).toBe(1);
    clock.advance(30_000 - 1);
    expect(p1.closed).toBe(false);
    clock.advance(1);
    expect(p1.closed).toBe(true);
    // Nothing left pooled: no timer armed, and a new call binds afresh.
    expect(clock.pending).toBe(0);
    const next = await take(a);
    expect([p1, p2, p3]).not.toContain(next);
  });

  it("close() cancels the idle sweep", async () => {
    const clock = new ManualMediaClock();
    const a = new PortAllocator(
      undefined,
      () => clock.now(),
      (ms, fn) => clock.setTimer(ms, fn),
    );
    allocators.push(a);
    a.release(await take(a));
    expect(clock.pending).toBe(1);
    a.close();
    expect(clock.pending).toBe(0);
  });

  it("gives a range's pairs no pool: each call binds, each release closes", async () => {
    const base = 20000 + Math.floor(Math.random() * 20000) * 2;
    const a = new PortAllocator([base, base + 3], () => t);
    allocators.push(a);
    const first = await take(a);
    const closed = once(first.rtp, "close");
    a.release(first);
    await closed;
    t += QUARANTINE_MS;
    const second = await take(a);
    expect(second).not.toBe(first);
    expect(second.port).toBe(base + 2);
  });
});

describe("sessions on reused pairs (engine, manual clock)", () => {
  it("a call on a reused pair sends from it and counts only its own packets; the old call's late RTP closes the pair instead", async () => {
    const { clock, engine } = harness();
    const peer = await Peer.open();
    const negotiated = { codec: "PCMU" as const, payloadType: 0, remote: peer.endpoint };
    const plan = { action: { kind: "silence" as const } };
    // Call 1: the peer sends one packet, the call ends (RTCP BYE), its pair is pooled.
    const one = await engine.allocate("127.0.0.1");
    one.start(negotiated, plan);
    await peer.send(rtpPacket(0, 1, 160, 0x1111, new Uint8Array(160)), one.local);
    await until(() => one.stats().received.packets === 1, "call 1's packet");
    await one.close();
    clock.advance(QUARANTINE_MS);
    // Call 2 gets call 1's pair: same port, a fresh session (nothing received yet).
    const two = await engine.allocate("127.0.0.1");
    expect(two.local.port).toBe(one.local.port);
    expect(two.stats().received.packets).toBe(0);
    two.start(negotiated, plan);
    const before = peer.received.length;
    clock.advance(20);
    await peer.waitFor(before + 1);
    expect(peer.from.at(-1)).toEqual({ address: "127.0.0.1", port: two.local.port });
    await peer.send(rtpPacket(0, 7, 960, 0x2222, new Uint8Array(160)), two.local);
    await until(() => two.stats().received.packets === 1, "call 2's packet");
    await two.close();
    // Call 2's peer still sends after the BYE: the pooled pair closes, call 3 binds another.
    await peer.send(rtpPacket(0, 8, 1120, 0x2222, new Uint8Array(160)), two.local);
    // Its port is free again once the pair closed: bound here (so no bind of call 3 gets it by chance).
    const rebound = await bindWhenFree(two.local.port);
    try {
      clock.advance(QUARANTINE_MS);
      const three = await engine.allocate("127.0.0.1");
      expect(three.local.port).not.toBe(two.local.port);
      expect(three.stats().received.packets).toBe(0);
      await three.close();
    } finally {
      rebound.close();
    }
  });
});

describe("idle pairs (engine, manual clock)", () => {
  it("the engine closes a pair no call took for IDLE_MS: its port can be bound again", async () => {
    const { clock, engine } = harness();
    const call = await engine.allocate("127.0.0.1");
    const port = call.local.port;
    await call.close();
    // Pooled: still bound.
    const probe = createSocket("udp4");
    const inUse = await new Promise<boolean>((resolve) => {
      probe.once("error", () => resolve(true));
      probe.bind(port, "127.0.0.1", () => resolve(false));
    });
    probe.close();
    expect(inUse).toBe(true);
    clock.advance(IDLE_MS);
    (await bindWhenFree(port)).close();
  });
});

/** Binds the port once it is free (retrying on EADDRINUSE), bounded by 10 s. */
async function bindWhenFree(port: number): Promise<Socket> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = createSocket("udp4");
    const bound = await new Promise<boolean>((resolve) => {
      s.once("error", () => resolve(false));
      s.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (bound) return s;
    s.close();
    if (Date.now() > deadline) throw new Error(`port ${port} still bound`);
    await new Promise((r) => setImmediate(r));
  }
}
