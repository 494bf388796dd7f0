/**
 * A raw SIP client for byte-level tests: it sends exactly the bytes it is
 * given and records every datagram or stream chunk that comes back.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createConnection, type Socket } from "node:net";

export interface Received {
  readonly at: number;
  readonly text: string;
  readonly bytes: Buffer;
}

export interface WireClient {
  readonly port: number;
  readonly received: Received[];
  send(data: string | Buffer): Promise<void>;
  /** Resolves with the first received message matching `test` (already received ones count). */
  waitFor(test: (r: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Waits `ms`, then returns everything received so far (not only what came in that time). */
  collect(ms: number): Promise<Received[]>;
  close(): Promise<void>;
}

function waiter(received: Received[], listeners: Set<() => void>) {
  return (test: (r: Received) => boolean, timeoutMs = 3000) =>
    new Promise<Received>((resolve, reject) => {
      const check = () => {
        const hit = received.find(test);
        if (hit) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms; received:\n${received.map((r) => r.text.split("\r\n")[0]).join("\n")}`,
          ),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });
}

export async function udpClient(
  target: { host: string; port: number },
  bindHost = "127.0.0.1",
): Promise<WireClient> {
  const socket: UdpSocket = createSocket(bindHost.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((r) => socket.bind(0, bindHost, () => r()));
  const received: Received[] = [];
  const listeners = new Set<() => void>();
  socket.on("message", (bytes) => {
    received.push({ at: Date.now(), text: bytes.toString("latin1"), bytes });
    for (const l of [...listeners]) l();
  });
  return {
    port: socket.address().port,
    received,
    send: (data) =>
      new Promise((resolve, reject) =>
        socket.send(
          typeof data === "string" ? Buffer.from(data, "latin1") : data,
          target.port,
          target.host,
          (e) => (e ? reject(e) : resolve()),
        ),
      ),
    waitFor: waiter(received, listeners),
    collect: (ms) => new Promise((r) => setTimeout(() => r([...received]), ms)),
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

/** TCP client: the received "messages" are split on the SIP framing (head + Content-Length). */
export async function tcpClient(target: {
  host: string;
  port: number;
}): Promise<WireClient & { socket: Socket; closed: Promise<void> }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection({ host: target.host, port: target.port }, () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => {});
  const received: Received[] = [];
  const listeners = new Set<() => void>();
  let buffer = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      while (buffer.length >= 2 && buffer[0] === 0x0d && buffer[1] === 0x0a) {
        received.push({ at: Date.now(), text: "\r\n", bytes: Buffer.from("\r\n") });
        buffer = buffer.subarray(2);
      }
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) break;
      const head = buffer.toString("latin1", 0, end);
      const cl = Number(/\r\n(?:Content-Length|l)[ \t]*:[ \t]*([0-9]+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + cl) break;
      const bytes = buffer.subarray(0, end + 4 + cl);
      buffer = buffer.subarray(end + 4 + cl);
      received.push({ at: Date.now(), text: bytes.toString("latin1"), bytes });
    }
    for (const l of [...listeners]) l();
  });
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  return {
    socket,
    closed,
    port: socket.localPort ?? 0,
    received,
    send: (data) => new Promise((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve()))),
    waitFor: waiter(received, listeners),
    collect: (ms) => new Promise((r) => setTimeout(() => r([...received]), ms)),
    close: () =>
      new Promise((r) => {
        socket.end(() => r());
        setTimeout(() => {
          socket.destroy();
          r();
        }, 200).unref();
      }),
  };
}

let counter = 0;

/** A well-formed request; `over` replaces or adds header lines. */
export function request(
  method: string,
  user: string,
  target: { host: string; port: number },
  opts: {
    transport?: "UDP" | "TCP" | "TLS";
    localPort?: number;
    branch?: string;
    callId?: string;
    cseq?: number;
    toTag?: string;
    extra?: string[];
    body?: string;
    rport?: boolean;
  } = {},
): string {
  const n = ++counter;
  const branch = opts.branch ?? `z9hG4bK-test-${process.pid}-${n}`;
  const body = opts.body ?? "";
  const lines = [
    `${method} sip:${user}@${target.host}:${target.port} SIP/2.0`,
    `Via: SIP/2.0/${opts.transport ?? "UDP"} 127.0.0.1:${opts.localPort ?? 5060};branch=${branch}${opts.rport === false ? "" : ";rport"}`,
    "Max-Forwards: 70",
    `From: "Tester" <sip:tester@example.test>;tag=from-${n}`,
    `To: <sip:${user}@example.test>${opts.toTag ? `;tag=${opts.toTag}` : ""}`,
    `Call-ID: ${opts.callId ?? `call-${process.pid}-${n}@example.test`}`,
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    ...(opts.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ];
  return lines.join("\r\n");
}

export function statusOf(r: Received): number {
  return Number(/^SIP\/2\.0 ([0-9]{3})/.exec(r.text)?.[1] ?? 0);
}

export function header(r: Received, name: string): string | undefined {
  return new RegExp(`\\r\\n${name}[ \\t]*:[ \\t]*([^\\r\\n]*)`, "i").exec(r.text)?.[1];
}

export function headerRows(r: Received, name: string): string[] {
  return [...r.text.matchAll(new RegExp(`\\r\\n${name}[ \\t]*:[ \\t]*([^\\r\\n]*)`, "gi"))].map((m) => m[1]!);
}

/**
 * A UAC's or UAS's answer to a request the mock sent (RFC 3261 8.2.6.2):
 * Via, From, Call-ID and CSeq copied, To copied with `toTag` added when given.
 */
export function responseTo(
  req: Received,
  status: number,
  reason: string,
  opts: { toTag?: string; extra?: string[]; body?: string } = {},
): string {
  const copy = (name: string) => headerRows(req, name).map((v) => `${name}: ${v}`);
  const to = header(req, "To") ?? "";
  const body = opts.body ?? "";
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...copy("Via"),
    ...copy("From"),
    `To: ${opts.toTag && !/;tag=/i.test(to) ? `${to};tag=${opts.toTag}` : to}`,
    ...copy("Call-ID"),
    ...copy("CSeq"),
    ...(opts.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

let acks = 0;

/**
 * A UAC's ACK for a 2xx (RFC 3261 13.2.2.4): a new branch; the From, To
 * (with the answerer's tag) and Call-ID of the 2xx; its CSeq number; sent to
 * the user of the To URI at `target`.
 */
export function ackFor(
  ok: Received,
  target: { host: string; port: number },
  opts: { localPort: number; transport?: "UDP" | "TCP" },
): string {
  const to = header(ok, "To") ?? "";
  const user = /sips?:([^@>;]+)@/.exec(to)?.[1] ?? "anonymous";
  const seq = (header(ok, "CSeq") ?? "1").split(/\s+/)[0];
  return [
    `ACK sip:${user}@${target.host}:${target.port} SIP/2.0`,
    `Via: SIP/2.0/${opts.transport ?? "UDP"} 127.0.0.1:${opts.localPort};branch=z9hG4bK-ack-${process.pid}-${++acks};rport`,
    "Max-Forwards: 70",
    `From: ${header(ok, "From")}`,
    `To: ${to}`,
    `Call-ID: ${header(ok, "Call-ID")}`,
    `CSeq: ${seq} ACK`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}
