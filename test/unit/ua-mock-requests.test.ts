/**
 * The mock's own requests on the deterministic harness: mock.call() to a
 * registered contact (Timer A doubling, Timer B 64*T1 -> 408, CANCEL at
 * cancelAfterMs once ringing, 9.1; ACK of failures, 17.1.1.3; BYE at
 * hangUpAfterMs), and the keep-alive OPTIONS at pingIntervalMs. Exact
 * versions of wall-clock tests of test/integration/mock-requests.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, req } from "../harness/harness.js";
import { peer, register, responseTo } from "../harness/messages.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const T1 = 500;
const invites = () => h.sent({ method: "INVITE", request: true });

async function registered(user: string) {
  const p = peer({ user });
  await h.send(register(p, 3600));
  h.next({ method: "REGISTER", status: 200 });
  return p;
}

/** mock.call(), followed without awaiting it (its answers need the clock to move). */
const call = (user: string, options?: Parameters<Harness["mock"]["call"]>[1]) =>
  h.track(h.mock.call(user, options));

describe("mock.call(): INVITE to a registered contact", () => {
  it("nobody answers: the INVITE on Timer A (T1, doubling, uncapped), 408 at exactly Timer B = 64*T1", async () => {
    h = await createHarness();
    await registered("fay");
    const state = call("fay");
    await h.advance(0);
    const first = h.next({ method: "INVITE", request: true });
    expect(first.text.split("\r\n", 1)[0]).toBe("INVITE sip:fay@192.0.2.10:5062 SIP/2.0");
    await h.advance(64 * T1 - 1);
    expect(state.value).toBeUndefined();
    // 17.1.1.2: A = T1, 2T1, 4T1... (no T2 cap for INVITE).
    expect(invites().map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(new Set(invites().map((s) => s.text)).size).toBe(1);
    await h.advance(1);
    expect(state.value).toMatchObject({ status: 408, reason: "Request Timeout" });
    expect(state.at).toBe(64 * T1);
  });

  it("a provisional stops Timer A; ringing outlives Timer B; CANCEL at exactly cancelAfterMs (9.1); the 487 ACKed", async () => {
    h = await createHarness();
    await registered("gil");
    const state = call("gil", { cancelAfterMs: 64 * T1 + 1000 });
    await h.advance(0);
    const inv = req(h.next({ method: "INVITE", request: true }));
    await h.advance(100);
    await h.send(responseTo(inv, 180, { toTag: "gil1" }));
    await h.advance(64 * T1 + 899);
    expect(invites()).toHaveLength(1);
    expect(h.sent({ method: "CANCEL", request: true })).toEqual([]);
    await h.advance(1);
    const cancelSent = h.next({ method: "CANCEL", request: true });
    expect(cancelSent.at).toBe(64 * T1 + 1000);
    const cancel = req(cancelSent);
    expect(cancel.headers.get("Via")).toBe(inv.headers.get("Via"));
    expect(cancel.headers.get("CSeq")).toBe("1 CANCEL");
    expect(cancel.headers.get("To")).toBe(inv.headers.get("To"));
    expect(cancelSent.text.split("\r\n", 1)[0]).toBe("CANCEL sip:gil@192.0.2.10:5062 SIP/2.0");
    await h.send(responseTo(cancel, 200, { toTag: "gil1" }));
    await h.send(responseTo(inv, 487, { toTag: "gil1" }));
    expect(state.value?.status).toBe(487);
    expect(state.value?.provisional).toEqual([180]);
    const ack = req(h.next({ method: "ACK", request: true }));
    expect(ack.headers.get("Via")).toBe(inv.headers.get("Via"));
  });

  it("a CANCEL wanted before any provisional goes once, right after the first one (9.1)", async () => {
    h = await createHarness();
    await registered("hank");
    const state = call("hank", { cancelAfterMs: 50 });
    await h.advance(0);
    const inv = req(h.next({ method: "INVITE", request: true }));
    await h.advance(200);
    expect(h.sent({ method: "CANCEL", request: true })).toEqual([]);
    // 100 Trying is a provisional too: the CANCEL goes right after it.
    await h.send(responseTo(inv, 100).replace(/(\nTo: [^\n]*);tag=[^\n]*/, "$1"));
    const cancelSent = h.next({ method: "CANCEL", request: true });
    expect(cancelSent.at).toBe(200);
    await h.send(responseTo(inv, 180, { toTag: "h1" }));
    await h.send(responseTo(inv, 183, { toTag: "h1", reason: "Session Progress" }));
    await h.send(responseTo(req(cancelSent), 200, { toTag: "h1" }));
    await h.send(responseTo(inv, 487, { toTag: "h1" }));
    expect(state.value?.status).toBe(487);
    await h.advance(64 * T1);
    expect(h.sent({ method: "CANCEL", request: true })).toHaveLength(1);
    // One CANCEL transaction in the journal.
    const cancels = h.mock.journal
      .entries({ method: "CANCEL", direction: "out", callId: inv.core.callId })
      .filter((e) => e.kind === "request" && !e.retransmission);
    expect(cancels).toHaveLength(1);
  });

  it("a failure over UDP is ACKed in its transaction, and its retransmission ACKed again", async () => {
    h = await createHarness();
    await registered("dan");
    const state = call("dan");
    await h.advance(0);
    const inv = req(h.next({ method: "INVITE", request: true }));
    const busy = responseTo(inv, 603, { toTag: "dan1", reason: "Decline" });
    await h.send(busy);
    expect(state.value?.status).toBe(603);
    const ack = req(h.next({ method: "ACK", request: true }));
    expect(ack.headers.get("Via")).toBe(inv.headers.get("Via"));
    await h.send(busy);
    expect(req(h.next({ method: "ACK", request: true })).headers.get("Via")).toBe(inv.headers.get("Via"));
  });

  it("answered: ACK at once, BYE at exactly hangUpAfterMs", async () => {
    h = await createHarness();
    await registered("ivy");
    const state = call("ivy", { hangUpAfterMs: 10_000 });
    await h.advance(0);
    const inv = req(h.next({ method: "INVITE", request: true }));
    await h.advance(1000);
    await h.send(responseTo(inv, 200, { toTag: "i1", contact: "<sip:ivy@192.0.2.10:5062>" }));
    expect(state.value?.status).toBe(200);
    expect(h.next({ method: "ACK", request: true }).at).toBe(1000);
    await h.advance(9_999);
    expect(h.sent({ method: "BYE", request: true })).toEqual([]);
    await h.advance(1);
    const bye = h.next({ method: "BYE", request: true });
    expect(bye.at).toBe(11_000);
    expect(req(bye).headers.get("To")).toMatch(/;tag=i1$/);
  });
});

describe("keep-alive (pingIntervalMs)", () => {
  it("OPTIONS to every registered contact at exactly the interval; one not answered is given up at Timer F", async () => {
    const warnings: string[] = [];
    h = await createHarness({
      pingIntervalMs: 30_000,
      logger: {
        level: "warn",
        verbose: false,
        error: () => {},
        warn: (m: string) => warnings.push(m),
        info: () => {},
        debug: () => {},
      } as never,
    });
    await registered("kay");
    await h.advance(29_999);
    expect(h.sent({ method: "OPTIONS", request: true })).toEqual([]);
    await h.advance(1);
    const first = h.next({ method: "OPTIONS", request: true });
    expect(first.at).toBe(30_000);
    expect(first.text.split("\r\n", 1)[0]).toBe("OPTIONS sip:kay@192.0.2.10:5062 SIP/2.0");
    await h.send(responseTo(req(first), 200, { toTag: "k1" }));
    await h.advance(30_000);
    const second = h.next({ method: "OPTIONS", request: true, where: (s) => s.at === 60_000 });
    expect(req(second).core.callId).not.toBe(req(first).core.callId);
    expect(warnings.filter((w) => w.includes("keep-alive"))).toEqual([]);
    await h.advance(64 * T1);
    expect(warnings.find((w) => w.includes("keep-alive OPTIONS to sip:kay@192.0.2.10:5062"))).toMatch(
      /408 Request Timeout/,
    );
  });
});
