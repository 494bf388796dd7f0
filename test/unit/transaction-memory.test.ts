/**
 * What a server transaction keeps once its final response is sent (issue
 * 12: memory bounded): only what still identifies its request, so 32 s of
 * Timer H/J at thousands of calls a second stay small, while everything the
 * mock reports about that response (journal fault marks, Timer H) still
 * works. On the deterministic harness (manual clock, in-memory wire).
 */
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InviteServerTransaction } from "../../src/transaction/invite-server-transaction.js";
import { Scheduler } from "../../src/transaction/scheduler.js";
import { ServerContexts } from "../../src/ua/server/context.js";
import { createHarness, type Harness, res, toTag } from "../harness/harness.js";
import { ack, invite, options, peer } from "../harness/messages.js";

const SCENARIOS = join(import.meta.dirname, "..", "..", "scenarios");
const FAULTS = [join(SCENARIOS, "faults.yaml"), join(SCENARIOS, "default.yaml")];

let h: Harness;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

/** The INVITE server transactions the mock answers from now on (each one that responds). */
function inviteTransactions(): () => InviteServerTransaction[] {
  const spy = vi.spyOn(InviteServerTransaction.prototype, "respond");
  return () => [...new Set(spy.mock.contexts as InviteServerTransaction[])];
}

describe("an INVITE server transaction lets its request go once answered", () => {
  it("after a 486 (Completed, then Confirmed): the header rows and body go, what identifies it stays", async () => {
    const txs = inviteTransactions();
    h = await createHarness();
    const p = peer();
    const inv = invite(p, { to: "486", uri: "sip:486@127.0.0.1:5060;user=phone" });
    await h.send(inv.text);
    h.next({ status: 486 });
    const [tx] = txs();
    expect(tx!.state).toBe("completed");
    expect(tx!.request.headers.size).toBe(0);
    expect(tx!.request.body.length).toBe(0);
    expect(tx!.request.core.callId).toBe(p.callId);
    expect(tx!.request.core.cseq).toEqual({ seq: inv.cseq, method: "INVITE" });
    expect(tx!.request.core.via.map((v) => v.branch)).toEqual([inv.branch]);
    expect(tx!.request.core.from.tag).toBe(p.fromTag);
    // Not the parsed parameter maps (~400 octets each, even empty): URIs keep scheme, user and host.
    const { uri, core } = tx!.request;
    const maps = [uri, core.from, core.from.uri, core.to, core.to.uri, core.via[0]!].map(
      (x) => (x as { params: ReadonlyMap<string, string | null> }).params,
    );
    expect(maps.map((m) => m.size)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(new Set(maps).size).toBe(1);
    expect(uri).toMatchObject({ scheme: "sip", user: "486", host: "127.0.0.1", port: 5060 });
    expect(core.to.uri).toMatchObject({ scheme: "sip", user: "486" });
    // The 486 kept for Timer G is in a buffer of its own size, not a slice of a shared pool slab.
    const sent486 = h.sent({ status: 486 })[0]!.bytes;
    expect(tx!.lastResponse!.bytes.equals(sent486)).toBe(true);
    expect(tx!.lastResponse!.bytes.buffer.byteLength).toBe(sent486.length);
    // 17.2.1 unchanged: Timer G resends the 486 at T1, the ACK stops it, Timer I ends it T4 later.
    await h.advance(500);
    expect(h.sent({ status: 486 }).map((s) => s.at)).toEqual([0, 500]);
    await h.send(ack(p, inv, { to: "486", for2xx: false, toTag: toTag(h.sent({ status: 486 })[0]!) }));
    expect(tx!.state).toBe("confirmed");
    await h.advance(4999);
    expect(h.mock.activeTransactions).toBe(1);
    await h.advance(1);
    expect(h.mock.activeTransactions).toBe(0);
    expect(h.sent({ status: 486 })).toHaveLength(2);
  });

  it("an answer sent at once (486 by dial-a-code) keeps no UAS context for the transaction's 64*T1", async () => {
    const made = vi.spyOn(ServerContexts.prototype, "of");
    h = await createHarness();
    const p = peer();
    const inv = invite(p, { to: "486", sdp: false });
    await h.send(inv.text);
    expect(h.sent().map((s) => res(s).status)).toEqual([100, 486]);
    expect(made).not.toHaveBeenCalled();
    // A plan that waits (a 180 ringing until CANCEL) still keeps one.
    await h.send(invite(peer(), { to: "180" }).text);
    h.next({ status: 180 });
    expect(made).toHaveBeenCalled();
  });

  it("after a 2xx (Accepted over UDP, kept by a CompletedStore): no UAS context holds its object", async () => {
    const txs = inviteTransactions();
    const made = vi.spyOn(ServerContexts.prototype, "of");
    h = await createHarness();
    const inv = invite(peer());
    await h.send(inv.text);
    h.next({ status: 200 });
    const [tx] = txs();
    // The 2xx carries its SDP's o= to the dialog it makes: no context is made for
    // the default answer; one made (or left) for it would hold the object for 64*T1.
    expect(tx!.state).toBe("accepted");
    expect(made).not.toHaveBeenCalled();
  });

  it("after a 2xx (Accepted, 64*T1): released once the dialog is made from it; 2xx retransmissions unchanged", async () => {
    const txs = inviteTransactions();
    h = await createHarness();
    const p = peer();
    const inv = invite(p);
    await h.send(inv.text);
    const ok = h.next({ status: 200 });
    const [tx] = txs();
    expect(tx!.state).toBe("accepted");
    expect(tx!.request.headers.size).toBe(0);
    expect(tx!.request.body.length).toBe(0);
    expect(tx!.request.core.callId).toBe(p.callId);
    // Accepted never resends the 2xx itself (the dialog does, until the ACK): its bytes are not kept.
    expect(tx!.lastResponse).toEqual({ status: 200, bytes: Buffer.alloc(0) });
    // The dialog was made from the whole request: the peer's SDP and Contact.
    const [dialog] = h.mock.dialogs();
    expect(dialog?.remoteSdp).toContain("m=audio 49170");
    // 13.3.1.4: the 2xx again at T1 until the ACK; a retransmitted INVITE is absorbed (RFC 6026 7.1).
    await h.advance(500);
    await h.send(inv.text);
    expect(h.sent({ status: 200, cseqMethod: "INVITE" }).map((s) => s.at)).toEqual([0, 500]);
    p.toTag = toTag(ok);
    await h.send(ack(p, inv));
    await h.advance(64 * 500);
    expect(h.sent({ status: 200, cseqMethod: "INVITE" })).toHaveLength(2);
    expect(h.mock.activeTransactions).toBe(0);
    expect(h.mock.dialogs()).toHaveLength(1);
  });
});

describe("a non-INVITE server transaction once answered", () => {
  it("keeps its final response for Timer J in a buffer of its own size", async () => {
    h = await createHarness();
    const p = peer();
    const text = options(p);
    await h.send(text);
    const ok = h.next({ status: 200 });
    await h.send(text);
    const again = h.next({ status: 200 });
    expect(again.bytes.equals(ok.bytes)).toBe(true);
    expect(again.bytes.buffer.byteLength).toBe(ok.bytes.length);
  });
});

describe("a completed transaction's fault marks in the journal", () => {
  it("marks a duplicated final response to OPTIONS (non-INVITE) like one to INVITE", async () => {
    h = await createHarness({ scenario: FAULTS });
    const p = peer();
    await h.send(options(p, { to: "duplicate" }));
    expect(h.sent({ status: 486 })).toHaveLength(3);
    const marks = h.mock.journal
      .entries({ callId: p.callId })
      .filter((e) => (e as { direction?: string }).direction === "out")
      .map((e) => (e as { faults?: readonly string[] }).faults);
    expect(marks).toEqual([
      ["duplicate (the 486 sent 2 more time(s))"],
      ["duplicate (the 486 sent 2 more time(s))"],
      ["duplicate (the 486 sent 2 more time(s))"],
    ]);
  });
});

describe("the scheduler's heap under cancelled timers", () => {
  it("stays within twice the live timers when most are cancelled (Timer H of every ACKed 486), deadlines exact", () => {
    let now = 0;
    const s = new Scheduler(
      { now: () => now },
      (e) => {
        throw e;
      },
      true,
    );
    const fired: Array<[number, number]> = [];
    // 1000 calls a second for 10 s: Timer H (32 s) cancelled by each ACK, Timer I (5 s) kept.
    for (let i = 0; i < 10_000; i++) {
      now = i;
      s.schedule(32_000, () => fired.push([i, now])).cancel();
      s.schedule(5_000, () => fired.push([i, now]));
      s.runDue();
    }
    expect(s.pending).toBe(5_000);
    expect(s.queued).toBeLessThanOrEqual(2 * 5_000);
    now = 40_000;
    s.runDue();
    expect(fired).toHaveLength(10_000);
    // Each in deadline order, the ones due before the jump at their exact time.
    expect(fired.slice(0, 5_000).every(([i, at]) => at === i + 5_000)).toBe(true);
    expect(fired.map(([i]) => i)).toEqual([...Array(10_000).keys()]);
    expect(s.queued).toBe(0);
  });

  it("a timer cancelled after the scheduler stopped changes no count (shutdown order)", () => {
    const s = new Scheduler({ now: () => 0 }, undefined, true);
    const handles = [s.schedule(10, () => {}), s.schedule(20, () => {})];
    s.stop();
    for (const h of handles) h.cancel();
    expect(s.pending).toBe(0);
    s.schedule(5, () => {});
    expect(s.pending).toBe(1);
  });
});
