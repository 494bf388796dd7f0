#!/usr/bin/env node
/**
 * The image's HEALTHCHECK (plain Node, no dependencies). Healthy (exit 0) when
 * the admin API's GET /__admin/health says "ok" (SIPMOCK_ADMIN_URL, default
 * http://127.0.0.1:8080), a probe that leaves the journal alone. When no admin
 * API listens there (SIPMOCK_ADMIN=""), an OPTIONS over UDP to
 * SIPMOCK_HEALTHCHECK_SIP (default 127.0.0.1:5060) must get a final response,
 * whatever its code; that OPTIONS is in the journal. Exit 1 otherwise.
 * One line on stdout either way (docker inspect shows it).
 */
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";

const TIMEOUT_MS = 2500;
const T1_MS = 500;

async function adminHealth(base) {
  const res = await fetch(new URL("/__admin/health", base), { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 200 || body.status !== "ok") {
    throw new Error(`${base}/__admin/health: ${res.status} ${JSON.stringify(body)}`);
  }
  const listeners = (body.listeners ?? []).map((l) => `${l.transport}:${l.port}`).join(" ");
  return `${base}/__admin/health: ok (${listeners})`;
}

function hostPort(target) {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  if (!m) throw new Error(`SIPMOCK_HEALTHCHECK_SIP must be HOST:PORT, not ${JSON.stringify(target)}`);
  return { host: m[1], port: Number(m[2]) };
}

function optionsPing(target) {
  const { host, port } = hostPort(target);
  const v6 = host.includes(":");
  const uriHost = v6 ? `[${host}]` : host;
  const callId = `healthcheck-${randomBytes(8).toString("hex")}`;
  const socket = createSocket(v6 ? "udp6" : "udp4");
  return new Promise((resolve, reject) => {
    const timers = [];
    const done = (fn, value) => {
      for (const t of timers) clearTimeout(t);
      socket.close();
      fn(value);
    };
    socket.on("error", (e) => done(reject, e));
    socket.on("message", (bytes) => {
      const text = bytes.toString("latin1");
      const status = /^SIP\/2\.0 (\d{3}) ([^\r\n]*)/.exec(text);
      if (!status || !text.includes(callId) || Number(status[1]) < 200) return;
      done(resolve, `OPTIONS sip:${uriHost}:${port}: ${status[1]} ${status[2]}`);
    });
    socket.bind(0, host, () => {
      const local = socket.address().port;
      const request = [
        `OPTIONS sip:${uriHost}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${uriHost}:${local};branch=z9hG4bK${randomBytes(8).toString("hex")};rport`,
        "Max-Forwards: 70",
        `From: <sip:healthcheck@${uriHost}>;tag=${randomBytes(4).toString("hex")}`,
        `To: <sip:${uriHost}:${port}>`,
        `Call-ID: ${callId}`,
        "CSeq: 1 OPTIONS",
        "Accept: application/sdp",
        "User-Agent: sipmock-healthcheck",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
      // RFC 3261 17.1.2.2: retransmit at T1, 2*T1, ... until the timeout.
      const send = () => socket.send(request, port, host);
      send();
      for (let at = T1_MS, gap = T1_MS; at < TIMEOUT_MS; gap *= 2, at += gap)
        timers.push(setTimeout(send, at));
      timers.push(
        setTimeout(() => done(reject, new Error(`OPTIONS sip:${uriHost}:${port}: no answer`)), TIMEOUT_MS),
      );
    });
  });
}

async function check() {
  const admin = process.env.SIPMOCK_ADMIN_URL || "http://127.0.0.1:8080";
  try {
    return await adminHealth(admin);
  } catch (e) {
    if (e?.cause?.code !== "ECONNREFUSED") throw e;
  }
  return optionsPing(process.env.SIPMOCK_HEALTHCHECK_SIP || "127.0.0.1:5060");
}

check().then(
  (line) => {
    console.log(`healthy: ${line}`);
    process.exit(0);
  },
  (e) => {
    console.log(`unhealthy: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
