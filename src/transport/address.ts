/**
 * IP address spellings, written once: the brackets of an IPv6 reference
 * (RFC 3261 25.1 IPv6reference, RFC 5118), the IPv4-mapped IPv6 form a
 * dual-stack socket uses for IPv4 peers (::ffff:a.b.c.d, RFC 4291 2.5.5.2)
 * and the wildcard addresses. No regex on the per-message paths.
 */
import type { SocketOptions } from "node:dgram";
import { lookup } from "node:dns";
import { isIP, isIPv4 } from "node:net";

const MAPPED_PREFIX = "::ffff:";

/** 0.0.0.0 or ::, the addresses a listener binds to mean "every address". */
export function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

/** "[::1]" -> "::1": a leading "[" and a trailing "]" removed, each if present. */
export function stripBrackets(host: string): string {
  const from = host.startsWith("[") ? 1 : 0;
  const to = host.endsWith("]") ? host.length - 1 : host.length;
  return from === 0 && to === host.length ? host : host.slice(from, to);
}

/** Whether `address` is written ::ffff:a.b.c.d (any case). */
export function isIpv4Mapped(address: string): boolean {
  return (
    address.length > MAPPED_PREFIX.length &&
    address.slice(0, MAPPED_PREFIX.length).toLowerCase() === MAPPED_PREFIX &&
    isIPv4(address.slice(MAPPED_PREFIX.length))
  );
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) written as IPv4; any other address unchanged. */
export function unmapIpv4(address: string): string {
  return isIpv4Mapped(address) ? address.slice(MAPPED_PREFIX.length) : address;
}

/** An IPv4 address as a dual-stack socket sends to it (::ffff:a.b.c.d); any other address unchanged. */
export function mapIpv4(address: string): string {
  return isIPv4(address) ? `${MAPPED_PREFIX}${address}` : address;
}

/**
 * Whether a URI host is an IP literal (an IPv6 reference in brackets, or
 * digits and dots): a destination that needs no DNS (RFC 3263 4.1, 4.2).
 */
export function isIpLiteralHost(host: string): boolean {
  return /^(\[[0-9a-fA-F:.]+\]|[0-9.]+)$/.test(host);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * A dgram socket's name lookup (its `lookup` option, used for bind and for
 * every send): an IP literal is its own address, as dns.lookup answers it,
 * but called back at once, without the resolver's option checks and the
 * process.nextTick it defers its answer by (one per datagram sent); names
 * go to dns.lookup.
 */
export const literalLookup = ((hostname: string, options: unknown, callback: LookupCallback) => {
  const family = isIP(hostname);
  if (family === 0) return lookup(hostname, options as never, callback);
  callback(null, hostname, family);
}) as unknown as NonNullable<SocketOptions["lookup"]>;
