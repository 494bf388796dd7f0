/** What the UAS knows about itself when it writes a response: where it listens, what it implements. */
import { networkInterfaces } from "node:os";
import { SIP_METHODS } from "../sip/methods.js";
import { isIpLiteralHost, isWildcard, stripBrackets, unmapIpv4 } from "../transport/address.js";
import type { Flow, ListenerInfo, TransportName } from "../transport/types.js";
import { formatHost } from "../transport/types.js";

export interface Capabilities {
  /** Methods the UAS implements (Allow, RFC 3261 20.5). */
  readonly allow: readonly string[];
  /** Option tags it supports (Supported, 20.37). */
  readonly supported: readonly string[];
  /** Body types it accepts (Accept, 20.1). */
  readonly accept: readonly string[];
  readonly acceptEncoding: readonly string[];
  readonly acceptLanguage: readonly string[];
  /** Event packages (Allow-Events, RFC 6665 8.2.2). */
  readonly allowEvents: readonly string[];
}

export const DEFAULT_CAPABILITIES: Capabilities = {
  // Every registered method but NOTIFY: the mock sends NOTIFY (RFC 6665 notifier) but never subscribes.
  allow: SIP_METHODS.filter((m) => m !== "NOTIFY"),
  supported: ["100rel", "timer"],
  accept: ["application/sdp"],
  acceptEncoding: ["identity"],
  acceptLanguage: ["en"],
  allowEvents: ["message-summary", "presence", "dialog"],
};

export interface LocalIdentity {
  /** Host written in Contact and Warning: the advertised address. */
  readonly host: string;
  readonly port: number;
  readonly transport: TransportName;
  /**
   * RFC 3261 12.1.1: when the request's Request-URI was a SIPS URI, the
   * Contact of the response MUST be a SIPS URI.
   */
  readonly sips?: boolean;
}

/**
 * The address to advertise for a flow: the configured one, else the
 * listener's own address unless it is a wildcard, else the address the
 * client used in the Request-URI when it is an IP literal, else loopback.
 */
export function localIdentity(
  flow: Flow,
  listener: ListenerInfo | undefined,
  requestUriHost: string | undefined,
  advertise?: string,
  sips = false,
): LocalIdentity {
  return made(
    chosenHost(flow, listener, requestUriHost, advertise),
    listener?.port ?? flow.local.port,
    flow,
    sips,
  );
}

/** The host localIdentity writes, before brackets are settled. */
function chosenHost(
  flow: Flow,
  listener: ListenerInfo | undefined,
  requestUriHost: string | undefined,
  advertise: string | undefined,
): string {
  const bound = listener?.address ?? flow.local.address;
  if (advertise) return advertise;
  if (!isWildcard(bound)) return bound;
  // A connection knows which of our addresses the peer reached.
  if (!isWildcard(flow.local.address)) return flow.local.address;
  if (requestUriHost && isIpLiteralHost(requestUriHost)) return requestUriHost;
  return reachableAddress(flow.remote.address, bound === "::");
}

function made(host: string, port: number, flow: Flow, sips: boolean): LocalIdentity {
  return {
    host: formatHost(stripBrackets(host)),
    port,
    transport: flow.transport,
    ...(sips ? { sips: true } : {}),
  };
}

/**
 * localIdentity, as the same object while what it is made of (the host
 * chosen, the port, the transport, sips) stays the same: a call's
 * responses (Contact) and its SDP all read it, and it rarely changes.
 */
export class LocalIdentities {
  private last: LocalIdentity | undefined;
  private lastHost = "";

  of(
    flow: Flow,
    listener: ListenerInfo | undefined,
    requestUriHost: string | undefined,
    advertise?: string,
    sips = false,
  ): LocalIdentity {
    const host = chosenHost(flow, listener, requestUriHost, advertise);
    const port = listener?.port ?? flow.local.port;
    const last = this.last;
    if (
      last !== undefined &&
      this.lastHost === host &&
      last.port === port &&
      last.transport === flow.transport &&
      (last.sips === true) === sips
    )
      return last;
    this.lastHost = host;
    this.last = made(host, port, flow, sips);
    return this.last;
  }
}

/**
 * On a wildcard listener with no IP in the Request-URI and no --advertise:
 * loopback for a loopback peer, else this machine's first non-internal
 * address of the peer's family (a remote client cannot reach our 127.0.0.1).
 */
function reachableAddress(remote: string, ipv6Listener: boolean): string {
  const peer = unmapIpv4(remote);
  const v6 = peer.includes(":");
  if (peer === "::1" || peer.startsWith("127.")) return v6 ? "::1" : "127.0.0.1";
  const found = machineAddresses.get()[v6 ? "v6" : "v4"];
  return found ?? (v6 || ipv6Listener ? "::1" : "127.0.0.1");
}

type Interfaces = ReturnType<typeof networkInterfaces>;

/**
 * This machine's first non-internal IPv4 and IPv6 (not link-local) address,
 * read from the OS at most once per `ttlMs` (os.networkInterfaces() costs
 * tens of µs: not once per response), so an address that changes is seen
 * within the TTL.
 */
export class AddressCache {
  private value: { v4?: string; v6?: string } | undefined;
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly source: () => Interfaces = networkInterfaces,
    private readonly ttlMs = 5000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): { v4?: string; v6?: string } {
    const t = this.now();
    if (this.value === undefined || t - this.readAt >= this.ttlMs) {
      this.value = firstAddresses(this.source());
      this.readAt = t;
    }
    return this.value;
  }
}

function firstAddresses(interfaces: Interfaces): { v4?: string; v6?: string } {
  const out: { v4?: string; v6?: string } = {};
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal || a.address.startsWith("fe80")) continue;
      if (a.family === "IPv6") out.v6 ??= a.address;
      else out.v4 ??= a.address;
    }
  }
  return out;
}

const machineAddresses = new AddressCache();

/**
 * sip:[user@]host:port;transport=T, or sips: for a SIPS request (RFC 3261
 * 12.1.1). RFC 5630 3.2 deprecates transport=tls with sips (TLS is implied).
 * RFC 7118 5.2 registers only transport=ws: secure WebSocket is a sips URI
 * with transport=ws.
 */
export function localUri(id: LocalIdentity, user?: string): string {
  if (user === "sipmock" && id === contactOf) return contactUri;
  const uri = uriOf(id, user);
  if (user === "sipmock") {
    contactOf = id;
    contactUri = uri;
  }
  return uri;
}

/** The last identity's sip:sipmock@... URI (the Contact of every 18x/2xx to INVITE), made once. */
let contactOf: LocalIdentity | undefined;
let contactUri = "";

function uriOf(id: LocalIdentity, user: string | undefined): string {
  const sips = id.sips === true || id.transport === "wss";
  const transport = id.transport === "wss" ? "ws" : id.transport;
  const param = sips && transport === "tls" ? "" : `;transport=${transport}`;
  return `${sips ? "sips" : "sip"}:${user ? `${user}@` : ""}${id.host}:${id.port}${param}`;
}
