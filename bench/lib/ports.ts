/** Loopback ports for the benchmark's servers and SIPp UAC instances. */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** A port free on loopback for both UDP and TCP at the moment of asking. */
export async function freePort(): Promise<number> {
  for (;;) {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    const t = createServer();
    const ok = await new Promise<boolean>((r) => {
      t.once("error", () => r(false));
      t.listen(port, "127.0.0.1", () => r(true));
    });
    if (ok) {
      await new Promise<void>((r) => t.close(() => r()));
      return port;
    }
  }
}
