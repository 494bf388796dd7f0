/**
 * The mock ends calls itself (RFC 3261 15.1.1) through a non-INVITE client
 * transaction when a test asks for it (API and admin HTTP). The timed ones
 * (after a 2xx never acknowledged, 13.3.1.4; session expiry and the mock's
 * refreshes, RFC 4028) are on the deterministic harness:
 * test/unit/ua-invite.test.ts and test/unit/ua-session-timers.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminServer, startAdmin } from "../../src/control/admin.js";
import { type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import {
  header,
  headerRows,
  type Received,
  responseTo,
  statusOf,
  udpClient,
  type WireClient,
} from "../helpers/wire-client.js";

let mock: SipMock;
let admin: AdminServer;
let target: { host: string; port: number };
const T1 = 50;

beforeAll(async () => {
  mock = await startSipMock({
    listen: ["udp:127.0.0.1:0"],
    logger: silentLogger,
    timers: { t1: T1 },
    minSE: 2,
  });
  admin = await startAdmin(mock, { port: 0 });
  target = { host: "127.0.0.1", port: mock.address("udp").port };
});
afterAll(async () => {
  await admin.close();
  await mock.close();
});

let n = 0;
function invite(c: WireClient, callId: string, extra: string[] = [], cseq = 1, toTag?: string) {
  n++;
  return [
    `INVITE sip:alice@127.0.0.1:${target.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bK-bye-${process.pid}-${n};rport`,
    "Max-Forwards: 70",
    "From: <sip:caller@example.test>;tag=caller-bye",
    `To: <sip:alice@example.test>${toTag ? `;tag=${toTag}` : ""}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} INVITE`,
    `Contact: <sip:caller@127.0.0.1:${c.port};ob>`,
    ...extra,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

function ack(c: WireClient, callId: string, toTag: string, cseq = 1) {
  n++;
  return [
    `ACK sip:alice@127.0.0.1:${target.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bK-bye-ack-${process.pid}-${n};rport`,
    "Max-Forwards: 70",
    "From: <sip:caller@example.test>;tag=caller-bye",
    `To: <sip:alice@example.test>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ACK`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

const okFor = (req: Received) => responseTo(req, 200, "OK");

const isBye = (r: Received) => r.text.startsWith("BYE ");

async function answeredCall(c: WireClient, callId: string, extra: string[] = []) {
  await c.send(invite(c, callId, extra));
  const ok = await c.waitFor((r) => statusOf(r) === 200 && header(r, "CSeq") === "1 INVITE");
  return { ok, toTag: /;tag=([^;>\s]+)/.exec(header(ok, "To") ?? "")![1]! };
}

describe("hang up on demand", () => {
  it("mock.bye(callId) sends BYE in the dialog, with the Record-Route set as Route", async () => {
    const c = await udpClient(target);
    try {
      const callId = `bye-api-${process.pid}@example.test`;
      const rr = ["<sip:p1.example.test;lr>", "<sip:p2.example.test;lr>"];
      const { toTag } = await answeredCall(
        c,
        callId,
        rr.map((r) => `Record-Route: ${r}`),
      );
      await c.send(ack(c, callId, toTag));
      await expect.poll(() => mock.dialogs().find((d) => d.callId === callId)?.confirmed).toBe(true);
      expect(mock.bye(callId)).toBe(1);
      const bye = await c.waitFor(isBye, 1000);
      // 12.1.1: the route set is the Record-Route list in order (UAS side).
      expect(headerRows(bye, "Route")).toEqual(rr);
      expect(bye.text.split("\r\n")[0]).toBe(`BYE sip:caller@127.0.0.1:${c.port};ob SIP/2.0`);
      await c.send(okFor(bye));
      expect(mock.dialogs().some((d) => d.callId === callId)).toBe(false);
      expect(mock.bye(callId)).toBe(0);
    } finally {
      await c.close();
    }
  });

  it("POST /__admin/calls/{callId}/bye hangs up, 404 for an unknown call", async () => {
    const c = await udpClient(target);
    try {
      const callId = `bye-admin-${process.pid}@example.test`;
      const { toTag } = await answeredCall(c, callId);
      await c.send(ack(c, callId, toTag));
      await expect.poll(() => mock.dialogs().find((d) => d.callId === callId)?.confirmed).toBe(true);
      const base = admin.url;
      const res = await fetch(`${base}/__admin/calls/${encodeURIComponent(callId)}/bye`, { method: "POST" });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ byes: 1 });
      const bye = await c.waitFor(isBye, 1000);
      await c.send(okFor(bye));
      const missing = await fetch(`${base}/__admin/calls/nope/bye`, { method: "POST" });
      expect(missing.status).toBe(404);
      expect(missing.headers.get("content-type")).toMatch(/problem\+json/);
    } finally {
      await c.close();
    }
  });
});
