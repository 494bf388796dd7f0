/**
 * Where the mock's own requests go (RFC 3261 8.1.2, 10.3, 18.1.1; RFC 3263
 * 4.1): the flow for a request to a registered contact, and for a request
 * within a dialog (or the ACK of a 2xx). Pure functions of the flow a
 * message came on, the target URI and the mock's listeners.
 */
import { parseNameAddr } from "../sip/headers/name-addr.js";
import { isSipUri, parseUri, type SipUri } from "../sip/uri.js";
import { isIpLiteralHost, isIpv4Mapped, isWildcard, mapIpv4, stripBrackets } from "../transport/address.js";
import type { Flow, ListenerInfo, TransportName } from "../transport/types.js";

/** A listener of a transport (IPv6 or not), so a request can leave on another transport than a flow's. */
export type ListenerLookup = (transport: TransportName, ipv6: boolean) => ListenerInfo | undefined;

/** A SIP URI's destination when its host is an IP literal (RFC 3263 4.1, 4.2: no DNS needed). */
interface Destination {
  readonly uri: SipUri;
  readonly address: string;
  readonly port: number | undefined;
  readonly transport: string | undefined;
}

function destinationOf(uri: string): Destination | undefined {
  let parsed: ReturnType<typeof parseUri>;
  try {
    parsed = parseUri(uri);
  } catch {
    return undefined;
  }
  if (!isSipUri(parsed) || !isIpLiteralHost(parsed.host)) return undefined;
  return {
    uri: parsed,
    address: stripBrackets(parsed.host),
    port: parsed.port,
    transport: parsed.params.get("transport")?.toLowerCase(),
  };
}

/** A dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d and sends to them so. */
function sameForm(flow: Flow, address: string): string {
  return isIpv4Mapped(flow.remote.address) ? mapIpv4(address) : address;
}

/**
 * A flow to `address:port` over another transport than `base`'s: through
 * that transport's listener (a new connection for TCP and TLS, or one the
 * mock already opened to that destination). Undefined without such a listener,
 * or for WebSocket, which the mock cannot connect to.
 */
function flowOver(
  base: Flow,
  transport: string,
  address: string,
  port: number,
  listenerOn: ListenerLookup | undefined,
): Flow | undefined {
  if (transport !== "udp" && transport !== "tcp" && transport !== "tls") return undefined;
  if (transport === base.transport) return { transport, local: base.local, remote: { address, port } };
  const listener = listenerOn?.(transport, address.includes(":"));
  if (!listener) return undefined;
  // An IPv4 destination through a dual-stack [::] UDP socket: written
  // ::ffff:a.b.c.d, the only form it sends to (an IPv4 one fails, EINVAL).
  const remote = {
    address: transport === "udp" && listener.address.includes(":") ? mapIpv4(address) : address,
    port,
  };
  const wildcard = isWildcard(listener.address);
  const local = {
    address:
      wildcard && base.local.address.includes(":") === address.includes(":")
        ? base.local.address
        : listener.address,
    port: listener.port,
  };
  return { transport, local, remote };
}

/**
 * The flow a request within a dialog (or its ACK) takes to `uri`, its
 * first Route or remote target (RFC 3261 8.1.2). Over a connection: the
 * connection the dialog's peer used (18.1.1 allows reusing it), with the
 * URI's address should it have closed. Over UDP (RFC 3263): to the URI's IP
 * address and port. A URI naming another transport (`;transport=udp` while
 * the dialog came over TCP) is reached through that transport's listener.
 * The flow itself when the URI is a name, a sips or an outbound (`;ob`, RFC
 * 5626 5.3) URI, or in NAT mode. A response route (18.2.2 `replyTo`) never
 * carries over to a request.
 */
export function targetFlow(flow: Flow, uri: string, natMode: boolean, listenerOn?: ListenerLookup): Flow {
  const { replyTo: _responseRoute, ...base } = flow;
  if (natMode || isWebSocket(flow)) return base;
  const dest = destinationOf(uri);
  if (!dest || dest.uri.scheme === "sips" || dest.uri.params.has("ob")) return base;
  if (dest.transport && dest.transport !== flow.transport) {
    const port = dest.port ?? (dest.transport === "tls" ? 5061 : 5060);
    return flowOver(base, dest.transport, dest.address, port, listenerOn) ?? base;
  }
  const address = sameForm(flow, dest.address);
  const port = dest.port ?? (flow.transport === "tls" ? 5061 : 5060);
  if (address === flow.remote.address && port === flow.remote.port) return base;
  return { ...base, replyTo: { address, port } };
}

/**
 * The flow a request to a registered contact takes (RFC 3261 10.3, 8.1.2):
 * the Contact URI is the target, reached by RFC 3263 4.1 (its transport
 * parameter, else UDP for sip and TLS for sips, at its IP address and port).
 * The flow the contact registered on is reused only where the RFCs say so:
 * WebSocket clients (RFC 7118 5, they cannot be connected to), outbound
 * contacts (`;ob`, RFC 5626 5.3), a contact that names the flow's own source
 * (the same transport, address and port), a host name (the mock does no
 * DNS), or NAT mode. A connection that has closed meanwhile falls back to
 * the contact's address (18.1.1), except for an outbound contact: 430.
 */
export function bindingFlow(
  flow: Flow,
  contact: string,
  natMode: boolean,
  listenerOn?: ListenerLookup,
): Flow {
  const { replyTo: _responseRoute, ...base } = flow;
  if (natMode || isWebSocket(flow)) return base;
  const dest = destinationOf(contact);
  if (!dest) return base;
  const address = sameForm(flow, dest.address);
  // A sips URI is reached over TLS whatever its transport says (RFC 3261 26.2, RFC 5630).
  const named = dest.uri.scheme === "sips" ? "tls" : dest.transport;
  const namesSource =
    address === flow.remote.address &&
    (dest.port ?? (flow.transport === "tls" ? 5061 : 5060)) === flow.remote.port &&
    (named ?? flow.transport) === flow.transport;
  if (namesSource) return base;
  if (dest.uri.params.has("ob")) {
    // RFC 5626 5.3: the flow, and only the flow: over a connection that has
    // closed the request fails with 430 (Flow Failed), no fallback to the
    // Contact's address.
    return flow.transport === "udp" ? base : { ...base, flowOnly: true };
  }
  const transport = named ?? "udp";
  const port = dest.port ?? (transport === "tls" ? 5061 : 5060);
  if (transport === "udp" && flow.transport === "udp") return { ...base, replyTo: { address, port } };
  return flowOver(base, transport, dest.address, port, listenerOn) ?? base;
}

export function isWebSocket(flow: Flow): boolean {
  return flow.transport === "ws" || flow.transport === "wss";
}

/**
 * The flow a request to a registered contact takes: with a Path (RFC 3327
 * 5.4, its values the request's Route set), toward the first Path URI by the
 * dialog rules (the proxy's connection while it is open, else its address);
 * without one, bindingFlow.
 */
export function registeredFlow(
  flow: Flow,
  contact: string,
  path: readonly string[] | undefined,
  natMode: boolean,
  listenerOn?: ListenerLookup,
): Flow {
  const first = path?.[0];
  if (first === undefined) return bindingFlow(flow, contact, natMode, listenerOn);
  let uri: string;
  try {
    uri = parseNameAddr("Path", first).uri.raw;
  } catch {
    return bindingFlow(flow, contact, natMode, listenerOn);
  }
  return targetFlow(flow, uri, natMode, listenerOn);
}
