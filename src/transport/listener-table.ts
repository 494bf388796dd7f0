/**
 * Which listener a flow belongs to: keyed by transport, local address and
 * port, since one port may be bound on several addresses (127.0.0.1:P and
 * [::1]:P). A flow's local address is the address the peer reached; a
 * listener bound to a wildcard (0.0.0.0, ::) owns every address of its
 * family (and, for ::, IPv4 too on a dual-stack socket).
 */
import { isWildcard, unmapIpv4 } from "./address.js";
import type { Flow, Listener, TransportName } from "./types.js";

/**
 * The local address of a connection as a flow names it: the address the
 * listener bound, or, for a wildcard listener, the address the peer reached
 * (so a response goes out on the same address family).
 */
export function localAddressOf(socket: { readonly localAddress?: string }, bound: string): string {
  if (!isWildcard(bound)) return bound;
  return socket.localAddress ? unmapIpv4(socket.localAddress) : bound;
}

interface Entry {
  readonly transport: TransportName;
  /** Normalised once: IPv4 unmapped, lower case. */
  readonly address: string;
  readonly listener: Listener;
}

/** Called several times per message: no regex, no string building on the common path. */
export class ListenerTable {
  /** Port -> the listeners bound to it (a handful at most). */
  private readonly byPort = new Map<number, Entry[]>();

  add(listener: Listener): void {
    const { transport, address, port } = listener.info;
    const normalised = unmapIpv4(address).toLowerCase();
    const list = this.byPort.get(port) ?? [];
    const same = list.findIndex((e) => e.transport === transport && e.address === normalised);
    const entry = { transport, address: normalised, listener };
    if (same >= 0) list[same] = entry;
    else list.push(entry);
    this.byPort.set(port, list);
  }

  find(flow: Flow): Listener | undefined {
    const list = this.byPort.get(flow.local.port);
    if (!list) return undefined;
    const { transport } = flow;
    const address = unmapIpv4(flow.local.address);
    const v6 = address.includes(":");
    let v4Wildcard: Listener | undefined;
    let v6Wildcard: Listener | undefined;
    for (const e of list) {
      if (e.transport !== transport) continue;
      if (e.address === address) return e.listener;
      if (e.address === "0.0.0.0") v4Wildcard = e.listener;
      else if (e.address === "::") v6Wildcard = e.listener;
    }
    // The family's wildcard; for IPv4, a dual-stack :: too.
    return v6 ? v6Wildcard : (v4Wildcard ?? v6Wildcard);
  }
}
