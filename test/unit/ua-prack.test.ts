/**
 * Reliable provisional responses (RFC 3262) on the deterministic harness:
 * the reliable 18x retransmitted at T1, 2T1... until the PRACK, RSeq/RAck,
 * 481 for an unknown RAck, 504 at 64*T1 without PRACK. Moved from
 * test/integration/dialogs.test.ts (wall-clock windows there).
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, res, toTag } from "../harness/harness.js";
import { invite, peer, prack } from "../harness/messages.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const T1 = 500;

describe("reliable provisional responses (RFC 3262)", () => {
  it("Require: 100rel: the 180 carries Require and RSeq, is retransmitted until PRACK, PRACK gets 200; an unknown RAck 481", async () => {
    h = await createHarness();
    const p = peer();
    const inv = invite(p, { to: "180", headers: ["Require: 100rel", "Supported: 100rel"] });
    await h.send(inv.text);
    const ringing = h.next({ status: 180 });
    expect(res(ringing).headers.get("Require")).toBe("100rel");
    const rseq = Number(res(ringing).headers.get("RSeq"));
    expect(rseq).toBeGreaterThanOrEqual(1);
    await h.advance(T1 - 1);
    expect(h.sent({ status: 180 })).toHaveLength(1);
    await h.advance(1 + 2 * T1);
    // 3262 3: T1, then doubling.
    expect(h.sent({ status: 180 }).map((s) => s.at)).toEqual([0, 500, 1500]);
    expect(new Set(h.sent({ status: 180 }).map((s) => s.text)).size).toBe(1);
    p.toTag = toTag(ringing);
    await h.send(prack(p, rseq, inv, { to: "180" }));
    expect(res(h.next({ method: "PRACK" })).status).toBe(200);
    await h.advance(60 * T1);
    expect(h.sent({ status: 180 })).toHaveLength(3);
    await h.send(prack(p, rseq + 7, inv, { to: "180" }));
    expect(h.next({ method: "PRACK" }).text.split("\r\n", 1)[0]).toBe(
      "SIP/2.0 481 Call/Transaction Does Not Exist",
    );
  });

  it("a PRACK for a reliable 180 that arrives after the 2xx still gets 200 (RFC 3262 3)", async () => {
    h = await createHarness();
    const p = peer();
    const inv = invite(p, { to: "alice", headers: ["Require: 100rel"] });
    await h.send(inv.text);
    const ringing = h.next({ status: 180 });
    h.next({ status: 200, method: "INVITE" });
    p.toTag = toTag(ringing);
    await h.send(prack(p, Number(res(ringing).headers.get("RSeq")), inv, { to: "alice" }));
    expect(h.next({ method: "PRACK" }).text.split("\r\n", 1)[0]).toBe("SIP/2.0 200 OK");
  });

  it("without a PRACK, the INVITE gets 504 at exactly 64*T1 after the 180 (RFC 3262 3)", async () => {
    h = await createHarness();
    const p = peer();
    await h.send(invite(p, { to: "180", headers: ["Require: 100rel"] }).text);
    const first = h.next({ status: 180 });
    await h.advance(64 * T1 - 1);
    expect(h.sent({ status: 504 })).toEqual([]);
    // Doubling from T1 (not capped at T2): 500, 1500, 3500, 7500, 15500, 31500.
    expect(h.sent({ status: 180 }).map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    await h.advance(1);
    const timeout = h.next({ status: 504 });
    expect(timeout.at - first.at).toBe(64 * T1);
    expect(res(timeout).headers.get("Warning")).toMatch(/never acknowledged with PRACK/);
  });

  it("without Require: 100rel the 180 is sent once, unreliably", async () => {
    h = await createHarness();
    await h.send(invite(peer(), { to: "180" }).text);
    const ringing = h.next({ status: 180 });
    expect(res(ringing).headers.get("RSeq")).toBeUndefined();
    await h.advance(60_000);
    expect(h.sent({ status: 180 })).toHaveLength(1);
  });

  it("reliableProvisionals: supported makes a 180 reliable on Supported: 100rel; never answers Require: 100rel with 420", async () => {
    for (const [policy, extra, expectation] of [
      ["supported", "Supported: 100rel", "reliable"],
      ["never", "Require: 100rel", "420"],
      ["required", "Supported: 100rel", "unreliable"],
    ] as const) {
      h = await createHarness({ scenario: `reliableProvisionals: ${policy}\nrules: []\n` });
      await h.send(invite(peer(), { to: "alice", headers: [extra] }).text);
      const first = h.next({
        where: (s) => (s.message?.kind === "response" ? s.message.status > 100 : false),
      });
      if (expectation === "420") {
        expect(first.text.split("\r\n", 1)[0]).toBe("SIP/2.0 420 Bad Extension");
        expect(res(first).headers.get("Unsupported")).toBe("100rel");
      } else {
        expect(res(first).status, policy).toBe(180);
        expect(res(first).headers.get("RSeq") !== undefined, policy).toBe(expectation === "reliable");
        expect(res(first).headers.get("Require"), policy).toBe(
          expectation === "reliable" ? "100rel" : undefined,
        );
      }
      await h.close();
    }
  });
});
