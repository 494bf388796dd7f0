/**
 * Opening the listeners: the TLS/WSS certificate they share, one socket
 * per listen spec (or the test seam's in-memory listener), UDP and TCP on
 * one shared free port by default, and a one-line ListenError when an
 * address cannot be had.
 */
import { type TlsMaterial, tlsMaterial } from "../../transport/certs.js";
import type { ConnectionGate } from "../../transport/connection-limits.js";
import {
  EMBEDDED_LISTEN,
  type ListenSpec,
  parseListenSpec,
  sharedPortPair,
} from "../../transport/listen-spec.js";
import { listenTcp } from "../../transport/tcp.js";
import { hostPort, type InboundHandler, isSecure, type Listener } from "../../transport/types.js";
import { listenUdp } from "../../transport/udp.js";
import { listenWs } from "../../transport/ws.js";
import { maxQueueDelayOf, type SipMockOptions } from "./options.js";
import type { Wire } from "./wire.js";

export class ListenError extends Error {}

/** The listen specs: the options' listen values, or UDP and TCP on loopback sharing one free port. */
export function listenSpecs(listen: SipMockOptions["listen"]): { specs: ListenSpec[]; sharedPort: boolean } {
  const sharedPort = !listen || listen.length === 0;
  return { specs: (sharedPort ? EMBEDDED_LISTEN : listen).map(parseListenSpec), sharedPort };
}

/** TLS and WSS share one certificate: the user's, or a self-signed one for the listening hosts. */
export async function secureMaterial(
  specs: readonly ListenSpec[],
  options: Pick<SipMockOptions, "tls" | "advertise">,
): Promise<TlsMaterial | undefined> {
  if (!specs.some((s) => isSecure(s.transport))) return undefined;
  return tlsMaterial({
    ...options.tls,
    hosts: [
      ...(options.tls?.hosts ?? []),
      ...specs.map((s) => s.host),
      ...(options.advertise ? [options.advertise] : []),
    ],
  });
}

/** How one listener is opened: the test seam's opener, else a socket of the spec's transport. */
export function listenerOpener(
  options: Pick<SipMockOptions, "tls" | "seams" | "limits" | "logger">,
  maxMessageSize: number,
  gate: ConnectionGate,
  tls: TlsMaterial | undefined,
  onInbound: InboundHandler,
): (spec: ListenSpec) => Promise<Listener> {
  const pem = tls
    ? {
        key: tls.key,
        cert: tls.cert,
        ...(options.tls?.maxVersion ? { maxVersion: options.tls.maxVersion } : {}),
      }
    : undefined;
  const seam = options.seams?.openListener;
  const buffers = options.limits?.udpBuffers;
  return (spec) => {
    if (seam) return seam(spec, onInbound);
    switch (spec.transport) {
      case "udp":
        return listenUdp(spec.host, spec.port, onInbound, {
          maxMessageSize,
          ...(buffers?.receive ? { recvBufferSize: buffers.receive } : {}),
          ...(buffers?.send ? { sendBufferSize: buffers.send } : {}),
          report: (message) => options.logger?.warn(message),
          queueProbe: maxQueueDelayOf(options.limits) > 0,
        });
      case "tcp":
        return listenTcp(spec.host, spec.port, onInbound, { maxMessageSize, gate });
      case "tls":
        return listenTcp(spec.host, spec.port, onInbound, {
          maxMessageSize,
          gate,
          ...(pem ? { tls: pem } : {}),
        });
      default:
        return listenWs(spec.host, spec.port, onInbound, {
          maxMessageSize,
          gate,
          ...(spec.transport === "wss" && pem ? { tls: pem } : {}),
        });
    }
  };
}

/**
 * Opens every listener onto the wire, in order. On failure the ones opened
 * are closed, `cleanUp` runs, and an address in use (or not ours, or not
 * allowed) becomes a ListenError naming it.
 */
export async function openListeners(
  wire: Wire,
  specs: readonly ListenSpec[],
  sharedPort: boolean,
  open: (spec: ListenSpec) => Promise<Listener>,
  cleanUp: () => void,
): Promise<void> {
  try {
    if (sharedPort) {
      for (const listener of await sharedPortPair(specs[0]!.host, open)) wire.add(listener);
    }
    for (const spec of sharedPort ? [] : specs) wire.add(await open(spec));
  } catch (err) {
    await wire.close();
    cleanUp();
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL") {
      const spec = specs[wire.listeners.length]!;
      const why =
        e.code === "EADDRINUSE"
          ? "address already in use"
          : e.code === "EACCES"
            ? "permission denied"
            : "address not available";
      throw new ListenError(`cannot listen on ${spec.transport}:${hostPort(spec.host, spec.port)}: ${why}`);
    }
    throw err;
  }
}
