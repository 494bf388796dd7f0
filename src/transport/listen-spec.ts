/** `--listen` values: TRANSPORT:HOST:PORT, with IPv6 hosts in brackets. */
import { type Listener, TRANSPORT_NAMES, type TransportName } from "./types.js";

export interface ListenSpec {
  readonly transport: TransportName;
  readonly host: string;
  readonly port: number;
}

const TRANSPORTS = TRANSPORT_NAMES;

export class ListenSpecError extends Error {}

export function parseListenSpec(text: string): ListenSpec {
  const m = /^([a-z]+):(\[[0-9a-fA-F:.]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(text.trim());
  if (!m) {
    throw new ListenSpecError(
      `invalid --listen "${text}": expected TRANSPORT:HOST:PORT, e.g. udp:0.0.0.0:5060, tcp:[::1]:5060, tls:0.0.0.0:5061, ws:0.0.0.0:8088`,
    );
  }
  const transport = m[1] as TransportName;
  if (!TRANSPORTS.includes(transport)) {
    throw new ListenSpecError(
      `invalid --listen "${text}": transport "${m[1]}" is not one of ${TRANSPORTS.join(", ")}`,
    );
  }
  const port = Number(m[3]);
  if (port > 65535) throw new ListenSpecError(`invalid --listen "${text}": port ${port} is above 65535`);
  const host = m[2]!.startsWith("[") ? m[2]!.slice(1, -1) : m[2]!;
  return { transport, host, port };
}

/** `sipmock serve`'s default: every interface, the standard port. */
export const CLI_LISTEN: readonly string[] = ["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"];

/** startSipMock's default: loopback only, UDP and TCP on one free port both share. */
export const EMBEDDED_LISTEN: readonly string[] = ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"];

/**
 * The embedded default: UDP and TCP on one free port of `host`. The UDP port
 * is picked by the system; TCP takes the same number, and when another
 * process holds it, both are tried again on another port.
 */
export async function sharedPortPair(
  host: string,
  open: (spec: ListenSpec) => Promise<Listener>,
): Promise<Listener[]> {
  for (let attempt = 1; ; attempt++) {
    const udp = await open({ transport: "udp", host, port: 0 });
    try {
      return [udp, await open({ transport: "tcp", host, port: udp.info.port })];
    } catch (err) {
      await udp.close();
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt === 20) throw err;
    }
  }
}
