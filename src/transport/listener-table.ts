/**
 * Which listener a flow belongs to: keyed by transport, local address and
 * port, since one port may be bound on several addresses (127.0.0.1:P and
 * [::1]:P). A flow's local address is the address the peer reached; a
 * listener bound to a wildcard (0.0.0.0, ::) owns every address of its
 * family (and, for ::, IPv4 too on a dual-stack socket).
 */
import type { Flow, Listener, TransportName } from "./types.js";

const WILDCARDS = new Set(["0.0.0.0", "::"]);

export function isWildcard(address: string): boolean {
  return WILDCARDS.has(address);
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) written as IPv4. */
export function unmapIpv4(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

/**
 * The local address of a connection as a flow names it: the address the
 * listener bound, or, for a wildcard listener, the address the peer reached
 * (so a response goes out on the same address family).
 */
export function localAddressOf(socket: { readonly localAddress?: string }, bound: string): string {
  if (!isWildcard(bound)) return bound;
  return socket.localAddress ? unmapIpv4(socket.localAddress) : bound;
}

function key(transport: TransportName, address: string, port: number): string {
  return `${transport}|${unmapIpv4(address).toLowerCase()}|${port}`;
}

export class ListenerTable {
  private readonly byKey = new Map<string, Listener>();

  add(listener: Listener): void {
    const { transport, address, port } = listener.info;
    this.byKey.set(key(transport, address, port), listener);
  }

  find(flow: Flow): Listener | undefined {
    const { transport } = flow;
    const { address, port } = flow.local;
    const v6 = unmapIpv4(address).includes(":");
    return (
      this.byKey.get(key(transport, address, port)) ??
      this.byKey.get(key(transport, v6 ? "::" : "0.0.0.0", port)) ??
      (v6 ? undefined : this.byKey.get(key(transport, "::", port)))
    );
  }
}
