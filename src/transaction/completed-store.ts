/**
 * Non-INVITE server transactions in "Completed" over UDP (RFC 3261 17.2.2):
 * for Timer J's 64*T1 (32 s) they only resend their final response to
 * retransmissions of the request. At thousands of requests a second that is
 * 100,000s of them alive at once, so here each one is no object at all: a
 * slot in parallel arrays of a ring (its key's and merge key's 64-bit
 * fingerprints, its To tag as a number, flow, where its response's bytes
 * are: no string in the common case), its response's octets copied into an
 * arena of shared chunks, and one timer for the whole store. Timer J is the same
 * delay for every one, so they end in the order they entered: first in,
 * first out, no scheduler entry each (issue 12).
 *
 * The transaction layer keeps, in its KeyIndexes, the slot's sequence
 * number instead of a transaction object; a consumer that needs a
 * ServerTransaction (onRetransmission, onTerminated, merged-request
 * detection) gets a CompletedView made on demand.
 */
import { SIP_METHODS } from "../sip/methods.js";
import type { Flow } from "../transport/types.js";
import { COMPLETED_TRANSACTION_OVERHEAD } from "./budget.js";
import {
  CompletedView,
  EXTRA,
  MERGED,
  SILENT,
  StoredResponse,
  THEIR_TAG,
  type ViewStore,
} from "./completed-view.js";
import { ResponseArena } from "./response-arena.js";
import type { Scheduler, TimerHandle, TimerTarget } from "./scheduler.js";
import type { ServerTransaction, ServerTransactionState, TerminationReason } from "./server-transaction.js";
import { Fingerprint, RFC2543_PREFIX } from "./transaction-key.js";

export { CompletedView } from "./completed-view.js";
export { methodOfKey } from "./transaction-key.js";

/** What the store tells its owner (the transaction layer). */
export interface CompletedOwner {
  /** Resends bytes (a retransmission) on a flow. */
  send(flow: Flow, bytes: Buffer, retransmission: boolean): void;
  /** A stored transaction ended (Timer J, or shutdown): its map entries and budget go. */
  ended(view: CompletedView, seq: number, reason: TerminationReason): void;
}

/**
 * Sequence numbers wrap here: times 4 (the transaction layer adds which
 * store) they stay small integers (Smi) in the maps; a multiple of every
 * ring size.
 */
const SEQ_WRAP = 2 ** 28;
const INITIAL = 1024;

/**
 * What a slot keeps as strings, for the few that need it: its key, when
 * the TU still holds something under it or the response does not repeat
 * it (RFC 2543); its To tag when it is not 12 hex digits (newTag's); its
 * method when it is not a registered one.
 */
interface Extra {
  id?: string;
  tag?: string;
  method?: string;
}

/**
 * A slot keeps its method as a code: the registered methods' (the parser
 * gives them as these very strings); any other method is an Extra string,
 * gone with its slot (no table a peer could fill).
 */
const METHOD_CODE: ReadonlyMap<string, number> = new Map(SIP_METHODS.map((m, i) => [m, i]));

export class CompletedStore implements TimerTarget, ViewStore {
  private cap = INITIAL;
  /** Fingerprints (transaction-key.ts) of each slot's key and merge key. */
  private keyHis = new Int32Array(INITIAL);
  private keyLos = new Int32Array(INITIAL);
  private mergeHis = new Int32Array(INITIAL);
  private mergeLos = new Int32Array(INITIAL);
  /**
   * The To tag of its responses as a number, when it is 12 hex digits (kept:
   * a fault may have made the stored bytes unreadable); NaN: in Extra.
   */
  private tags = new Float64Array(INITIAL);
  private methodCodes = new Uint8Array(INITIAL);
  /** Extra strings by sequence number (a slot with the EXTRA bit). */
  private readonly extras = new Map<number, Extra>();
  /** The fingerprints of the last add()'s key and merge key (read by the transaction layer). */
  readonly key = new Fingerprint();
  readonly merge = new Fingerprint();
  private flows: Array<Flow | undefined> = new Array(INITIAL);
  private chunks: Array<Buffer | undefined> = new Array(INITIAL);
  private templates: Array<Buffer | undefined> = new Array(INITIAL);
  private offsets = new Int32Array(INITIAL);
  private prefixes = new Int32Array(INITIAL);
  private suffixes = new Int32Array(INITIAL);
  private lengths = new Int32Array(INITIAL);
  private statuses = new Int32Array(INITIAL);
  private expiries = new Float64Array(INITIAL);
  /** Sequence number of the oldest slot, and of the next one (head === tail: empty). */
  private head = 0;
  private tail = 0;
  private count = 0;
  private readonly arena = new ResponseArena();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly owner: CompletedOwner,
    private readonly scheduler: Scheduler,
    /** The state its transactions are in ("completed": non-INVITE, 17.2.2; "confirmed": INVITE, 17.2.1). */
    private readonly state: ServerTransactionState = "completed",
    /** Why they end when their delay is over (Timer J; Timer I for Confirmed). */
    private readonly timerReason: TerminationReason = "timer-j",
  ) {}

  /** Transactions stored now. */
  get size(): number {
    return this.count;
  }

  /**
   * Stores a completed transaction until `delay` ms from now; its sequence
   * number, or -1 when it cannot be kept in order (a shorter delay than
   * the newest's: the caller keeps the transaction object).
   */
  add(tx: ServerTransaction, response: Buffer, status: number, silent: boolean, delay: number): number {
    const at = this.scheduler.now() + delay;
    if (this.count > 0 && at < this.expiries[this.slot(this.tail - 1)]!) return -1;
    if (this.count === this.cap) this.resize(this.cap * 2);
    const seq = this.tail;
    const i = this.slot(seq);
    let bits = status | (silent ? SILENT : 0) | (tx.request.core.to.tag ? THEIR_TAG : 0);
    this.key.of(tx.id);
    this.keyHis[i] = this.key.hi;
    this.keyLos[i] = this.key.lo;
    if (tx.mergeKey !== undefined) {
      this.merge.of(tx.mergeKey);
      this.mergeHis[i] = this.merge.hi;
      this.mergeLos[i] = this.merge.lo;
      bits |= MERGED;
    }
    const tag = hexTag(tx.toTag);
    this.tags[i] = tag;
    const code = METHOD_CODE.get(tx.method);
    this.methodCodes[i] = code ?? 0;
    if (Number.isNaN(tag) || code === undefined || tx.id.startsWith(RFC2543_PREFIX)) {
      bits |= EXTRA;
      this.extras.set(seq, {
        id: tx.id.startsWith(RFC2543_PREFIX) ? tx.id : undefined,
        tag: Number.isNaN(tag) ? tx.toTag : undefined,
        method: code === undefined ? tx.method : undefined,
      });
    }
    this.flows[i] = this.shared(tx.flow);
    this.keep(i, response);
    this.statuses[i] = bits;
    this.expiries[i] = at;
    this.tail = (seq + 1) % SEQ_WRAP;
    this.count++;
    if (this.timerAt > at) this.arm(at);
    return seq;
  }

  /**
   * Keeps the key of a stored transaction as its string: someone still
   * holds something under it (the TU's context), so views must give it
   * exactly, not as read back from the response.
   */
  keepId(seq: number, id: string): void {
    const i = this.slot(seq);
    const extra = (this.statuses[i]! & EXTRA) !== 0 ? this.extras.get(seq) : undefined;
    if (extra) extra.id = id;
    else this.extras.set(seq, { id });
    this.statuses[i]! |= EXTRA;
  }

  /**
   * 17.2.2: "While in the "Completed" state, the server transaction MUST
   * pass the final response to the transport layer for retransmission
   * whenever a retransmission of the request is received." (Not with the
   * fault noRetransmit.) The bytes are a copy of their own: the journal
   * may keep them, and must not keep a whole chunk.
   */
  retransmit(seq: number): void {
    const i = this.slot(seq);
    if ((this.statuses[i]! & SILENT) !== 0) return;
    this.owner.send(this.flows[i]!, this.storedOf(i).bytes(), true);
  }

  /** A ServerTransaction for a stored one, for whoever asks (made on demand, not kept). */
  view(seq: number): CompletedView {
    const i = this.slot(seq);
    const bits = this.statuses[i]!;
    const extra = (bits & EXTRA) !== 0 ? this.extras.get(seq) : undefined;
    const tag = this.tags[i]!;
    return new CompletedView(
      this,
      this.state,
      seq,
      extra?.method ?? SIP_METHODS[this.methodCodes[i]!]!,
      extra?.id,
      Number.isNaN(tag) ? extra!.tag! : tag.toString(16).padStart(12, "0"),
      this.flows[i]!,
      this.storedOf(i),
      bits,
      COMPLETED_TRANSACTION_OVERHEAD + this.lengths[i]!,
      this.keyHis[i]!,
      this.keyLos[i]!,
      this.mergeHis[i]!,
      this.mergeLos[i]!,
    );
  }

  /** Octets a stored transaction's response takes (for the budget). */
  lengthOf(seq: number): number {
    return this.lengths[this.slot(seq)]!;
  }

  /** Whether `seq` is still stored (a view may outlive its slot): its slot has the key fingerprint (hi, lo). */
  holds(seq: number, hi: number, lo: number): boolean {
    const i = this.slot(seq);
    return this.count > 0 && this.live(seq) && this.keyHis[i] === hi && this.keyLos[i] === lo;
  }

  /** Timer J (or I) of the oldest ones: every transaction whose delay is over ends, in order. */
  onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.scheduler.now();
    while (this.count > 0) {
      const i = this.slot(this.head);
      if (this.expiries[i]! > now) break;
      // 17.2.2: "The server transaction remains in this state until Timer
      // J fires, at which point it MUST transition to the "Terminated"
      // state." 17.2.1: "Once timer I fires, the server MUST transition to
      // the "Terminated" state."
      this.endOldest(this.timerReason);
    }
    // Back down after a burst (at a quarter full, so a rate near a size does not make it resize back and forth).
    if (this.cap > INITIAL && this.count <= this.cap / 4) this.resize(this.cap / 2);
    if (this.count > 0) this.arm(this.expiries[this.slot(this.head)]!);
  }

  /** Ends every stored transaction (shutdown), oldest first. */
  endAll(reason: TerminationReason): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    while (this.count > 0) this.endOldest(reason);
  }

  private endOldest(reason: TerminationReason): void {
    const seq = this.head;
    const view = this.view(seq);
    const i = this.slot(seq);
    if ((this.statuses[i]! & EXTRA) !== 0) this.extras.delete(seq);
    this.flows[i] = undefined;
    this.chunks[i] = undefined;
    this.templates[i] = undefined;
    this.head = (seq + 1) % SEQ_WRAP;
    this.count--;
    view.state = "terminated";
    this.owner.ended(view, seq, reason);
  }

  /**
   * The flow of the newest stored transaction when it says the same as
   * `flow` (a UDP listener makes a flow object per datagram: from one peer
   * they are all alike), else `flow`: one object, not one each.
   */
  private shared(flow: Flow): Flow {
    const last = this.count > 0 ? this.flows[this.slot(this.tail - 1)] : undefined;
    return last !== undefined && sameFlow(last, flow) ? last : flow;
  }

  /** Copies the response into the arena (ResponseArena: without what it shares with a recent one). */
  private keep(i: number, response: Buffer): void {
    const k = this.arena.keep(response);
    this.chunks[i] = k.chunk;
    this.offsets[i] = k.offset;
    this.templates[i] = k.template;
    this.prefixes[i] = k.prefix;
    this.suffixes[i] = k.suffix;
    this.lengths[i] = response.length;
  }

  /** Where slot i's response lies (its bytes() are the response, in a Buffer of its own). */
  private storedOf(i: number): StoredResponse {
    return new StoredResponse(
      this.chunks[i]!,
      this.offsets[i]!,
      this.templates[i],
      this.prefixes[i]!,
      this.suffixes[i]!,
      this.lengths[i]!,
    );
  }

  private live(seq: number): boolean {
    const age = (seq - this.head + SEQ_WRAP) % SEQ_WRAP;
    return age < this.count;
  }

  private slot(seq: number): number {
    return seq & (this.cap - 1);
  }

  private arm(at: number): void {
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.scheduler.schedule(at - this.scheduler.now(), this);
  }

  /** Slots in the ring now (it doubles when full and halves at a quarter full, never below its first size). */
  get capacity(): number {
    return this.cap;
  }

  /** Resizes the ring (count <= cap); each slot moves to its sequence number's place in the new one. */
  private resize(cap: number): void {
    const keyHis = new Int32Array(cap);
    const keyLos = new Int32Array(cap);
    const mergeHis = new Int32Array(cap);
    const mergeLos = new Int32Array(cap);
    const tags = new Float64Array(cap);
    const methodCodes = new Uint8Array(cap);
    const flows = new Array<Flow | undefined>(cap);
    const chunks = new Array<Buffer | undefined>(cap);
    const templates = new Array<Buffer | undefined>(cap);
    const offsets = new Int32Array(cap);
    const prefixes = new Int32Array(cap);
    const suffixes = new Int32Array(cap);
    const lengths = new Int32Array(cap);
    const statuses = new Int32Array(cap);
    const expiries = new Float64Array(cap);
    for (let k = 0; k < this.count; k++) {
      const seq = (this.head + k) % SEQ_WRAP;
      const from = this.slot(seq);
      const to = seq & (cap - 1);
      keyHis[to] = this.keyHis[from]!;
      keyLos[to] = this.keyLos[from]!;
      mergeHis[to] = this.mergeHis[from]!;
      mergeLos[to] = this.mergeLos[from]!;
      tags[to] = this.tags[from]!;
      methodCodes[to] = this.methodCodes[from]!;
      flows[to] = this.flows[from];
      chunks[to] = this.chunks[from];
      templates[to] = this.templates[from];
      offsets[to] = this.offsets[from]!;
      prefixes[to] = this.prefixes[from]!;
      suffixes[to] = this.suffixes[from]!;
      lengths[to] = this.lengths[from]!;
      statuses[to] = this.statuses[from]!;
      expiries[to] = this.expiries[from]!;
    }
    this.cap = cap;
    this.keyHis = keyHis;
    this.keyLos = keyLos;
    this.mergeHis = mergeHis;
    this.mergeLos = mergeLos;
    this.tags = tags;
    this.methodCodes = methodCodes;
    this.flows = flows;
    this.chunks = chunks;
    this.templates = templates;
    this.offsets = offsets;
    this.prefixes = prefixes;
    this.suffixes = suffixes;
    this.lengths = lengths;
    this.statuses = statuses;
    this.expiries = expiries;
  }
}

/** A To tag of 12 lowercase hex digits (newTag's) as a number, else NaN. */
function hexTag(tag: string): number {
  if (tag.length !== 12) return Number.NaN;
  for (let k = 0; k < 12; k++) {
    const c = tag.charCodeAt(k);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return Number.NaN;
  }
  return Number.parseInt(tag, 16);
}

/** Whether two flows say the same (every field of Flow, in src/transport/types.ts; endpoints by value). */
function sameFlow(a: Flow, b: Flow): boolean {
  return (
    a.transport === b.transport &&
    sameEndpoint(a.local, b.local) &&
    sameEndpoint(a.remote, b.remote) &&
    sameEndpoint(a.replyTo, b.replyTo) &&
    sameEndpoint(a.localSocket, b.localSocket) &&
    a.connectionId === b.connectionId &&
    a.flowOnly === b.flowOnly
  );
}

function sameEndpoint(a: Flow["replyTo"], b: Flow["replyTo"]): boolean {
  return a === b || (a !== undefined && b !== undefined && a.address === b.address && a.port === b.port);
}
