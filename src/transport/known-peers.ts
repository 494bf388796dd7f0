import { unmapIpv4 } from "./address.js";

/**
 * Addresses that sent the mock a packet, over any transport (issue 10 item
 * 9; a phone registered over TCP, or a proxy that relayed over TCP, is as
 * known as one that used UDP): the mock's own
 * requests over UDP are retransmitted (Timer A/E) only to these, so a
 * Contact pointing at a third party cannot turn a few requests into a stream
 * of retransmissions towards it. By address, not port: a client that sends
 * from one port and listens on another is still itself, and a Contact on the
 * sender's own host cannot reflect towards anyone else. Bounded: the oldest
 * addresses are forgotten first.
 */
export class KnownPeers {
  private readonly seen = new Set<string>();

  constructor(private readonly max = 65_536) {}

  add(raw: string): void {
    // One key per host: a dual-stack socket's ::ffff:a.b.c.d is a.b.c.d.
    const address = unmapIpv4(raw);
    if (this.seen.has(address)) return;
    this.seen.add(address);
    if (this.seen.size > this.max) this.seen.delete(this.seen.values().next().value!);
  }

  has(address: string): boolean {
    return this.seen.has(unmapIpv4(address));
  }
}
