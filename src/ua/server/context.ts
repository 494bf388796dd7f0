/**
 * One context per server transaction: everything the UAS keeps while it
 * answers a request (its answer plan's timers, RFC 3262 reliable
 * provisionals, held-back answers, `then:` requests, the re-INVITE's
 * dialog, the SDP identity before the dialog exists), and one dispose()
 * that cancels and forgets all of it when the transaction ends.
 */
import { SteadyMap } from "../../sip/steady-map.js";
import type { TimerHandle } from "../../transaction/scheduler.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { Dialog } from "../dialogs.js";
import type { FollowUp } from "../ports.js";
import type { SdpOrigin, WebRtcIdentity } from "../sdp.js";

/** The answer plan's timers (steps, final, ring timeout) or the abandon timer. */
export interface PendingPlan {
  readonly timers: TimerHandle[];
  /** No final answer is planned: it rings until CANCEL (or the ring timeout). */
  ringing?: boolean;
}

/** RFC 3262 state of an INVITE transaction: the next RSeq and each unacknowledged one's timer. */
export interface ReliableState {
  next: number;
  readonly timers: Map<number, TimerHandle>;
  /** prackIndex keys of this transaction. */
  readonly keys: Set<string>;
}

export class ServerContext {
  /** The answer plan's (or abandon) timers, while any may still fire. */
  pending: PendingPlan | undefined;
  /** Dropped by a fault: a CANCEL for it gets its 200, the INVITE stays unanswered. */
  dropped = false;
  reliable: ReliableState | undefined;
  /** A rule's `then:` requests, sent once its final answer went out. */
  followUps: readonly FollowUp[] | undefined;
  /** Held back by the afterRetransmissions fault: answered after `remaining` retransmissions. */
  awaiting: { remaining: number; readonly answer: () => void } | undefined;
  /** An in-dialog INVITE in progress: its dialog, whose flag clears when it ends (14.2). */
  get reInvite(): Dialog | undefined {
    return this.reInviteOf;
  }
  private reInviteOf: Dialog | undefined;
  /** The SDP origin of an initial INVITE's answer, until its 2xx makes the dialog. */
  sdpOrigin: SdpOrigin | undefined;
  /** The WebRTC identity of an initial INVITE's answer, until its 2xx makes the dialog. */
  webrtcId: WebRtcIdentity | undefined;
  /** Answered 503 by the shutdown; the drain waits for its ACK. */
  shutdownAnswered = false;

  constructor(
    readonly tx: ServerTransaction,
    private readonly index: Map<string, ServerContext>,
    /** Dialog -> the context of its re-INVITE in progress (found without a scan when the dialog ends). */
    private readonly reInvites: Map<Dialog, ServerContext>,
  ) {}

  /** This transaction is the dialog's re-INVITE in progress (14.2). */
  startReInvite(dialog: Dialog): void {
    this.releaseDialog();
    this.reInviteOf = dialog;
    this.reInvites.set(dialog, this);
  }

  /** Cancels the answer plan's timers (the plan is over or replaced). */
  cancelPending(): void {
    const p = this.pending;
    if (!p) return;
    for (const t of p.timers) t.cancel();
    this.pending = undefined;
  }

  /** The 14.2 flag of the re-INVITE's dialog clears: its INVITE is answered or gone. */
  releaseDialog(): void {
    const dialog = this.reInviteOf;
    if (!dialog) return;
    dialog.endRemoteInvite();
    if (this.reInvites.get(dialog) === this) this.reInvites.delete(dialog);
    this.reInviteOf = undefined;
  }

  /** Registers a reliable provisional for PRACK matching (Call-ID|RSeq|CSeq). */
  indexPrack(key: string): void {
    this.reliable?.keys.add(key);
    this.index.set(key, this);
  }

  /** Ends RFC 3262 retransmissions and PRACK matching. */
  stopReliable(): void {
    const state = this.reliable;
    if (!state) return;
    for (const t of state.timers.values()) t.cancel();
    for (const k of state.keys) if (this.index.get(k) === this) this.index.delete(k);
    this.reliable = undefined;
  }

  /**
   * Whether it holds nothing: no plan, no RFC 3262 state, no follow-ups,
   * nothing held back, no re-INVITE, no SDP identity, no fault or shutdown
   * mark. Such a context is what `of()` would make anew.
   */
  idle(): boolean {
    return (
      this.pending === undefined &&
      this.reliable === undefined &&
      this.followUps === undefined &&
      this.awaiting === undefined &&
      this.reInviteOf === undefined &&
      this.sdpOrigin === undefined &&
      this.webrtcId === undefined &&
      !this.dropped &&
      !this.shutdownAnswered
    );
  }

  /** The transaction ended: every timer stops, everything is forgotten. */
  dispose(): void {
    this.sdpOrigin = undefined;
    this.webrtcId = undefined;
    this.followUps = undefined;
    this.stopReliable();
    this.releaseDialog();
    this.cancelPending();
    this.awaiting = undefined;
    this.dropped = false;
  }
}

/** The live contexts by transaction id, and reliable provisionals by Call-ID|RSeq|CSeq (PRACK's RAck). */
export class ServerContexts {
  private readonly byTx = new SteadyMap<string, ServerContext>();
  private readonly byRAck = new Map<string, ServerContext>();
  private readonly byReInvite = new Map<Dialog, ServerContext>();

  /** The transaction's context, made on first use. */
  of(tx: ServerTransaction): ServerContext {
    let ctx = this.byTx.get(tx.id);
    if (!ctx) {
      ctx = new ServerContext(tx, this.byRAck, this.byReInvite);
      this.byTx.set(tx.id, ctx);
    }
    return ctx;
  }

  /** The context of a transaction (or of its id); none for one whose TU forgot it (ServerTransaction.forgotten). */
  get(tx: ServerTransaction | string): ServerContext | undefined {
    const id = idOf(tx);
    return id === undefined ? undefined : this.byTx.get(id);
  }

  /** The context of the dialog's re-INVITE in progress, if any. */
  reInviteOf(dialog: Dialog): ServerContext | undefined {
    return this.byReInvite.get(dialog);
  }

  /** The INVITE context whose reliable provisional a PRACK's RAck names. */
  byPrack(key: string): ServerContext | undefined {
    return this.byRAck.get(key);
  }

  /** A PRACK matched: the provisional is acknowledged, no second PRACK matches it. */
  unindexPrack(key: string): void {
    this.byRAck.delete(key);
  }

  /**
   * The transaction lives on in its compact form (a CompletedStore): a
   * context that holds nothing is forgotten now, not at its end 64*T1
   * later (it holds the transaction object, which would live as long).
   * True when one stays: the store then keeps the transaction's id, and
   * end() finds it. When false, the transaction is `forgotten` and no
   * context may be made for it afterwards (of() is only called while a
   * request is handled and answered, before its transaction is stored):
   * end() would not find it.
   */
  releaseIdle(txId: string): boolean {
    const ctx = this.byTx.get(txId);
    if (!ctx) return false;
    if (!ctx.idle()) return true;
    this.byTx.delete(txId);
    return false;
  }

  /** Disposes of and forgets the transaction's context. */
  end(tx: ServerTransaction | string): void {
    const txId = idOf(tx);
    if (txId === undefined) return;
    const ctx = this.byTx.get(txId);
    if (!ctx) return;
    ctx.dispose();
    this.byTx.delete(txId);
  }

  all(): IterableIterator<ServerContext> {
    return this.byTx.values();
  }
}

/** A transaction's id, unless its TU said at onStored that it holds nothing under it (then none is kept). */
function idOf(tx: ServerTransaction | string): string | undefined {
  if (typeof tx === "string") return tx;
  return tx.forgotten ? undefined : tx.id;
}
