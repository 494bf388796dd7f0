/**
 * The mock ends calls itself (RFC 3261 15.1.1) through a non-INVITE client
 * transaction: after a 2xx that is never acknowledged (13.3.1.4), when the
 * peer is the session refresher and no refresh comes (RFC 4028 10), and when
 * a test asks for it (API and admin HTTP). When the mock is the session
 * refresher it refreshes at half the interval (UPDATE, else re-INVITE).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
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

describe("BYE after a 2xx that is never acknowledged (RFC 3261 13.3.1.4)", () => {
  it("retransmits the 2xx for 64*T1, then sends BYE to the Contact with a Reason, and stops on 200", async () => {
    const c = await udpClient(target);
    try {
      const callId = `bye-noack-${process.pid}@example.test`;
      const { ok, toTag } = await answeredCall(c, callId);
      const bye = await c.waitFor(isBye, 64 * T1 + 2000);
      expect(bye.at - ok.at).toBeGreaterThanOrEqual(64 * T1 - 100);
      expect(bye.text.split("\r\n")[0]).toBe(`BYE sip:caller@127.0.0.1:${c.port};ob SIP/2.0`);
      // 12.2.1.1: From is our side (the To of the INVITE with our tag), To is theirs.
      expect(header(bye, "From")).toBe(`<sip:alice@example.test>;tag=${toTag}`);
      expect(header(bye, "To")).toBe("<sip:caller@example.test>;tag=caller-bye");
      expect(header(bye, "Call-ID")).toBe(callId);
      expect(header(bye, "CSeq")).toMatch(/^\d+ BYE$/);
      expect(header(bye, "Reason")).toMatch(/^SIP;text=".*13\.3\.1\.4.*"$/);
      expect(header(bye, "Via")).toMatch(/^SIP\/2\.0\/UDP [^;]+;branch=z9hG4bK/);
      await c.send(okFor(bye));
      const all = await c.collect(6 * T1 * 2);
      // Answered: no BYE retransmission; and no 2xx retransmission after the BYE.
      expect(all.filter(isBye)).toHaveLength(1);
      expect(all.filter((r) => statusOf(r) === 200 && r.at > bye.at + 10)).toHaveLength(0);
      expect(mock.dialogs().some((d) => d.callId === callId)).toBe(false);
      // The journal records the mock's BYE and the peer's answer to it.
      expect(mock.journal.entries({ method: "BYE", direction: "out" }).some((e) => e.callId === callId)).toBe(
        true,
      );
      const answers = mock.journal
        .entries({ direction: "in" })
        .filter((e) => e.callId === callId && e.status === 200);
      expect(answers.map((e) => e.cseq)).toEqual([header(bye, "CSeq")]);
    } finally {
      await c.close();
    }
  });

  it("retransmits the BYE over UDP (Timer E) until it is answered", async () => {
    const c = await udpClient(target);
    try {
      const callId = `bye-retx-${process.pid}@example.test`;
      await answeredCall(c, callId);
      const first = await c.waitFor(isBye, 64 * T1 + 2000);
      await c.waitFor((r) => isBye(r) && r !== first, 4 * T1);
      const byes = c.received.filter(isBye);
      expect(new Set(byes.map((b) => b.text)).size).toBe(1);
      await c.send(okFor(first));
    } finally {
      await c.close();
    }
  });
});

describe("session expiry (RFC 4028 10)", () => {
  it("sends BYE before the session expires when the UAC refreshes and does not", async () => {
    const c = await udpClient(target);
    try {
      const callId = `bye-se-${process.pid}@example.test`;
      const { ok, toTag } = await answeredCall(c, callId, ["Session-Expires: 3", "Supported: timer"]);
      expect(header(ok, "Session-Expires")).toBe("3;refresher=uac");
      await c.send(ack(c, callId, toTag));
      // SE - min(32, SE/3) = 2 s.
      const bye = await c.waitFor(isBye, 4000);
      expect(bye.at - ok.at).toBeGreaterThanOrEqual(1900);
      expect(bye.at - ok.at).toBeLessThan(2900);
      expect(header(bye, "Reason")).toMatch(/RFC 4028/);
      await c.send(okFor(bye));
    } finally {
      await c.close();
    }
  });

  it("a refresh re-INVITE restarts the timer", async () => {
    const c = await udpClient(target);
    try {
      const callId = `bye-se-refresh-${process.pid}@example.test`;
      const { ok, toTag } = await answeredCall(c, callId, ["Session-Expires: 3", "Supported: timer"]);
      await c.send(ack(c, callId, toTag));
      await new Promise((r) => setTimeout(r, 1200));
      await c.send(invite(c, callId, ["Session-Expires: 3", "Supported: timer"], 2, toTag));
      const refreshed = await c.waitFor((r) => statusOf(r) === 200 && header(r, "CSeq") === "2 INVITE");
      expect(header(refreshed, "Session-Expires")).toBe("3;refresher=uac");
      await c.send(ack(c, callId, toTag, 2));
      const bye = await c.waitFor(isBye, 4000);
      // Two seconds after the refresh, not after the first 2xx.
      expect(bye.at - refreshed.at).toBeGreaterThanOrEqual(1900);
      expect(bye.at - ok.at).toBeGreaterThan(3000);
      await c.send(okFor(bye));
    } finally {
      await c.close();
    }
  });

  it("when the mock is the refresher it sends UPDATE at half the interval (the caller allows UPDATE), and keeps refreshing", async () => {
    const c = await udpClient(target);
    try {
      const callId = `refresh-update-${process.pid}@example.test`;
      const { ok, toTag } = await answeredCall(c, callId, [
        "Session-Expires: 3",
        "Allow: INVITE, ACK, BYE, CANCEL, UPDATE",
      ]);
      expect(header(ok, "Session-Expires")).toBe("3;refresher=uas");
      await c.send(ack(c, callId, toTag));
      const isUpdate = (r: Received) => r.text.startsWith("UPDATE ");
      const first = await c.waitFor(isUpdate, 3000);
      expect(first.at - ok.at).toBeGreaterThanOrEqual(1400);
      expect(first.at - ok.at).toBeLessThan(2400);
      // RFC 4028 7.4: in its own request the mock is the uac, and the refresher.
      expect(header(first, "Session-Expires")).toBe("3;refresher=uac");
      expect(header(first, "From")).toBe(`<sip:alice@example.test>;tag=${toTag}`);
      expect(first.text.split("\r\n")[0]).toBe(`UPDATE sip:caller@127.0.0.1:${c.port};ob SIP/2.0`);
      await c.send(responseTo(first, 200, "OK", { extra: ["Session-Expires: 3;refresher=uac"] }));
      const second = await c.waitFor((r) => isUpdate(r) && header(r, "CSeq") !== header(first, "CSeq"), 3000);
      expect(second.at - first.at).toBeGreaterThanOrEqual(1400);
      expect(Number(header(second, "CSeq")!.split(" ")[0])).toBe(
        Number(header(first, "CSeq")!.split(" ")[0]) + 1,
      );
      expect(c.received.filter(isBye)).toHaveLength(0);
      // 491 (glare): retried after the 14.1 back-off (0-2 s for a dialog the
      // peer began; Math.random is 0 here).
      const random = vi.spyOn(Math, "random").mockReturnValue(0);
      try {
        await c.send(responseTo(second, 491, "Request Pending"));
        const third = await c.waitFor((r) => isUpdate(r) && r !== first && r !== second, 1000);
        expect(third.at - second.at).toBeLessThan(600);
        // A 500 is not the end of the session, but no refresh succeeded
        // within the interval: the refresher ends it before it expires.
        await c.send(responseTo(third, 500, "Server Internal Error"));
        const bye = await c.waitFor(isBye, 2000);
        expect(header(bye, "Reason")).toMatch(/session expired: no refresh succeeded within 3 s/);
        await c.send(okFor(bye));
      } finally {
        random.mockRestore();
      }
    } finally {
      await c.close();
    }
  });

  it("without UPDATE in the caller's Allow, the refresh is a re-INVITE with an offer, acknowledged", async () => {
    const c = await udpClient(target);
    try {
      const callId = `refresh-invite-${process.pid}@example.test`;
      const { ok, toTag } = await answeredCall(c, callId, ["Session-Expires: 3"]);
      expect(header(ok, "Session-Expires")).toBe("3;refresher=uas");
      await c.send(ack(c, callId, toTag));
      const reinvite = await c.waitFor((r) => r.text.startsWith("INVITE "), 3000);
      expect(header(reinvite, "Session-Expires")).toBe("3;refresher=uac");
      expect(header(reinvite, "Content-Type")).toBe("application/sdp");
      // RFC 3264 8: same session id as the 2xx's answer, version incremented.
      const o = (t: string) => /\r\no=\S+ (\d+) (\d+) /.exec(t)!;
      expect(o(reinvite.text)[1]).toBe(o(ok.text)[1]);
      expect(Number(o(reinvite.text)[2])).toBe(Number(o(ok.text)[2]) + 1);
      await c.send(responseTo(reinvite, 200, "OK", { extra: [`Contact: <sip:caller@127.0.0.1:${c.port}>`] }));
      const ackOf = await c.waitFor((r) => r.text.startsWith("ACK "), 1000);
      expect(header(ackOf, "CSeq")).toBe(`${header(reinvite, "CSeq")!.split(" ")[0]} ACK`);
      // 13.2.2.4: the ACK has its own branch.
      expect(header(ackOf, "Via")).not.toBe(header(reinvite, "Via"));
      expect(mock.bye(callId)).toBe(1);
    } finally {
      await c.close();
    }
  });
});

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
