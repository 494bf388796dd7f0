/**
 * Addresses that sent the mock a datagram (issue 10 item 9): the mock's own
 * requests over UDP are retransmitted (Timer A/E) only to these, so a
 * Contact pointing at a third party cannot turn a few requests into a stream
 * of retransmissions towards it. Bounded: the oldest addresses go first.
 */
export class KnownPeers {
  /** Address -> ports seen from it (no string built per datagram). */
  private readonly seen = new Map<string, Set<number>>();
  private count = 0;

  constructor(private readonly max = 65_536) {}

  add(address: string, port: number): void {
    let ports = this.seen.get(address);
    if (ports?.has(port)) return;
    if (!ports) {
      ports = new Set();
      this.seen.set(address, ports);
    }
    ports.add(port);
    this.count++;
    while (this.count > this.max) {
      const [oldest, p] = this.seen.entries().next().value!;
      this.seen.delete(oldest);
      this.count -= p.size;
    }
  }

  has(address: string, port: number): boolean {
    return this.seen.get(address)?.has(port) ?? false;
  }
}
