/**
 * Issue 10 item 1: one port bound on 127.0.0.1 and [::1] for every
 * transport (UDP, TCP, TLS, WS) is two listeners, and each client gets its
 * own answer (the listener is chosen by the real local address, not by
 * transport and port); wildcard listeners still own every address of their
 * family, IPv4 clients of a dual-stack [::] included.
 */
import { createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { header, request, statusOf, tcpClient, udpClient } from "../helpers/wire-client.js";

type Transport = "udp" | "tcp" | "tls" | "ws";
const TRANSPORTS: readonly Transport[] = ["udp", "tcp", "tls", "ws"];

/** A port free on both 127.0.0.1 and ::1 for TCP (and so, in practice, UDP). */
async function dualStackPort(): Promise<number> {
  for (;;) {
    const v4 = createServer();
    await new Promise<void>((r) => v4.listen(0, "127.0.0.1", () => r()));
    const port = (v4.address() as { port: number }).port;
    const v6 = createServer();
    const ok = await new Promise<boolean>((r) => {
      v6.once("error", () => r(false));
      v6.listen(port, "::1", () => r(true));
    });
    await new Promise((r) => v4.close(() => r(undefined)));
    if (ok) await new Promise((r) => v6.close(() => r(undefined)));
    if (ok) return port;
  }
}

/** Rejects after `ms` with `what` (a missing answer fails fast instead of hanging). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Sends one request and resolves with the first message that comes back. */
async function exchange(t: Transport, host: string, port: number, text: string): Promise<string> {
  const target = { host, port };
  if (t === "udp" || t === "tcp") {
    const c = t === "udp" ? await udpClient(target, host) : await tcpClient(target);
    try {
      await c.send(text);
      return (await c.waitFor((m) => statusOf(m) >= 200)).text;
    } finally {
      await c.close();
    }
  }
  if (t === "tls") {
    const s = tlsConnect({ host, port, rejectUnauthorized: false });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once("secureConnect", () => resolve());
        s.once("error", reject);
      });
      let got = "";
      const answer = new Promise<string>((resolve) =>
        s.on("data", (d: Buffer) => {
          got += d.toString("latin1");
          if (/^SIP\/2\.0 [2-6]\d\d /.test(got) && got.includes("\r\n\r\n")) resolve(got);
        }),
      );
      s.write(text);
      return await within(3000, "TLS answer", answer);
    } finally {
      s.destroy();
    }
  }
  const ws = new WebSocket(`ws://${host.includes(":") ? `[${host}]` : host}:${port}`, "sip");
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const answer = new Promise<string>((resolve) =>
      ws.on("message", (d: Buffer) => {
        const s = d.toString("latin1");
        if (/^SIP\/2\.0 [2-6]/.test(s)) resolve(s);
      }),
    );
    ws.send(text);
    return await within(3000, "WebSocket answer", answer);
  } finally {
    ws.close();
  }
}

describe("two listeners on one port (127.0.0.1:P and [::1]:P)", () => {
  let mock: SipMock;
  const ports = new Map<Transport, number>();

  beforeAll(async () => {
    // UDP and TCP share one port number; TLS and WS each get their own.
    const p = await dualStackPort();
    ports
      .set("udp", p)
      .set("tcp", p)
      .set("tls", await dualStackPort())
      .set("ws", await dualStackPort());
    mock = await startSipMock({
      listen: TRANSPORTS.flatMap((t) => [`${t}:127.0.0.1:${ports.get(t)}`, `${t}:[::1]:${ports.get(t)}`]),
      logger: silentLogger,
      timers: { t1: 50 },
    });
  });
  afterAll(() => mock?.close());

  it.each(TRANSPORTS)("over %s, the IPv4 and the IPv6 client each get their own 200", async (t) => {
    const port = ports.get(t)!;
    const via = t === "udp" ? "UDP" : t === "ws" ? "TCP" : (t.toUpperCase() as "TCP" | "TLS");
    const v4 = request(
      "OPTIONS",
      "dual",
      { host: "127.0.0.1", port },
      {
        transport: via,
        callId: `dual-v4-${t}`,
      },
    );
    const v6 = request(
      "OPTIONS",
      "dual",
      { host: "[::1]", port },
      { transport: via, callId: `dual-v6-${t}` },
    );
    // Both at once: the answers are built while both flows are in flight.
    const [a4, a6] = await Promise.all([exchange(t, "127.0.0.1", port, v4), exchange(t, "::1", port, v6)]);
    const asRecv = (text: string) => ({ text, at: 0, bytes: Buffer.from(text, "latin1") });
    expect(statusOf(asRecv(a4))).toBe(200);
    expect(statusOf(asRecv(a6))).toBe(200);
    expect(header(asRecv(a4), "Call-ID")).toBe(`dual-v4-${t}`);
    expect(header(asRecv(a6), "Call-ID")).toBe(`dual-v6-${t}`);
  });
});

describe("wildcard listeners still own every address of their family", () => {
  it.each([
    ["udp", "0.0.0.0", "127.0.0.1"],
    ["tcp", "0.0.0.0", "127.0.0.1"],
    ["udp", "::", "::1"],
    ["tcp", "::", "::1"],
    // Dual stack: an IPv4 client of an IPv6 wildcard shows as ::ffff:127.0.0.1.
    ["udp", "::", "127.0.0.1"],
    ["tcp", "::", "127.0.0.1"],
  ] as const)("%s on %s answers a client on %s", async (t, bind, host) => {
    const mock = await startSipMock({
      listen: [`${t}:${bind.includes(":") ? `[${bind}]` : bind}:0`],
      logger: silentLogger,
    });
    try {
      const port = mock.address(t).port;
      const text = request(
        "OPTIONS",
        "wild",
        { host: formatHostForUri(host), port },
        {
          transport: t === "udp" ? "UDP" : "TCP",
          callId: `wild-${t}-${bind}-${host}`,
        },
      );
      const answer = await exchange(t, host, port, text);
      expect(answer).toMatch(/^SIP\/2\.0 200 /);
      expect(answer).toContain(`\r\nCall-ID: wild-${t}-${bind}-${host}\r\n`);
    } finally {
      await mock.close();
    }
  });
});

const formatHostForUri = (h: string) => (h.includes(":") ? `[${h}]` : h);

describe("a dual-stack [::] mock's own requests to an IPv4 Contact", () => {
  it("a TCP REGISTER with a ;transport=udp Contact on 127.0.0.1: the request reaches it, retransmitted while unanswered", async () => {
    const mock = await startSipMock({
      listen: ["udp:[::]:0", "tcp:[::]:0"],
      logger: silentLogger,
      timers: { t1: 50 },
    });
    const to = { host: "127.0.0.1", port: mock.address("tcp").port };
    const c = await tcpClient(to);
    // The phone answers the mock's UDP listener (its Via).
    const phone = await udpClient({ host: "127.0.0.1", port: mock.address("udp").port });
    try {
      await c.send(
        request("REGISTER", "dual4", to, {
          transport: "TCP",
          localPort: c.port,
          callId: "reg-dual4",
          extra: [`Contact: <sip:dual4@127.0.0.1:${phone.port};transport=udp>`],
        }),
      );
      await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === "reg-dual4");
      const pending = mock.ping("dual4");
      const options = () => phone.received.filter((r) => r.text.startsWith("OPTIONS "));
      // Sent (not EINVAL, not 503) and retransmitted (Timer E): the TCP client's
      // ::ffff:127.0.0.1 and the Contact's 127.0.0.1 are one known host.
      await phone.waitFor(() => options().length >= 2);
      const first = options()[0]!;
      await phone.send(
        [
          "SIP/2.0 200 OK",
          ...first.text
            .split("\r\n")
            .filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l))
            .map((l) => (/^To:/i.test(l) ? `${l};tag=d4` : l)),
          "Content-Length: 0",
          "",
          "",
        ].join("\r\n"),
      );
      expect((await pending)[0]).toMatchObject({ status: 200 });
    } finally {
      await c.close();
      await phone.close();
      await mock.close();
    }
  });
});
