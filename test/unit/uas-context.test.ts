/**
 * The per-server-transaction context (src/ua/server/context.ts): one
 * dispose() cancels every timer it holds and forgets its PRACK index
 * entries and its re-INVITE's dialog flag.
 */
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/transaction/scheduler.js";
import type { ServerTransaction } from "../../src/transaction/server-transaction.js";
import { Dialog } from "../../src/ua/dialogs.js";
import { ServerContexts } from "../../src/ua/server/context.js";
import { nextRSeq } from "../../src/ua/server/prack.js";

function manual() {
  let now = 0;
  const scheduler = new Scheduler(
    { now: () => now },
    (e) => {
      throw e;
    },
    true,
  );
  return {
    scheduler,
    advance(ms: number) {
      now += ms;
      scheduler.runDue();
    },
  };
}

const tx = (id: string) => ({ id }) as unknown as ServerTransaction;

describe("ServerContext", () => {
  it("dispose() cancels the plan's and the reliable provisionals' timers and forgets everything", () => {
    const { scheduler, advance } = manual();
    const fired: string[] = [];
    const contexts = new ServerContexts();
    const ctx = contexts.of(tx("t1"));
    expect(contexts.of(tx("t1"))).toBe(ctx);
    ctx.pending = { timers: [scheduler.schedule(10, () => fired.push("plan"))] };
    const rseq = nextRSeq(ctx);
    expect(nextRSeq(ctx)).toBe(rseq + 1);
    ctx.reliable!.timers.set(
      rseq,
      scheduler.schedule(10, () => fired.push("reliable")),
    );
    ctx.indexPrack(`c|${rseq}|1`);
    expect(contexts.byPrack(`c|${rseq}|1`)).toBe(ctx);
    const dialog = new Dialog({ callId: "c", localTag: "l", remoteTag: "r" }, scheduler);
    dialog.startRemoteInvite();
    expect(dialog.inviteInProgress).toBe(true);
    ctx.startReInvite(dialog);
    expect(contexts.reInviteOf(dialog)).toBe(ctx);
    ctx.followUps = [{ afterMs: 0, send: "BYE" }];
    ctx.awaiting = { remaining: 2, answer: () => fired.push("answer") };
    ctx.dropped = true;

    contexts.end("t1");
    advance(100);
    expect(fired).toEqual([]);
    expect(contexts.get("t1")).toBeUndefined();
    expect(contexts.byPrack(`c|${rseq}|1`)).toBeUndefined();
    expect(dialog.inviteInProgress).toBe(false);
    expect(contexts.reInviteOf(dialog)).toBeUndefined();
    expect(ctx.pending).toBeUndefined();
    expect(ctx.reliable).toBeUndefined();
    expect(ctx.followUps).toBeUndefined();
    expect(ctx.awaiting).toBeUndefined();
    expect(ctx.dropped).toBe(false);
  });

  it("a matched PRACK leaves the other reliable provisionals matchable", () => {
    const contexts = new ServerContexts();
    const ctx = contexts.of(tx("t2"));
    const first = nextRSeq(ctx);
    ctx.indexPrack(`c|${first}|1`);
    ctx.indexPrack(`c|${first + 1}|1`);
    contexts.unindexPrack(`c|${first}|1`);
    expect(contexts.byPrack(`c|${first}|1`)).toBeUndefined();
    expect(contexts.byPrack(`c|${first + 1}|1`)).toBe(ctx);
    ctx.stopReliable();
    expect(contexts.byPrack(`c|${first + 1}|1`)).toBeUndefined();
  });

  it("cancelPending() stops only the plan", () => {
    const { scheduler, advance } = manual();
    const fired: string[] = [];
    const ctx = new ServerContexts().of(tx("t3"));
    ctx.pending = { timers: [scheduler.schedule(5, () => fired.push("plan"))] };
    ctx.reliable = {
      next: 1,
      timers: new Map([[1, scheduler.schedule(5, () => fired.push("reliable"))]]),
      keys: new Set(),
    };
    ctx.cancelPending();
    advance(5);
    expect(fired).toEqual(["reliable"]);
  });
});
