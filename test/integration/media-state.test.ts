/**
 * Per-call media state over the wire: what the UA keeps for a call (its
 * initial INVITE, its RTP session) is freed when the call ends, also when the
 * call never had an RTP session (rejected without SDP, 2xx without SDP).
 */
import { createSocket } from "node:dgram";
import { describe, expect, it } from "vitest";
import { silentLogger, startAdmin, startSipMock } from "../../src/index.js";
import { run, start, waitForOutput } from "../helpers/cli.js";
import {
  ackFor,
  header,
  headerRows,
  request,
  responseTo,
  statusOf,
  udpClient,
} from "../helpers/wire-client.js";

describe("call state is freed when calls end", () => {
  it("INVITEs rejected without SDP (486) leave nothing tracked", async () => {
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      respond: { code: 486 },
    });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      for (let i = 0; i < 40; i++) {
        const callId = `rej-${process.pid}-${i}`;
        await c.send(request("INVITE", "bob", udp, { localPort: c.port, callId }));
        await c.waitFor((r) => statusOf(r) === 486 && header(r, "Call-ID") === callId);
      }
      expect(mock.trackedCalls).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("an answered call (INVITE without SDP, the mock offers in the 200) is forgotten after its BYE", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      const callId = `nosdp-${process.pid}`;
      await c.send(
        request("INVITE", "bob", udp, {
          localPort: c.port,
          callId,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
      await c.send(ackFor(ok, udp, { localPort: c.port }));
      await expect.poll(() => mock.dialogs().find((d) => d.callId === callId)?.confirmed).toBe(true);
      expect(mock.trackedCalls).toBe(1);
      const toTag = /;tag=([^;\s]+)/.exec(header(ok, "To") ?? "")![1]!;
      const fromTag = /;tag=([^;\s]+)/.exec(header(ok, "From") ?? "")![1]!;
      await c.send(
        request("BYE", "bob", udp, { localPort: c.port, callId, cseq: 2, toTag }).replace(
          /;tag=from-\d+/,
          `;tag=${fromTag}`,
        ),
      );
      await c.waitFor((r) => statusOf(r) === 200 && (header(r, "CSeq") ?? "").endsWith("BYE"));
      expect(mock.trackedCalls).toBe(0);
    } finally {
      await c.close();
    }
  });
});

describe("the SDP answer names the call's RTP socket", () => {
  it("a video-first offer: the audio line gets the socket's port (the RTP source), video and a second audio line port 0", async () => {
    await using mock = await startSipMock({ listen: ["udp:127.0.0.1:0"], logger: silentLogger });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    const rtp = createSocket("udp4");
    await new Promise<void>((r) => rtp.bind(0, "127.0.0.1", () => r()));
    const sources: number[] = [];
    rtp.on("message", (_m, rinfo) => sources.push(rinfo.port));
    const p = rtp.address().port;
    const body = [
      "v=0",
      "o=- 1 1 IN IP4 127.0.0.1",
      "s=-",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      `m=video ${p + 10} RTP/AVP 96`,
      "a=rtpmap:96 H264/90000",
      `m=audio ${p} RTP/AVP 0`,
      `m=audio ${p + 20} RTP/AVP 0`,
      "",
    ].join("\r\n");
    try {
      const callId = `video-first-${process.pid}`;
      await c.send(
        request("INVITE", "bob", udp, {
          localPort: c.port,
          callId,
          body,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Content-Type: application/sdp"],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
      await c.send(ackFor(ok, udp, { localPort: c.port }));
      const ports = [...ok.text.matchAll(/\r\nm=(\w+) (\d+) /g)].map((m) => [m[1], Number(m[2])]);
      expect(ports.map(([t]) => t)).toEqual(["video", "audio", "audio"]);
      expect(ports[0]![1]).toBe(0);
      expect(ports[2]![1]).toBe(0);
      const audio = ports[1]![1] as number;
      expect(audio).toBeGreaterThan(0);
      await expect.poll(() => sources.length, { timeout: 3000 }).toBeGreaterThan(0);
      expect(new Set(sources)).toEqual(new Set([audio]));
    } finally {
      rtp.close();
      await c.close();
    }
  });
});

describe("--rtp-inactivity-timeout", () => {
  it("an answered call that receives no RTP is hung up: BYE with a Reason, logged (real CLI)", async () => {
    const s = await start(["serve", "--listen", "udp:127.0.0.1:0", "--rtp-inactivity-timeout", "300ms"]);
    const udp = { host: "127.0.0.1", port: s.port };
    const c = await udpClient(udp);
    const rtp = createSocket("udp4");
    await new Promise<void>((r) => rtp.bind(0, "127.0.0.1", () => r()));
    try {
      const callId = `silent-${process.pid}`;
      const body = [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        `m=audio ${rtp.address().port} RTP/AVP 0`,
        "",
      ].join("\r\n");
      await c.send(
        request("INVITE", "bob", udp, {
          localPort: c.port,
          callId,
          body,
          extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`, "Content-Type: application/sdp"],
        }),
      );
      const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "Call-ID") === callId);
      await c.send(ackFor(ok, udp, { localPort: c.port }));
      const bye = await c.waitFor(
        (r) => r.text.startsWith("BYE ") && header(r, "Call-ID") === callId,
        10_000,
      );
      expect(header(bye, "Reason")).toBe('SIP;text="no RTP received for 0.3 s"');
      await c.send(responseTo(bye, 200, "OK"));
      await waitForOutput(s.output, new RegExp(`${callId}: no RTP received for 0\\.3 s: hanging up`));
    } finally {
      rtp.close();
      await c.close();
      const exit = new Promise((r) => s.child.on("exit", r));
      s.child.kill("SIGTERM");
      await exit;
    }
  });

  it("a usage error for a bad duration", () => {
    const r = run(["serve", "--rtp-inactivity-timeout", "soon"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--rtp-inactivity-timeout.*expected a duration/);
  });
});

/** An even port P with P and P+1 free, P held by the returned socket (the range P-P+1 is then full). */
async function blockedPair(): Promise<{ port: number; close: () => void }> {
  for (let i = 0; i < 50; i++) {
    const port = 30000 + 2 * Math.floor(Math.random() * 10000);
    const s = createSocket("udp4");
    const ok = await new Promise<boolean>((resolve) => {
      s.once("error", () => resolve(false));
      s.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (ok) return { port, close: () => s.close() };
    s.close();
  }
  throw new Error("no free port");
}

describe("mock.call with the RTP port range full", () => {
  it("POST /__admin/registrations/alice/call answers 503 problem with Retry-After (each time), no INVITE sent", async () => {
    const blocked = await blockedPair();
    await using mock = await startSipMock({
      listen: ["udp:127.0.0.1:0"],
      logger: silentLogger,
      rtpPorts: [blocked.port, blocked.port + 1],
    });
    const admin = await startAdmin(mock, { port: 0 });
    const udp = mock.address("udp");
    const c = await udpClient(udp);
    try {
      await c.send(
        request("REGISTER", "alice", udp, {
          localPort: c.port,
          extra: [`Contact: <sip:alice@127.0.0.1:${c.port}>`, "Expires: 600"],
        }),
      );
      const reg = await c.waitFor((r) => statusOf(r) === 200 && /REGISTER/.test(header(r, "CSeq") ?? ""));
      expect(headerRows(reg, "Contact")).toHaveLength(1);
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${admin.url}/__admin/registrations/alice/call`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        expect(res.status).toBe(503);
        expect(res.headers.get("retry-after")).toBe("5");
        expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        const problem = (await res.json()) as { status: number; detail: string };
        expect(problem.status).toBe(503);
        expect(problem.detail).toMatch(/no RTP port for the call: no free RTP\/RTCP port pair/);
      }
      expect(c.received.filter((r) => r.text.startsWith("INVITE "))).toEqual([]);
    } finally {
      blocked.close();
      await c.close();
      await admin.close();
    }
  });
});
