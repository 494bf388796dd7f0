/** Starts a stream transport's server (TCP, TLS, HTTP for WebSocket) on an address; its port, once bound. */
import type { Server } from "node:net";

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
