/**
 * Non-INVITE server transactions in "Completed" over UDP (RFC 3261 17.2.2),
 * and likewise INVITE ones Confirmed over UDP (Timer I) or Accepted on any
 * transport (Timer L, RFC 6026 7.1), one store per state:
 * for Timer J's 64*T1 (32 s) they only resend their final response to
 * retransmissions of the request. At thousands of requests a second that is
 * 100,000s of them alive at once, so here each one is no object at all: a
 * slot in parallel arrays of a ring (its key's and merge key's 64-bit
 * fingerprints, its To tag as a number, flow, where its response's bytes
 * are: no string in the common case), its response's octets copied into an
 * arena of shared chunks, and one timer for the whole store. Timer J is the same
 * delay for every one, so they end in the order they entered: first in,
 * first out, no scheduler entry each (issue 12). The ring is in segments
 * (store-segments.ts): it grows and shrinks without copying its slots.
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
  HELD,
  MERGED,
  SILENT,
  StoredResponse,
  THEIR_TAG,
  type ViewStore,
} from "./completed-view.js";
import { ResponseArena } from "./response-arena.js";
import type { Scheduler, TimerHandle, TimerTarget } from "./scheduler.js";
import type { ServerTransaction, ServerTransactionState, TerminationReason } from "./server-transaction.js";
import { offsetOf, SEQ_WRAP, type Segment, SegmentDirectory } from "./store-segments.js";
import { Fingerprint, RFC2543_PREFIX } from "./transaction-key.js";

export { CompletedView } from "./completed-view.js";
export { methodOfKey } from "./transaction-key.js";

/** What the store tells its owner (the transaction layer). */
export interface CompletedOwner {
  /** Resends bytes (a retransmission) on a flow. */
  send(flow: Flow, bytes: Buffer, retransmission: boolean): void;
  /**
   * A stored transaction ended (Timer J, I or L, or shutdown): its map
   * entries and budget go. `view` only when its TU holds something under
   * it (keepId): a TU that holds nothing has nothing to end, and no view
   * is made for it.
   */
  ended(slot: EndedSlot, view: CompletedView | undefined, seq: number, reason: TerminationReason): void;
}

/** What the owner's indexes know an ending transaction by (one object, filled for each). */
export interface EndedSlot {
  keyHi: number;
  keyLo: number;
  mergeHi: number;
  mergeLo: number;
  /** Whether it was found under its merge key. */
  merged: boolean;
  /** What the transaction budget was charged for it. */
  cost: number;
}

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
  /** The slots, in segments (store-segments.ts): the ring grows a segment at a time. */
  private readonly segments = new SegmentDirectory();
  /** Extra strings by sequence number (a slot with the EXTRA bit). */
  private readonly extras = new Map<number, Extra>();
  /** The fingerprints of the last add()'s key and merge key (read by the transaction layer). */
  readonly key = new Fingerprint();
  readonly merge = new Fingerprint();
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
    if (this.count > 0 && at < this.expiryOf(this.newest())) return -1;
    const seq = this.tail;
    const g = this.segments.reserve(seq);
    const i = offsetOf(seq);
    let bits = status | (silent ? SILENT : 0) | (tx.request.core.to.tag ? THEIR_TAG : 0);
    this.key.of(tx.id);
    g.keyHis[i] = this.key.hi;
    g.keyLos[i] = this.key.lo;
    if (tx.mergeKey !== undefined) {
      this.merge.of(tx.mergeKey);
      g.mergeHis[i] = this.merge.hi;
      g.mergeLos[i] = this.merge.lo;
      bits |= MERGED;
    }
    const tag = hexTag(tx.toTag);
    g.tags[i] = tag;
    const code = METHOD_CODE.get(tx.method);
    g.methodCodes[i] = code ?? 0;
    if (Number.isNaN(tag) || code === undefined || tx.id.startsWith(RFC2543_PREFIX)) {
      bits |= EXTRA;
      this.extras.set(seq, {
        id: tx.id.startsWith(RFC2543_PREFIX) ? tx.id : undefined,
        tag: Number.isNaN(tag) ? tx.toTag : undefined,
        method: code === undefined ? tx.method : undefined,
      });
    }
    g.flows[i] = this.shared(tx.flow);
    this.keep(g, i, response);
    g.statuses[i] = bits;
    g.expiries[i] = at;
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
    const g = this.segments.of(seq);
    const i = offsetOf(seq);
    const extra = (g.statuses[i]! & EXTRA) !== 0 ? this.extras.get(seq) : undefined;
    if (extra) extra.id = id;
    else this.extras.set(seq, { id });
    g.statuses[i]! |= EXTRA | HELD;
  }

  /**
   * 17.2.2: "While in the "Completed" state, the server transaction MUST
   * pass the final response to the transport layer for retransmission
   * whenever a retransmission of the request is received." (Not with the
   * fault noRetransmit.) The bytes are a copy of their own: the journal
   * may keep them, and must not keep a whole chunk.
   */
  retransmit(seq: number): void {
    const g = this.segments.of(seq);
    const i = offsetOf(seq);
    if ((g.statuses[i]! & SILENT) !== 0) return;
    this.owner.send(g.flows[i]!, this.storedOf(g, i).bytes(), true);
  }

  /** A ServerTransaction for a stored one, for whoever asks (made on demand, not kept). */
  view(seq: number): CompletedView {
    const g = this.segments.of(seq);
    const i = offsetOf(seq);
    const bits = g.statuses[i]!;
    const extra = (bits & EXTRA) !== 0 ? this.extras.get(seq) : undefined;
    const tag = g.tags[i]!;
    return new CompletedView(
      this,
      this.state,
      seq,
      extra?.method ?? SIP_METHODS[g.methodCodes[i]!]!,
      extra?.id,
      Number.isNaN(tag) ? extra!.tag! : tag.toString(16).padStart(12, "0"),
      g.flows[i]!,
      this.storedOf(g, i),
      bits,
      COMPLETED_TRANSACTION_OVERHEAD + g.lengths[i]!,
      g.keyHis[i]!,
      g.keyLos[i]!,
    );
  }

  /** Whether `seq` is still stored (a view may outlive its slot): its slot has the key fingerprint (hi, lo). */
  holds(seq: number, hi: number, lo: number): boolean {
    if (this.count === 0 || !this.live(seq)) return false;
    const g = this.segments.of(seq);
    const i = offsetOf(seq);
    return g.keyHis[i] === hi && g.keyLos[i] === lo;
  }

  /** Timer J (or I) of the oldest ones: every transaction whose delay is over ends, in order. */
  onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.scheduler.now();
    while (this.count > 0) {
      if (this.expiryOf(this.head) > now) break;
      // 17.2.2: "The server transaction remains in this state until Timer
      // J fires, at which point it MUST transition to the "Terminated"
      // state." 17.2.1: "Once timer I fires, the server MUST transition to
      // the "Terminated" state."
      this.endOldest(this.timerReason);
    }
    if (this.count > 0) this.arm(this.expiryOf(this.head));
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
    const g = this.segments.of(seq);
    const i = offsetOf(seq);
    const bits = g.statuses[i]!;
    const view = (bits & HELD) !== 0 ? this.view(seq) : undefined;
    const slot = this.endedSlot;
    slot.keyHi = g.keyHis[i]!;
    slot.keyLo = g.keyLos[i]!;
    slot.mergeHi = g.mergeHis[i]!;
    slot.mergeLo = g.mergeLos[i]!;
    slot.merged = (bits & MERGED) !== 0;
    slot.cost = COMPLETED_TRANSACTION_OVERHEAD + g.lengths[i]!;
    if ((bits & EXTRA) !== 0) this.extras.delete(seq);
    g.flows[i] = undefined;
    g.chunks[i] = undefined;
    g.templates[i] = undefined;
    this.head = (seq + 1) % SEQ_WRAP;
    this.count--;
    // The head moved past the last slot of its segment: the segment goes (or is kept as the spare).
    if (offsetOf(this.head) === 0) this.segments.release();
    if (view !== undefined) view.state = "terminated";
    this.owner.ended(slot, view, seq, reason);
  }

  /** The slot ending now, for the owner (see CompletedOwner.ended). */
  private readonly endedSlot: EndedSlot = {
    keyHi: 0,
    keyLo: 0,
    mergeHi: 0,
    mergeLo: 0,
    merged: false,
    cost: 0,
  };

  /**
   * The flow of the newest stored transaction when it says the same as
   * `flow` (a UDP listener makes a flow object per datagram: from one peer
   * they are all alike), else `flow`: one object, not one each.
   */
  private shared(flow: Flow): Flow {
    const newest = this.newest();
    const last = this.count > 0 ? this.segments.of(newest).flows[offsetOf(newest)] : undefined;
    return last !== undefined && sameFlow(last, flow) ? last : flow;
  }

  /** Copies the response into the arena (ResponseArena: without what it shares with a recent one). */
  private keep(g: Segment, i: number, response: Buffer): void {
    const k = this.arena.keep(response);
    g.chunks[i] = k.chunk;
    g.offsets[i] = k.offset;
    g.templates[i] = k.template;
    g.prefixes[i] = k.prefix;
    g.suffixes[i] = k.suffix;
    g.patched[i] = k.patched ? 1 : 0;
    g.lengths[i] = response.length;
  }

  /** Where slot i of segment g keeps its response (its bytes() are the response, in a Buffer of its own). */
  private storedOf(g: Segment, i: number): StoredResponse {
    return new StoredResponse(
      g.chunks[i]!,
      g.offsets[i]!,
      g.templates[i],
      g.prefixes[i]!,
      g.suffixes[i]!,
      g.lengths[i]!,
      g.patched[i] === 1,
    );
  }

  private live(seq: number): boolean {
    const age = (seq - this.head + SEQ_WRAP) % SEQ_WRAP;
    return age < this.count;
  }

  /** When a live one's delay is over. */
  private expiryOf(seq: number): number {
    return this.segments.of(seq).expiries[offsetOf(seq)]!;
  }

  /** The newest stored one's sequence number (count > 0). */
  private newest(): number {
    return (this.tail - 1 + SEQ_WRAP) % SEQ_WRAP;
  }

  private arm(at: number): void {
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.scheduler.schedule(at - this.scheduler.now(), this);
  }

  /** Slots in the ring's segments now (a segment is added when the newest needs one, and goes once the oldest left it). */
  get capacity(): number {
    return this.segments.capacity;
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
