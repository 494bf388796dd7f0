/**
 * `npm run bench:media`: N concurrent echo calls against the real CLI
 * (`sipmock serve --scenario echo`), each sending PCMU at 50 packets/s for
 * a few seconds. Reports the mock's CPU (from /proc, user + system), the
 * share of packets that did not come back (echo loss), and OPTIONS round
 * trips before and during the media load (media must not slow signalling).
 * Loopback only, bounded: BENCH_MEDIA_CALLS (200), BENCH_MEDIA_SECONDS (5),
 * BENCH_MEDIA_PPS (50).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { join } from "node:path";
import { treeCpuSeconds } from "./lib/procfs.js";

const ROOT = join(import.meta.dirname, "..");
const CALLS = Number(process.env.BENCH_MEDIA_CALLS ?? 200);
const SECONDS = Number(process.env.BENCH_MEDIA_SECONDS ?? 5);
const PPS = Number(process.env.BENCH_MEDIA_PPS ?? 50);

function startMock(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "dist/cli/bin.js"),
      "serve",
      "--listen",
      "udp:127.0.0.1:0",
      "--scenario",
      "echo",
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let text = "";
    const look = (d: Buffer) => {
      text += d.toString();
      const m = /udp:127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve({ child, port: Number(m[1]) });
    };
    child.stdout!.on("data", look);
    child.stderr!.on("data", look);
    child.once("exit", (code) => reject(new Error(`sipmock exited (${code}): ${text}`)));
  });
}

class Sip {
  private readonly waiters = new Map<string, (text: string) => void>();
  constructor(
    readonly socket: Socket,
    readonly port: number,
    private readonly mockPort: number,
  ) {
    socket.on("message", (m) => {
      const text = m.toString("latin1");
      const callId = /\r\nCall-ID: *([^\r\n]+)/i.exec(text)?.[1];
      const status = Number(/^SIP\/2\.0 (\d+)/.exec(text)?.[1] ?? 0);
      if (callId && status >= 200) this.waiters.get(callId)?.(text);
    });
  }

  request(lines: string[], callId: string, body = ""): Promise<string> {
    const text = [...lines, `Content-Length: ${Buffer.byteLength(body)}`, "", body].join("\r\n");
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final answer for ${callId}`)), 10_000);
      this.waiters.set(callId, (t) => {
        clearTimeout(timer);
        this.waiters.delete(callId);
        resolve(t);
      });
      this.socket.send(text, this.mockPort, "127.0.0.1");
    });
  }

  send(lines: string[]): void {
    this.socket.send([...lines, "Content-Length: 0", "", ""].join("\r\n"), this.mockPort, "127.0.0.1");
  }
}

let branch = 0;
function head(method: string, uri: string, callId: string, sip: Sip, cseq: number, toTag?: string): string[] {
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${sip.port};branch=z9hG4bK-bench-${++branch};rport`,
    "Max-Forwards: 70",
    "From: <sip:bench@127.0.0.1>;tag=bench",
    `To: <sip:echo@127.0.0.1>${toTag ? `;tag=${toTag}` : ""}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:bench@127.0.0.1:${sip.port}>`,
  ];
}

interface Call {
  readonly callId: string;
  readonly rtp: Socket;
  remotePort: number;
  toTag: string;
  sent: number;
  received: number;
}

async function optionsRtt(sip: Sip, mockUri: string, n: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const callId = `bench-options-${Date.now()}-${i}`;
    const t0 = performance.now();
    await sip.request([...head("OPTIONS", mockUri, callId, sip, 1)], callId);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n * 0.5)]!, p99: times[Math.min(n - 1, Math.floor(n * 0.99))]! };
}

async function main(): Promise<void> {
  const { child, port } = await startMock();
  const mockUri = `sip:echo@127.0.0.1:${port}`;
  const sipSocket = createSocket("udp4");
  await new Promise<void>((r) => sipSocket.bind(0, "127.0.0.1", r));
  const sip = new Sip(sipSocket, sipSocket.address().port, port);
  try {
    const idle = await optionsRtt(sip, mockUri, 50);
    const calls: Call[] = [];
    for (let i = 0; i < CALLS; i++) {
      const rtp = createSocket("udp4");
      await new Promise<void>((r) => rtp.bind(0, "127.0.0.1", r));
      const call: Call = {
        callId: `bench-media-${i}-${Date.now()}`,
        rtp,
        remotePort: 0,
        toTag: "",
        sent: 0,
        received: 0,
      };
      rtp.on("message", (m) => {
        if (m.length >= 12 && (m[1]! & 0x7f) === 0) call.received++;
      });
      const sdp = [
        "v=0",
        "o=bench 1 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        `m=audio ${rtp.address().port} RTP/AVP 0`,
        "a=rtpmap:0 PCMU/8000",
        "",
      ].join("\r\n");
      const ok = await sip.request(
        [...head("INVITE", mockUri, call.callId, sip, 1), "Content-Type: application/sdp"],
        call.callId,
        sdp,
      );
      call.remotePort = Number(/\r\nm=audio (\d+) /.exec(ok)![1]);
      call.toTag = /\r\nTo:[^\r\n]*;tag=([^;\r\n]+)/i.exec(ok)![1]!;
      sip.send(head("ACK", mockUri, call.callId, sip, 1, call.toTag));
      calls.push(call);
    }
    const cpu0 = treeCpuSeconds(child.pid);
    const t0 = performance.now();
    const payload = Buffer.alloc(160, 0xff);
    let seq = 0;
    const tick = setInterval(() => {
      seq++;
      for (const c of calls) {
        const h = Buffer.alloc(12);
        h[0] = 0x80;
        h[1] = 0;
        h.writeUInt16BE(seq & 0xffff, 2);
        h.writeUInt32BE((seq * 160) >>> 0, 4);
        h.writeUInt32BE(0xbe000000 + calls.indexOf(c), 8);
        c.rtp.send(Buffer.concat([h, payload]), c.remotePort, "127.0.0.1");
        c.sent++;
      }
    }, 1000 / PPS);
    const during = await new Promise<{ p50: number; p99: number }>((resolve) =>
      setTimeout(() => resolve(optionsRtt(sip, mockUri, 50)), (SECONDS * 1000) / 2),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, SECONDS * 1000 - (performance.now() - t0))));
    clearInterval(tick);
    const wall = (performance.now() - t0) / 1000;
    const cpu = treeCpuSeconds(child.pid) - cpu0;
    await new Promise((r) => setTimeout(r, 500)); // the last echoes
    const sent = calls.reduce((n, c) => n + c.sent, 0);
    const received = calls.reduce((n, c) => n + c.received, 0);
    for (const c of calls) {
      await sip.request(head("BYE", mockUri, c.callId, sip, 2, c.toTag), c.callId);
      c.rtp.close();
    }
    const report = {
      calls: CALLS,
      packetsPerSecondPerCall: PPS,
      seconds: Number(wall.toFixed(1)),
      packetsSent: sent,
      packetsEchoed: received,
      echoLossPercent: Number((100 * (1 - received / sent)).toFixed(2)),
      mockCpuPercent: Number(((100 * cpu) / wall).toFixed(1)),
      optionsRttMsIdle: { p50: Number(idle.p50.toFixed(2)), p99: Number(idle.p99.toFixed(2)) },
      optionsRttMsDuringMedia: { p50: Number(during.p50.toFixed(2)), p99: Number(during.p99.toFixed(2)) },
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    sipSocket.close();
    child.kill("SIGTERM");
  }
}

await main();
