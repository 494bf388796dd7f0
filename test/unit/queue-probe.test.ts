/**
 * The UDP receive-queue probe (src/transport/queue-probe.ts) on a manual
 * clock: what it sends, when, and the delay it reports from the probes that
 * come back, those that do not, and datagrams that only look like probes.
 */
import { describe, expect, it } from "vitest";
import { PROBE_LOST_MS, PROBE_SIZE, QueueProbe, SATURATED } from "../../src/transport/queue-probe.js";

const PORT = 5060;

function rig() {
  let now = 1000;
  let utilization = 0;
  const sent: Buffer[] = [];
  const dones: Array<(err: Error | null) => void> = [];
  const reports: string[] = [];
  const probe = new QueueProbe({
    now: () => now,
    send: (b, done) => {
      sent.push(b);
      dones.push(done);
    },
    utilization: () => utilization,
    nonce: Buffer.from("0123456789abcdef", "hex"),
    report: (m) => reports.push(m),
  });
  return {
    probe,
    sent,
    dones,
    reports,
    advance: (ms: number) => (now += ms),
    load: (u: number) => (utilization = u),
    /** The last probe sent comes out of the queue now. */
    back: () => probe.take(sent.at(-1)!, PORT, PORT),
  };
}

describe("receive-queue probe", () => {
  it("reports nothing until a probe came back, then the time the last one spent in the queue", () => {
    const r = rig();
    r.probe.start();
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.length).toBe(PROBE_SIZE);
    expect(r.sent[0]![0]).toBe(0);
    r.advance(5);
    // The path is not known to work yet: an age means nothing.
    expect(r.probe.delayMs()).toBe(0);
    expect(r.back()).toBe(true);
    expect(r.probe.delayMs()).toBe(5);
  });

  it("sends a probe only when the loop was saturated over the last interval, and forgets the delay when it was not", () => {
    const r = rig();
    r.probe.start();
    r.back();
    r.load(SATURATED - 0.01);
    r.probe.tick();
    expect(r.sent).toHaveLength(1);
    expect(r.probe.delayMs()).toBe(0);
    r.load(SATURATED);
    r.probe.tick();
    expect(r.sent).toHaveLength(2);
    r.advance(700);
    r.back();
    expect(r.probe.delayMs()).toBe(700);
    // Still saturated: the next interval measures again; the last sample holds meanwhile.
    r.probe.tick();
    expect(r.sent).toHaveLength(3);
    expect(r.probe.delayMs()).toBe(700);
    r.advance(30);
    r.back();
    expect(r.probe.delayMs()).toBe(30);
    // Idle at some time in the interval: the queue was empty then.
    r.advance(800);
    r.back();
    r.load(0.5);
    r.probe.tick();
    expect(r.probe.delayMs()).toBe(0);
    expect(r.sent).toHaveLength(3);
  });

  it("counts a probe still in the queue by its age: what is read now arrived before it", () => {
    const r = rig();
    r.probe.start();
    r.back();
    r.load(1);
    r.probe.tick();
    expect(r.sent).toHaveLength(2);
    r.advance(400);
    expect(r.probe.delayMs()).toBe(400);
    r.advance(200);
    expect(r.probe.delayMs()).toBe(600);
    // One probe in the queue at a time.
    r.probe.tick();
    expect(r.sent).toHaveLength(2);
  });

  it("takes a probe not back after PROBE_LOST_MS as dropped by a full queue: its age is the delay, and a new one goes", () => {
    const r = rig();
    r.probe.start();
    r.back();
    r.load(1);
    r.probe.tick();
    const lost = r.sent.at(-1)!;
    r.advance(PROBE_LOST_MS - 1);
    r.probe.tick();
    expect(r.sent).toHaveLength(2);
    r.advance(1);
    r.probe.tick();
    expect(r.sent).toHaveLength(3);
    expect(r.probe.delayMs()).toBe(PROBE_LOST_MS);
    // The lost one read late is a probe (not SIP) but says nothing: the new one is awaited.
    r.advance(50);
    expect(r.probe.take(lost, PORT, PORT)).toBe(true);
    expect(r.probe.delayMs()).toBe(PROBE_LOST_MS);
    r.back();
    expect(r.probe.delayMs()).toBe(50);
  });

  it("never sets the delay from a probe that never came back (a firewall on loopback): the measure stays 0, and the log says so once", () => {
    const r = rig();
    r.probe.start();
    r.load(1);
    for (let i = 0; i < 100; i++) {
      r.advance(100);
      r.probe.tick();
    }
    expect(r.sent.length).toBeGreaterThan(1);
    expect(r.probe.delayMs()).toBe(0);
    expect(r.reports).toEqual([]);
    r.load(0);
    for (let i = 0; i < 5; i++) {
      r.advance(100);
      r.probe.tick();
      r.load(1);
      r.advance(100);
      r.probe.tick();
      r.load(0);
    }
    expect(r.reports).toHaveLength(1);
    expect(r.reports[0]).toContain("did not come back");
  });

  it("takes a probe still out after the loop idled as dropped: the queue was empty then, so the delay is 0", () => {
    const r = rig();
    r.probe.start();
    r.back();
    r.load(1);
    r.probe.tick();
    r.advance(100);
    expect(r.probe.delayMs()).toBe(100);
    // Saturated all along: still in the queue.
    r.probe.tick();
    r.advance(100);
    expect(r.probe.delayMs()).toBe(200);
    // The loop idled in the interval after it was sent: dropped.
    r.load(0.5);
    r.probe.tick();
    expect(r.probe.delayMs()).toBe(0);
    r.advance(5000);
    expect(r.probe.delayMs()).toBe(0);
    // Two more such losses in a row: the path is taken as broken (no age counts until a probe is back).
    for (let i = 0; i < 2; i++) {
      r.load(1);
      r.probe.tick();
      r.load(0);
      r.advance(100);
      r.probe.tick();
      r.advance(100);
      r.probe.tick();
    }
    expect(r.reports).toHaveLength(1);
    r.load(1);
    r.probe.tick();
    r.advance(900);
    expect(r.probe.delayMs()).toBe(0);
    r.back();
    expect(r.probe.delayMs()).toBe(900);
  });

  it("a probe whose send failed is not waited for; reset() (the socket closed) forgets everything", () => {
    const r = rig();
    r.probe.start();
    r.back();
    r.load(1);
    r.probe.tick();
    r.advance(700);
    expect(r.probe.delayMs()).toBe(700);
    r.dones.at(-1)!(new Error("EPERM"));
    expect(r.probe.delayMs()).toBe(0);
    // A stale failure (an older probe's) leaves the one out alone.
    r.probe.tick();
    r.advance(600);
    r.dones[0]!(new Error("late"));
    expect(r.probe.delayMs()).toBe(600);
    r.probe.reset();
    expect(r.probe.delayMs()).toBe(0);
    r.advance(10_000);
    expect(r.probe.delayMs()).toBe(0);
  });

  it("refuses datagrams that are not this socket's probe, and hands SIP-like ones back", () => {
    const r = rig();
    r.probe.start();
    r.advance(10);
    const mine = r.sent[0]!;
    const forged = Buffer.from(mine);
    forged.writeUInt8(forged.readUInt8(PROBE_SIZE - 5) ^ 1, PROBE_SIZE - 5); // the nonce's last octet
    expect(r.probe.take(forged, PORT, PORT)).toBe(false);
    expect(r.probe.take(mine, PORT + 1, PORT)).toBe(false);
    expect(r.probe.take(mine.subarray(0, PROBE_SIZE - 1), PORT, PORT)).toBe(false);
    expect(r.probe.take(Buffer.from("OPTIONS sip:a@b SIP/2.0\r\n\r\n"), PORT, PORT)).toBe(false);
    const stun = Buffer.alloc(PROBE_SIZE);
    stun.writeUInt16BE(0x0001, 0);
    expect(r.probe.take(stun, PORT, PORT)).toBe(false);
    expect(r.probe.delayMs()).toBe(0);
    // The awaited probe gives the delay; read again (replayed), it is eaten but says nothing.
    r.probe.take(mine, PORT, PORT);
    expect(r.probe.delayMs()).toBe(10);
    r.load(1);
    r.probe.tick();
    r.advance(40);
    expect(r.probe.take(mine, PORT, PORT)).toBe(true);
    expect(r.probe.delayMs()).toBe(40);
    r.advance(20);
    r.back();
    expect(r.probe.delayMs()).toBe(60);
  });
});
