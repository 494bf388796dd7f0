/**
 * The Dialog class and its store on a manual clock: CSeq rules (RFC 3261
 * 12.2.1.1, 12.2.2), remote target and route set (12.1.1, 12.2.1.2), the
 * 2xx retransmission until the ACK (13.3.1.4) and the BYE that waits for
 * it (15.1.1).
 */
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/transaction/scheduler.js";
import { Dialog, DialogStore } from "../../src/ua/dialogs.js";
import { addrSpecOf } from "../../src/ua/uac.js";
import { parseRequest, peerFlow, T } from "./dialog-fixtures.js";

function clock() {
  let t = 0;
  const scheduler = new Scheduler({ now: () => t }, undefined, true);
  return {
    scheduler,
    at: (ms: number) => {
      t = ms;
      scheduler.runDue();
    },
  };
}

const invite = parseRequest(`INVITE sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK-inv1
Record-Route: <sip:p1.example.test;lr>
Record-Route: <sip:p2.example.test;lr>
Max-Forwards: 70
From: "Alice" <sip:alice@example.test>;tag=a1
To: <sip:bob@example.test>
Call-ID: dlg-1@10.0.0.2
CSeq: 7 INVITE
Contact: <sip:alice@10.0.0.2:5062;ob>
Content-Length: 0

`);

/** What the UAS keeps of the INVITE when its 2xx makes the dialog (12.1.1). */
function uasDialog(store: DialogStore): Dialog {
  const d = store.accept(invite.core.callId, "b1", invite.core.from.tag!, undefined, () => {});
  d.setPeer({
    target: addrSpecOf(invite.headers.get("Contact"), ""),
    from: `${invite.headers.get("To")};tag=b1`,
    to: invite.headers.get("From")!,
    routeSet: invite.headers.getAll("Record-Route"),
    flow: peerFlow,
    localCseq: 0,
  });
  d.receiveCseq(invite.core.cseq.seq);
  return d;
}

describe("Dialog: the BYE let through a spent transactions budget", () => {
  it("is in flight until the BYE of its own CSeq ends; another BYE of the call ending meanwhile does not clear it", () => {
    const { scheduler } = clock();
    const d = uasDialog(new DialogStore(scheduler, T));
    expect(d.byeInFlight).toBe(false);
    d.spareBye(9);
    expect(d.byeInFlight).toBe(true);
    // A BYE admitted before the budget ran out (CSeq 8, a scenario held it) ends first.
    d.byeEnded(8);
    expect(d.byeInFlight).toBe(true);
    d.byeEnded(9);
    expect(d.byeInFlight).toBe(false);
  });
});

describe("Dialog: CSeq (RFC 3261 12.2.1.1, 12.2.2)", () => {
  it("the remote CSeq starts at the dialog-creating request's; a lower one is out of order, equal or higher is not", () => {
    const { scheduler } = clock();
    const d = uasDialog(new DialogStore(scheduler, T));
    expect(d.remoteCseq).toBe(7);
    expect(d.receiveCseq(6)).toBe(false);
    expect(d.remoteCseq).toBe(7);
    expect(d.receiveCseq(7)).toBe(true);
    expect(d.receiveCseq(20)).toBe(true);
    expect(d.remoteCseq).toBe(20);
    expect(d.receiveCseq(8)).toBe(false);
    expect(d.remoteCseq).toBe(20);
  });

  it("an empty remote CSeq accepts any number (a dialog the mock created)", () => {
    const { scheduler } = clock();
    const d = new Dialog({ callId: "c", localTag: "l", remoteTag: "r" }, scheduler);
    expect(d.remoteCseq).toBeUndefined();
    expect(d.receiveCseq(1)).toBe(true);
    expect(d.remoteCseq).toBe(1);
  });

  it("the local CSeq goes up by one per request: from empty (1, 2...) for the UAS, after the INVITE's for the UAC", () => {
    const { scheduler } = clock();
    const d = uasDialog(new DialogStore(scheduler, T));
    expect([d.nextLocalCseq(), d.nextLocalCseq(), d.nextLocalCseq()]).toEqual([1, 2, 3]);
    expect(d.peer?.localCseq).toBe(3);
    const uac = new Dialog(
      {
        callId: "c",
        localTag: "l",
        remoteTag: "r",
        uac: true,
        peer: { target: "sip:a@b", from: "f", to: "t", routeSet: [], flow: peerFlow, localCseq: 1 },
      },
      scheduler,
    );
    expect(uac.nextLocalCseq()).toBe(2);
  });

  it("without a remote target there is no request to number", () => {
    const { scheduler } = clock();
    const d = new Dialog({ callId: "c", localTag: "l", remoteTag: "r" }, scheduler);
    expect(() => d.nextLocalCseq()).toThrow(/no remote target/);
  });
});

describe("Dialog: remote target and route set (12.1.1, 12.2.1.2)", () => {
  it("the UAS keeps Record-Route in order and the Contact's URI; a target refresh replaces only the target", () => {
    const { scheduler } = clock();
    const d = uasDialog(new DialogStore(scheduler, T));
    expect(d.peer?.routeSet).toEqual(["<sip:p1.example.test;lr>", "<sip:p2.example.test;lr>"]);
    expect(d.peer?.target).toBe("sip:alice@10.0.0.2:5062;ob");
    expect(d.peer?.from).toBe("<sip:bob@example.test>;tag=b1");
    expect(d.peer?.to).toBe('"Alice" <sip:alice@example.test>;tag=a1');
    d.retarget("sip:alice@10.0.0.9:5070");
    expect(d.peer?.target).toBe("sip:alice@10.0.0.9:5070");
    expect(d.peer?.routeSet).toEqual(["<sip:p1.example.test;lr>", "<sip:p2.example.test;lr>"]);
  });

  it("retarget without a peer changes nothing", () => {
    const { scheduler } = clock();
    const d = new Dialog({ callId: "c", localTag: "l", remoteTag: "r" }, scheduler);
    d.retarget("sip:x@y");
    expect(d.peer).toBeUndefined();
  });
});

describe("Dialog: the 2xx until its ACK (13.3.1.4)", () => {
  it("retransmits at T1, 2*T1, 4*T1... capped at T2, and stops when the ACK confirms it", () => {
    const { scheduler, at } = clock();
    const store = new DialogStore(scheduler, T);
    const resent: number[] = [];
    let now = 0;
    const d = store.accept(
      "c1",
      "l1",
      "r1",
      () => resent.push(now),
      () => {},
    );
    for (now = 0; now <= 20_000; now += 50) at(now);
    // 500, 1500, 3500, 7500, 11500, 15500, 19500 (T2 = 4000 caps the interval)
    expect(resent).toEqual([500, 1500, 3500, 7500, 11500, 15500, 19500]);
    store.confirm(d);
    for (; now <= 40_000; now += 50) at(now);
    expect(resent).toHaveLength(7);
    expect(d.confirmed).toBe(true);
  });

  it("without an ACK: the give-up after 64*T1 exactly, once, for the live dialog only", () => {
    const { scheduler, at } = clock();
    const store = new DialogStore(scheduler, T);
    const given: string[] = [];
    store.accept("c1", "l1", "r1", undefined, (d) => given.push(d.callId));
    const gone = store.accept("c2", "l2", "r2", undefined, (d) => given.push(d.callId));
    store.end(gone);
    at(64 * T.t1 - 1);
    expect(given).toEqual([]);
    at(64 * T.t1);
    expect(given).toEqual(["c1"]);
    at(200_000);
    expect(given).toEqual(["c1"]);
  });

  it("a 2xx to a re-INVITE restarts the wait on the same dialog, keeping its state", () => {
    const { scheduler, at } = clock();
    const store = new DialogStore(scheduler, T);
    const d = uasDialog(store);
    store.confirm(d);
    d.nextLocalCseq();
    const again = store.accept(d.callId, d.localTag, d.remoteTag, undefined, () => {});
    expect(again).toBe(d);
    expect(d.confirmed).toBe(false);
    expect(d.peer?.localCseq).toBe(1);
    expect(store.size).toBe(1);
    at(1000);
    store.confirm(d);
    expect(d.confirmed).toBe(true);
  });

  it("whenConfirmed: true once the ACK arrives, false when the dialog ends first (15.1.1)", async () => {
    const { scheduler } = clock();
    const store = new DialogStore(scheduler, T);
    const a = store.accept("c1", "l1", "r1", undefined, () => {});
    const b = store.accept("c2", "l2", "r2", undefined, () => {});
    const pa = store.whenConfirmed(a);
    const pb = store.whenConfirmed(b);
    store.confirm(a);
    store.end(b);
    expect(await pa).toBe(true);
    expect(await pb).toBe(false);
    expect(await store.whenConfirmed(a)).toBe(true);
    expect(await store.whenConfirmed(b)).toBe(false);
  });
});

describe("DialogStore", () => {
  it("charges the budget per dialog and releases it when the dialog ends; onEnded hears of it once", () => {
    const { scheduler } = clock();
    const store = new DialogStore(scheduler, T);
    const ended: string[] = [];
    store.onEnded = (d) => ended.push(d.callId);
    const before = store.budget.used;
    const d = store.accept("c1", "l1", "r1", undefined, () => {}, 300);
    expect(store.budget.used - before).toBe(d.cost);
    expect(d.cost).toBeGreaterThan(300);
    store.end(d);
    store.end(d);
    expect(store.budget.used).toBe(before);
    expect(ended).toEqual(["c1"]);
    expect(store.alive(d)).toBe(false);
  });

  it("add replaces a dialog with the same identity, ending the old one and its timers", () => {
    const { scheduler, at } = clock();
    const store = new DialogStore(scheduler, T);
    const first = store.add({ callId: "c", localTag: "l", remoteTag: "r", confirmed: true, uac: true });
    let hungUp = 0;
    first.hangUpAfter(1000, () => hungUp++);
    const second = store.add({ callId: "c", localTag: "l", remoteTag: "r", confirmed: true, uac: true });
    expect(store.alive(first)).toBe(false);
    expect(store.alive(second)).toBe(true);
    expect(store.find("c", "l", "r")).toBe(second);
    at(5000);
    expect(hungUp).toBe(0);
    expect(store.list()).toEqual([{ callId: "c", localTag: "l", remoteTag: "r", confirmed: true }]);
  });

  it("list shows the peer's last SDP", () => {
    const { scheduler } = clock();
    const store = new DialogStore(scheduler, T);
    const d = store.accept("c1", "l1", "r1", undefined, () => {});
    d.recordRemoteSdp("v=0\r\n");
    expect(store.list()).toEqual([
      { callId: "c1", localTag: "l1", remoteTag: "r1", confirmed: false, remoteSdp: "v=0\r\n" },
    ]);
  });
});

describe("DialogStore: a call's dialogs", () => {
  it("byCallId finds the live dialogs of a Call-ID (forks too), and forgets each as it ends or is replaced", () => {
    const { scheduler } = clock();
    const store = new DialogStore(scheduler, T);
    const ended: string[] = [];
    store.onEnded = (d) => ended.push(`${d.remoteTag}:${store.byCallId(d.callId).length}`);
    const a = store.add({ callId: "c1", localTag: "l", remoteTag: "fork-a" });
    const b = store.add({ callId: "c1", localTag: "l", remoteTag: "fork-b" });
    store.add({ callId: "c2", localTag: "l", remoteTag: "x" });
    expect(store.byCallId("c1")).toEqual([a, b]);
    const b2 = store.add({ callId: "c1", localTag: "l", remoteTag: "fork-b" });
    expect(store.byCallId("c1")).toEqual([a, b2]);
    store.end(a);
    store.end(a);
    expect(store.byCallId("c1")).toEqual([b2]);
    store.end(b2);
    expect(store.byCallId("c1")).toEqual([]);
    expect(store.byCallId("c2")).toHaveLength(1);
    // Told after the dialog left the store: the count is of the others.
    expect(ended).toEqual(["fork-b:1", "fork-a:1", "fork-b:0"]);
  });

  it("find takes the dialog by Call-ID and both tags, among forks too; countOf counts a Call-ID's live dialogs", () => {
    const { scheduler } = clock();
    const store = new DialogStore(scheduler, T);
    const a = store.accept("c1", "l", "fork-a", undefined, () => {});
    expect(store.find("c1", "l", "fork-a")).toBe(a);
    expect(store.find("c1", "l", "fork-b")).toBeUndefined();
    expect(store.find("c1", "other", "fork-a")).toBeUndefined();
    expect(store.find("c1", undefined, "fork-a")).toBeUndefined();
    const b = store.accept("c1", "l", "fork-b", undefined, () => {});
    const c = store.accept("c1", "l", "", undefined, () => {});
    expect([store.find("c1", "l", "fork-a"), store.find("c1", "l", "fork-b")]).toEqual([a, b]);
    expect(store.find("c1", "l", undefined)).toBe(c);
    expect(store.accept("c1", "l", "fork-b", undefined, () => {})).toBe(b);
    expect([store.countOf("c1"), store.countOf("c2")]).toEqual([3, 0]);
    store.end(a);
    store.end(c);
    expect(store.find("c1", "l", "fork-a")).toBeUndefined();
    expect(store.find("c1", "l", "fork-b")).toBe(b);
    expect(store.countOf("c1")).toBe(1);
    store.end(b);
    expect([store.find("c1", "l", "fork-b"), store.countOf("c1"), store.size]).toEqual([undefined, 0, 0]);
  });
});
