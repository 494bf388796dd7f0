/** What the stream listeners (TCP, TLS, WS, WSS) share: binding their server, a connection's flow. */
import type { Server, Socket } from "node:net";
import { localAddressOf } from "./listener-table.js";
import type { Flow, ListenerInfo } from "./types.js";

/** Starts the server (TCP, TLS, HTTP for WebSocket) on an address; its address and port once bound. */
export async function listenOn(
  server: Server,
  host: string,
  port: number,
  what: string,
): Promise<{ address: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error(`${what} listener has no address`);
  return { address: addr.address, port: addr.port };
}

/** The flow of a listener's connection `id` on `socket`. */
export function connectionFlow(info: ListenerInfo, socket: Socket, id: number): Flow {
  return {
    transport: info.transport,
    // The address the peer reached (not the wildcard the listener bound).
    local: { address: localAddressOf(socket, info.address), port: info.port },
    remote: { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
    connectionId: id,
  };
}

/** A stream listener's connections, by the id a flow carries as its connectionId. */
export class ConnectionTable<T> {
  private readonly byId = new Map<number, T>();
  private nextId = 1;

  /** Holds a new connection; its id. */
  add(connection: T): number {
    const id = this.nextId++;
    this.byId.set(id, connection);
    return id;
  }

  /** The connection a flow was received on, while it is held. */
  of(flow: Flow): T | undefined {
    return flow.connectionId !== undefined ? this.byId.get(flow.connectionId) : undefined;
  }

  delete(id: number): void {
    this.byId.delete(id);
  }

  values(): IterableIterator<T> {
    return this.byId.values();
  }
}
