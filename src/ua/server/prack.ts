/**
 * RFC 3262: reliable provisional responses (RSeq, retransmission at T1
 * doubling until PRACK, 504 after 64*T1) and the PRACK that acknowledges one.
 */
import { lenientRAck } from "../../sip/headers/lenient.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { ServerContext } from "./context.js";
import type { ServerCore } from "./core.js";

/** The next RSeq of the transaction's reliable provisionals. */
export function nextRSeq(ctx: ServerContext): number {
  // 3262 3: RSeq is between 1 and 2**31 - 1; start low and random.
  ctx.reliable ??= { next: 1 + Math.floor(Math.random() * 2 ** 20), timers: new Map(), keys: new Set() };
  return ctx.reliable.next++;
}

function prackKey(callId: string, rseq: number, cseq: number): string {
  return `${callId}|${rseq}|${cseq}`;
}

/** 3262 3: retransmit at T1, doubling, until PRACK; after 64*T1 reject the INVITE with a 5xx. */
export function retransmitReliably(
  core: ServerCore,
  tx: ServerTransaction,
  rseq: number,
  status: number,
  bytes: Buffer,
): void {
  const ctx = core.contexts.of(tx);
  const state = ctx.reliable!;
  ctx.indexPrack(prackKey(tx.request.core.callId, rseq, tx.request.core.cseq.seq));
  const { t1 } = core.options.timers;
  const giveUpAfter = 64 * t1;
  let interval = t1;
  let elapsed = 0;
  const tick = () => {
    // 3262 3: the interval doubles; the last wait ends at 64*T1 exactly.
    const wait = Math.min(interval, giveUpAfter - elapsed);
    const timer = core.options.scheduler.schedule(wait, () => {
      if (tx.state !== "proceeding") return;
      elapsed += wait;
      if (elapsed >= giveUpAfter) {
        ctx.stopReliable();
        ctx.cancelPending();
        core.send(tx, {
          status: 504,
          warning: `reliable ${status} (RSeq ${rseq}) was never acknowledged with PRACK`,
        });
        return;
      }
      tx.respond(status, bytes);
      interval *= 2;
      tick();
    });
    state.timers.set(rseq, timer);
  };
  tick();
}

/** RFC 3262 7.2: PRACK names the response it acknowledges in RAck: "rseq cseq method". */
export function handlePrack(core: ServerCore, tx: ServerTransaction): void {
  const req = tx.request;
  // A malformed RAck, or one for another method than INVITE, matches nothing.
  const value = req.headers.get("RAck");
  const parsed = value === undefined ? undefined : lenientRAck(value);
  const rack = parsed?.method.toUpperCase() === "INVITE" ? parsed : undefined;
  const key = rack ? prackKey(req.core.callId, rack.rseq, rack.cseq) : undefined;
  const invite = key ? core.contexts.byPrack(key) : undefined;
  if (!rack || !key || !invite) {
    // 3262 3: a PRACK that matches no unacknowledged reliable provisional gets 481.
    core.send(tx, {
      status: 481,
      warning: rack
        ? "no unacknowledged reliable provisional response matches RAck"
        : "missing or malformed RAck",
    });
    return;
  }
  core.contexts.unindexPrack(key);
  invite.reliable?.timers.get(rack.rseq)?.cancel();
  core.send(tx, { status: 200 });
}
