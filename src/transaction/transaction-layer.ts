/**
 * Server transaction matching and lifetime (RFC 3261 17.2.3), the index the
 * UAS core needs for CANCEL (9.2) and merged requests (8.2.2.2), and freeing
 * of terminated transactions so memory stays flat under load.
 */
import type { ParsedRequest, ParsedResponse } from "../sip/message.js";
import { SteadyMap } from "../sip/steady-map.js";
import type { Flow } from "../transport/types.js";
import {
  type Budgets,
  COMPACTED_TRANSACTION_OVERHEAD,
  COMPLETED_TRANSACTION_OVERHEAD,
  createBudgets,
  ITEM_OVERHEAD,
  PARSED_FACTOR,
} from "./budget.js";
import { CompletedStore, type CompletedView, type EndedSlot } from "./completed-store.js";
import { type InviteClientCallbacks, InviteClientTransaction } from "./invite-client-transaction.js";
import { InviteServerTransaction } from "./invite-server-transaction.js";
import { KeyIndex } from "./key-index.js";
import { type ClientCallbacks, NonInviteClientTransaction } from "./non-invite-client-transaction.js";
import { NonInviteServerTransaction } from "./non-invite-server-transaction.js";
import type { OverloadReason } from "./overload.js";
import { RefusedStore } from "./refused-store.js";
import type { Scheduler } from "./scheduler.js";
import type { ServerTransaction, TerminationReason, TransactionEnvironment } from "./server-transaction.js";
import { newTag } from "./tags.js";
import type { TimerConfig } from "./timers.js";
import { Fingerprint, flat, isRfc3261Branch, mergeKey, transactionKey } from "./transaction-key.js";

export { newTag, statelessTag } from "./tags.js";
export { transactionKey } from "./transaction-key.js";

export interface TransactionUser {
  /** A request that created a new server transaction (never ACK). */
  onRequest(tx: ServerTransaction): void;
  /**
   * An ACK that is not for a non-2xx final response: the ACK for a 2xx is
   * its own transaction and goes to the TU (17.1.1.3, RFC 6026 7.1).
   */
  onAck(ack: ParsedRequest, flow: Flow, invite?: ServerTransaction): void;
  /**
   * A request that would create a new transaction (not ACK, not CANCEL),
   * before it has one: why the TU answered it statelessly (503 under
   * overload, 8.2.7), so no transaction is made for it; undefined: not
   * refused. Over UDP the layer remembers the refusal (RefusedStore).
   * `cost`: the octets its transaction would be charged.
   */
  refuse?(request: ParsedRequest, flow: Flow, cost: number): OverloadReason | undefined;
  /** A retransmission of a request refused statelessly: the same 503 again (8.2.7). */
  refuseAgain?(request: ParsedRequest, flow: Flow, reason: OverloadReason): void;
  /** A retransmission of the request arrived (after the transaction handled it). */
  onRetransmission?(tx: ServerTransaction): void;
  /**
   * The transaction now lives in its compact form (a CompletedStore):
   * whoever still holds its object keeps it alive for nothing. True when
   * the TU still holds something under its id (the store then keeps the id
   * as a string; otherwise views read it back from the response). Without
   * this method, every id is kept.
   */
  onStored?(tx: ServerTransaction): boolean;
  /**
   * A transaction ended; `reason` is "timer-h" when a final response was
   * never acknowledged. Not called for a stored transaction whose onStored
   * said the TU holds nothing under it.
   */
  onTerminated?(tx: ServerTransaction, reason: TerminationReason): void;
}

/**
 * A live server transaction: its object (in the maps), or its place in a
 * CompletedStore (in the KeyIndexes), as one small integer: sequence
 * number * 4 + the store (STORED_STATES' index); or a request refused
 * statelessly (sequence number * 4 + REFUSED, in storedKeys only).
 */
type Live = ServerTransaction | number;

/**
 * The states whose transactions a CompletedStore keeps, the store of each,
 * and why they end: over UDP a non-INVITE one Completed until Timer J
 * (17.2.2) and an INVITE one Confirmed until Timer I (17.2.1); on every
 * transport an INVITE one Accepted until Timer L (RFC 6026 7.1).
 */
const STORED_STATES = ["completed", "confirmed", "accepted"] as const;
const STORED_REASONS = ["timer-j", "timer-i", "timer-l"] as const;
/** The kind (the low two bits) of a storedKeys entry that is a refusal in the RefusedStore. */
const REFUSED = 3;

export class TransactionLayer {
  /** Transaction objects by key (17.2.3): the ones not (yet) in a CompletedStore. */
  private readonly transactions = new SteadyMap<string, ServerTransaction>();
  /** From tag + Call-ID + CSeq -> transaction object, for merged-request detection (8.2.2.2). */
  private readonly byDialogKey = new SteadyMap<string, ServerTransaction>();
  /** Stored transactions by the fingerprint of their key, and of their merge key (no strings kept). */
  private readonly storedKeys = new KeyIndex();
  private readonly storedMerges = new KeyIndex();
  /** A key's fingerprint (one object, reused). */
  private readonly print = new Fingerprint();
  private readonly env: TransactionEnvironment;
  /** The CompletedStore of each of STORED_STATES. */
  private readonly stores: readonly CompletedStore[];
  /** Requests refused statelessly over UDP, for 64*T1. */
  private readonly refusals: RefusedStore;

  constructor(
    send: (flow: Flow, bytes: Buffer, retransmission: boolean, failed?: (err: Error) => void) => void,
    private readonly tu: TransactionUser,
    private readonly scheduler: Scheduler,
    private readonly timers: TimerConfig,
    /** Byte budgets: server transactions charge "transactions", client ones "outbound". */
    readonly budgets: Budgets = createBudgets(),
  ) {
    this.env = {
      send,
      // A transaction terminates once and is the only one under its id
      // (receive() makes none while one lives) and, when it has a
      // mergeKey, under that key: no lookup before each delete.
      terminated: (tx, reason) => {
        this.lookedUp = undefined;
        if (this.transactions.delete(tx.id)) this.budgets.transactions.release(tx.cost);
        if (tx.mergeKey !== undefined) {
          this.byDialogKey.delete(tx.mergeKey);
          tx.mergeKey = undefined;
        }
        this.tu.onTerminated?.(tx, reason);
      },
      // From its final response on, a transaction is charged what it still
      // keeps (issue 12): the request's rows and body are gone.
      compacted: (tx) => {
        if (this.transactions.get(tx.id) !== tx) return;
        const cost = COMPACTED_TRANSACTION_OVERHEAD + (tx.lastResponse?.bytes.length ?? 0);
        if (cost >= tx.cost) return;
        this.budgets.transactions.adjust(tx.cost, cost);
        tx.cost = cost;
      },
      store: (tx, response, status, silent, delay) => this.store(tx, response, status, silent, delay),
    };
    this.stores = STORED_STATES.map(
      (state, kind) =>
        new CompletedStore(
          { send, ended: (slot, view, seq, reason) => this.storedEnded(slot, view, seq * 4 + kind, reason) },
          scheduler,
          state,
          STORED_REASONS[kind],
        ),
    );
    const forgotten = (hi: number, lo: number, seq: number) => {
      this.lookedUp = undefined;
      this.storedKeys.delete(hi, lo, seq * 4 + REFUSED);
    };
    this.refusals = new RefusedStore({ forgotten }, scheduler, 64 * timers.t1);
  }

  /** Live server transactions (refusals are none). */
  get size(): number {
    return this.transactions.size + this.storedKeys.size - this.refusals.size;
  }

  /** Stateless refusals remembered now (RefusedStore). */
  get refused(): number {
    return this.refusals.size;
  }

  /**
   * A transaction Completed (non-INVITE) or Confirmed (INVITE) over UDP,
   * or Accepted (INVITE) on any transport, goes to the CompletedStore of
   * its state; its map entries name its slot.
   */
  private store(
    tx: ServerTransaction,
    response: Buffer,
    status: number,
    silent: boolean,
    delay: number,
  ): boolean {
    const kind = STORED_STATES.indexOf(tx.state as (typeof STORED_STATES)[number]);
    if (kind < 0 || this.transactions.get(tx.id) !== tx) return false;
    const store = this.stores[kind]!;
    const seq = store.add(tx, response, status, silent, delay);
    if (seq < 0) return false;
    const live = seq * 4 + kind;
    this.lookedUp = undefined;
    this.transactions.delete(tx.id);
    this.storedKeys.add(store.key.hi, store.key.lo, live);
    if (tx.mergeKey !== undefined) {
      this.byDialogKey.delete(tx.mergeKey);
      this.storedMerges.add(store.merge.hi, store.merge.lo, live);
      tx.mergeKey = undefined;
    }
    // From its final response on, it is charged what the store keeps (issue 12).
    const cost = COMPLETED_TRANSACTION_OVERHEAD + response.length;
    this.budgets.transactions.adjust(tx.cost, cost);
    tx.cost = cost;
    if (this.tu.onStored?.(tx) ?? true) store.keepId(seq, tx.id);
    return true;
  }

  /** A stored transaction (as its map entries name it) as a ServerTransaction. */
  private viewOf(live: number): CompletedView {
    return this.stores[live & 3]!.view(live >>> 2);
  }

  /**
   * A stored transaction ended (Timer J, I or L, shutdown): as
   * env.terminated for a transaction object. The TU is told only when it
   * holds something under it (onStored said so): the others end without a
   * view made for them.
   */
  private storedEnded(
    slot: EndedSlot,
    view: CompletedView | undefined,
    live: number,
    reason: TerminationReason,
  ): void {
    if (this.storedKeys.delete(slot.keyHi, slot.keyLo, live)) {
      this.lookedUp = undefined;
      this.budgets.transactions.release(slot.cost);
    }
    if (slot.merged) this.storedMerges.delete(slot.mergeHi, slot.mergeLo, live);
    if (view === undefined) return;
    view.mergeKey = undefined;
    this.tu.onTerminated?.(view, reason);
  }

  /** Client transactions of requests the mock sends (RFC 3261 17.1), by branch and method. */
  private readonly clients = new Map<string, NonInviteClientTransaction | InviteClientTransaction>();

  /**
   * Sends a non-INVITE request through a new client transaction (17.1.2).
   * `branch` and `method` must be those of the request's top Via and CSeq.
   */
  sendRequest(
    flow: Flow,
    bytes: Buffer,
    branch: string,
    method: string,
    callbacks: Omit<ClientCallbacks, "terminated">,
    /** Timer E over UDP (false: sent once, for a destination that never sent us anything). */
    retransmit = true,
  ): void {
    const key = flat(`${branch}|${method}`);
    // One transaction per branch and method (17.1.3): a second one would
    // take the first one's responses.
    this.clients.get(key)?.abort();
    const cost = bytes.length + ITEM_OVERHEAD.outbound;
    this.budgets.outbound.charge(cost);
    const tx = new NonInviteClientTransaction(
      key,
      flow,
      bytes,
      this.env.send,
      this.scheduler,
      this.timers,
      {
        ...callbacks,
        terminated: () => {
          this.budgets.outbound.release(cost);
          if (this.clients.get(key) === tx) this.clients.delete(key);
        },
      },
      retransmit,
    );
    this.clients.set(key, tx);
    tx.start();
  }

  /**
   * Sends an INVITE through a new INVITE client transaction (17.1.1);
   * `ackFor` builds the ACK for a non-2xx final response (17.1.1.3).
   */
  sendInvite(
    flow: Flow,
    bytes: Buffer,
    branch: string,
    ackFor: (response: ParsedResponse) => Buffer,
    callbacks: Omit<InviteClientCallbacks, "terminated">,
    /** Timer A over UDP (false: sent once, for a destination that never sent us anything). */
    retransmit = true,
  ): InviteClientTransaction {
    const key = flat(`${branch}|INVITE`);
    const cost = bytes.length + ITEM_OVERHEAD.outbound;
    this.budgets.outbound.charge(cost);
    const tx = new InviteClientTransaction(
      key,
      flow,
      bytes,
      ackFor,
      this.env.send,
      this.scheduler,
      this.timers,
      {
        ...callbacks,
        terminated: () => {
          this.budgets.outbound.release(cost);
          this.clients.delete(key);
        },
      },
      retransmit,
    );
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  /** Ends every client transaction; their TU hears a timeout (shutdown). */
  private endClients(): void {
    for (const tx of [...this.clients.values()]) tx.abort();
  }

  /** 17.1.3: a response matches the client transaction of its top Via branch and CSeq method. */
  receiveResponse(response: ParsedResponse): boolean {
    const branch = response.core.via[0]?.branch;
    if (!branch) return false;
    const tx = this.clients.get(`${branch}|${response.core.cseq.method}`);
    if (!tx) return false;
    tx.receive(response);
    return true;
  }

  /** Transactions still waiting for their final response (Trying or Proceeding). */
  get unanswered(): number {
    let n = 0;
    for (const tx of this.transactions.values()) if (tx.state === "trying" || tx.state === "proceeding") n++;
    return n;
  }

  /** Whether a request is a retransmission of one whose transaction is alive (17.2.3). */
  isRetransmission(request: ParsedRequest): boolean {
    return request.method !== "ACK" && this.liveOf(request) !== undefined;
  }

  /** Whether a request belongs to a transaction in flight (a retransmission, an ACK or a CANCEL). */
  knows(request: ParsedRequest): boolean {
    if (request.method === "ACK" || request.method === "CANCEL") return true;
    return this.liveOf(request) !== undefined;
  }

  /**
   * The last request looked up and what the map held for its key: the
   * inbound path asks isRetransmission() and then receive() for the same
   * request, with one lookup. Forgotten on every change to the map.
   */
  private lookedUp: ParsedRequest | undefined;
  private found: Live | undefined;

  private liveOf(request: ParsedRequest): Live | undefined {
    if (request !== this.lookedUp) {
      const key = this.keyOf(request);
      this.found = this.transactions.get(key) ?? this.storedUnder(this.storedKeys, key);
      this.lookedUp = request;
    }
    return this.found;
  }

  /** The stored transaction `index` has under the fingerprint of `key`. */
  private storedUnder(index: KeyIndex, key: string): number | undefined {
    const p = this.print.of(key);
    const live = index.get(p.hi, p.lo);
    return live < 0 ? undefined : live;
  }

  /** The last request keyed and its key: isRetransmission() then receive() build it once. */
  private keyed: ParsedRequest | undefined;
  private lastKey = "";

  /** transactionKey(request, request.method), built once per request. */
  private keyOf(request: ParsedRequest): string {
    if (request !== this.keyed) {
      this.lastKey = transactionKey(request, request.method);
      this.keyed = request;
    }
    return this.lastKey;
  }

  /** Whether a request the mock sends (`octets` long) fits in the pending outbound budget. */
  outboundFits(octets: number): boolean {
    return this.budgets.outbound.fits(octets + ITEM_OVERHEAD.outbound);
  }

  /**
   * Hands a request to its transaction, or creates one (17.2.3). `size`: its
   * octets on the wire, for the transaction budget.
   */
  receive(request: ParsedRequest, flow: Flow, size = 0): void {
    if (request.method === "ACK") {
      this.receiveAck(request, flow);
      return;
    }
    const existing = this.liveOf(request);
    const id = this.keyOf(request);
    // Not kept beyond its own handling (a reference to the whole message).
    this.keyed = undefined;
    this.lookedUp = undefined;
    this.found = undefined;
    if (typeof existing === "number") {
      if ((existing & 3) === REFUSED) {
        this.refuseAgain(existing >>> 2, request, flow);
        return;
      }
      // (Confirmed and Accepted are stored silent: 17.2.1 and RFC 6026 7.1 send nothing more.)
      this.stores[existing & 3]!.retransmit(existing >>> 2);
      this.tu.onRetransmission?.(this.viewOf(existing));
      return;
    }
    if (existing) {
      existing.receiveRetransmission();
      this.tu.onRetransmission?.(existing);
      return;
    }
    const cost = size * PARSED_FACTOR + ITEM_OVERHEAD.transactions;
    if (request.method !== "CANCEL" && this.refuse(request, flow, id, cost)) return;
    const toTag = request.core.to.tag || newTag();
    const tx =
      request.method === "INVITE"
        ? new InviteServerTransaction(id, request, flow, toTag, this.env, this.scheduler, this.timers)
        : new NonInviteServerTransaction(id, request, flow, toTag, this.env, this.scheduler, this.timers);
    tx.cost = cost;
    this.budgets.transactions.charge(tx.cost);
    this.lookedUp = undefined;
    this.transactions.set(id, tx);
    if (!request.core.to.tag) {
      // Built once; kept by the transaction that merged requests are found
      // under (findMergedWith and its end use it again).
      const mk = mergeKey(request);
      if (!this.byDialogKey.has(mk) && this.storedUnder(this.storedMerges, mk) === undefined) {
        this.byDialogKey.set(mk, tx);
        tx.mergeKey = mk;
      }
    }
    this.tu.onRequest(tx);
  }

  /**
   * Asks the TU whether it refuses a new request statelessly (overload);
   * over UDP a refusal is remembered under the request's key, so its
   * retransmissions get the same 503 and its ACK is absorbed (8.2.7). Over
   * a reliable transport the client does not retransmit (17.1.1.2).
   */
  private refuse(request: ParsedRequest, flow: Flow, id: string, cost: number): boolean {
    const reason = this.tu.refuse?.(request, flow, cost);
    if (reason === undefined) return false;
    if (flow.transport !== "udp") return true;
    const p = this.print.of(id);
    const seq = this.refusals.add(p.hi, p.lo, reason);
    this.storedKeys.add(p.hi, p.lo, seq * 4 + REFUSED);
    this.lookedUp = undefined;
    return true;
  }

  /** A retransmission of a refused request: the TU sends the same 503 again. */
  private refuseAgain(seq: number, request: ParsedRequest, flow: Flow): void {
    this.tu.refuseAgain?.(request, flow, this.refusals.reasonOf(seq));
  }

  /**
   * RFC 3261 9.2: "the CANCEL request matches a transaction [...] using the
   * procedures of 17.2.3 [...] the method of the request is assumed to be
   * INVITE" (the CANCEL's own method is ignored for this match).
   */
  findInviteFor(cancel: ParsedRequest): ServerTransaction | undefined {
    const key = transactionKey(cancel, "INVITE");
    const tx = this.transactions.get(key) ?? this.storedUnder(this.storedKeys, key);
    // A refused INVITE has no transaction to cancel: the CANCEL gets 481 (9.2).
    if (typeof tx === "number") return isStoredInvite(tx) ? this.viewOf(tx) : undefined;
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /**
   * RFC 3261 8.2.2.2: a request without To tag whose From tag, Call-ID and
   * CSeq equal those of an ongoing transaction that it does not match.
   */
  findMergedWith(request: ParsedRequest, own: ServerTransaction): ServerTransaction | undefined {
    if (request.core.to.tag) return undefined;
    // The transaction merged requests are found under: none is found for it.
    if (request === own.request && own.mergeKey !== undefined) return undefined;
    const mk = mergeKey(request);
    const other = this.byDialogKey.get(mk) ?? this.storedUnder(this.storedMerges, mk);
    if (typeof other === "number") return this.viewOf(other);
    return other && other !== own ? other : undefined;
  }

  /** INVITE server transactions still waiting for their final response (Proceeding, 17.2.1). */
  pendingInvites(): InviteServerTransaction[] {
    const out: InviteServerTransaction[] = [];
    for (const tx of this.transactions.values())
      if (tx instanceof InviteServerTransaction && tx.state === "proceeding") out.push(tx);
    return out;
  }

  /** Ends every transaction without sending anything. */
  terminateAll(): void {
    for (const tx of [...this.transactions.values()]) tx.terminate("shutdown");
    for (const store of this.stores) store.endAll("shutdown");
    this.refusals.clear();
    this.endClients();
  }

  private receiveAck(ack: ParsedRequest, flow: Flow): void {
    // 17.2.3: the ACK matches the INVITE transaction it acknowledges (for
    // RFC 2543 requests, also by the To tag of the response we sent).
    const key = transactionKey(ack, "INVITE");
    const tx = this.transactions.get(key) ?? this.storedUnder(this.storedKeys, key);
    // 8.2.7: the ACK of a 503 sent statelessly is ignored.
    if (typeof tx === "number" && (tx & 3) === REFUSED) return;
    if (typeof tx === "number" && isStoredInvite(tx)) {
      const view = this.viewOf(tx);
      // An RFC 2543 ACK with another To tag is not its own.
      if (!isRfc3261Branch(ack.core.via[0]) && ack.core.to.tag !== view.toTag) this.tu.onAck(ack, flow);
      // Accepted: the ACK for the 2xx goes to the TU (RFC 6026 7.1); Confirmed absorbs it (17.2.1).
      else if (view.state === "accepted") this.tu.onAck(ack, flow, view);
      return;
    }
    if (tx instanceof InviteServerTransaction) {
      if (!isRfc3261Branch(ack.core.via[0]) && ack.core.to.tag !== tx.toTag) {
        this.tu.onAck(ack, flow);
        return;
      }
      if (tx.state === "completed" || tx.state === "confirmed") {
        tx.receiveAck();
        return;
      }
      this.tu.onAck(ack, flow, tx);
      return;
    }
    this.tu.onAck(ack, flow);
  }
}

/** A storedKeys entry of a Confirmed or Accepted INVITE (not a non-INVITE's, not a refusal). */
function isStoredInvite(live: number): boolean {
  return (live & 3) === 1 || (live & 3) === 2;
}
