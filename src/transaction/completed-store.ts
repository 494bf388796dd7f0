/**
 * Non-INVITE server transactions in "Completed" over UDP (RFC 3261 17.2.2):
 * for Timer J's 64*T1 (32 s) they only resend their final response to
 * retransmissions of the request. At thousands of requests a second that is
 * 100,000s of them alive at once, so here each one is no object at all: a
 * slot in parallel arrays of a ring (its key, merge key, flow, where its
 * response's bytes are), its response's octets copied into an arena of
 * shared chunks, and one timer for the whole store. Timer J is the same
 * delay for every one, so they end in the order they entered: first in,
 * first out, no scheduler entry each (issue 12).
 *
 * The transaction layer keeps, in its maps, the slot's sequence number
 * instead of a transaction object; a consumer that needs a
 * ServerTransaction (onRetransmission, onTerminated, merged-request
 * detection) gets a CompletedView made on demand.
 */
import { Headers, type NameAddr, type ParsedRequest } from "../sip/message.js";
import { parseDatagram } from "../sip/parser.js";
import { NO_PARAMS } from "../sip/tokens.js";
import type { SipUri } from "../sip/uri.js";
import type { Flow } from "../transport/types.js";
import { COMPLETED_TRANSACTION_OVERHEAD } from "./budget.js";
import { assemble, ResponseArena } from "./response-arena.js";
import type { Scheduler, TimerHandle, TimerTarget } from "./scheduler.js";
import type {
  SendOptions,
  ServerTransaction,
  ServerTransactionState,
  TerminationReason,
} from "./server-transaction.js";

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
/** statuses[]: the fault noRetransmit (no resend), and whether the request had a To tag (not ours). */
const SILENT = 0x1000;
const THEIR_TAG = 0x2000;
const STATUS = 0x0fff;

export class CompletedStore implements TimerTarget {
  private cap = INITIAL;
  private ids: Array<string | undefined> = new Array(INITIAL);
  private mergeKeys: Array<string | undefined> = new Array(INITIAL);
  /** The To tag of its responses (kept: a fault may have made the stored bytes unreadable). */
  private tags: Array<string | undefined> = new Array(INITIAL);
  private flows: Array<Flow | undefined> = new Array(INITIAL);
  private chunks: Array<Buffer | undefined> = new Array(INITIAL);
  private templates: Array<Buffer | undefined> = new Array(INITIAL);
  private offsets = new Int32Array(INITIAL);
  private prefixes = new Int32Array(INITIAL);
  private suffixes = new Int32Array(INITIAL);
  private lengths = new Int32Array(INITIAL);
  private statuses = new Int16Array(INITIAL);
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
    this.ids[i] = tx.id;
    this.mergeKeys[i] = tx.mergeKey;
    this.tags[i] = tx.toTag;
    this.flows[i] = this.shared(tx.flow);
    this.keep(i, response);
    this.statuses[i] = status | (silent ? SILENT : 0) | (tx.request.core.to.tag ? THEIR_TAG : 0);
    this.expiries[i] = at;
    this.tail = (seq + 1) % SEQ_WRAP;
    this.count++;
    if (this.timerAt > at) this.arm(at);
    return seq;
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
    return new CompletedView(
      this,
      this.state,
      seq,
      this.ids[i]!,
      this.mergeKeys[i],
      this.tags[i]!,
      this.flows[i]!,
      this.storedOf(i),
      this.statuses[i]!,
      COMPLETED_TRANSACTION_OVERHEAD + this.lengths[i]!,
    );
  }

  /** Octets a stored transaction's response takes (for the budget). */
  lengthOf(seq: number): number {
    return this.lengths[this.slot(seq)]!;
  }

  /** Whether `seq` is still stored (a view may outlive its slot). */
  holds(seq: number, id: string): boolean {
    return this.count > 0 && this.ids[this.slot(seq)] === id && this.live(seq);
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
    this.ids[i] = undefined;
    this.mergeKeys[i] = undefined;
    this.tags[i] = undefined;
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
    const ids = new Array<string | undefined>(cap);
    const mergeKeys = new Array<string | undefined>(cap);
    const tags = new Array<string | undefined>(cap);
    const flows = new Array<Flow | undefined>(cap);
    const chunks = new Array<Buffer | undefined>(cap);
    const templates = new Array<Buffer | undefined>(cap);
    const offsets = new Int32Array(cap);
    const prefixes = new Int32Array(cap);
    const suffixes = new Int32Array(cap);
    const lengths = new Int32Array(cap);
    const statuses = new Int16Array(cap);
    const expiries = new Float64Array(cap);
    for (let k = 0; k < this.count; k++) {
      const seq = (this.head + k) % SEQ_WRAP;
      const from = this.slot(seq);
      const to = seq & (cap - 1);
      ids[to] = this.ids[from];
      mergeKeys[to] = this.mergeKeys[from];
      tags[to] = this.tags[from];
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
    this.ids = ids;
    this.mergeKeys = mergeKeys;
    this.tags = tags;
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

/**
 * A stored transaction seen as a ServerTransaction. Its request is what the
 * final response repeats of it (Via, From, To, Call-ID, CSeq, RFC 3261
 * 8.2.6.2), parsed from those bytes when first read; the Request-URI is not
 * kept (the To URI stands for it).
 */
export class CompletedView implements ServerTransaction {
  private parsed: ParsedRequest | undefined;

  constructor(
    private readonly store: CompletedStore,
    public state: ServerTransactionState,
    private readonly seq: number,
    readonly id: string,
    public mergeKey: string | undefined,
    /** The To tag its responses carry (kept as the transaction had it, not read back from the bytes). */
    readonly toTag: string,
    readonly flow: Flow,
    private readonly stored: StoredResponse,
    private readonly bits: number,
    /** What the transaction budget is charged for it (COMPLETED_TRANSACTION_OVERHEAD and its response). */
    public cost: number,
  ) {}

  get lastResponse(): { status: number; bytes: Buffer } {
    return { status: this.bits & STATUS, bytes: this.stored.bytes() };
  }

  get request(): ParsedRequest {
    this.parsed ??= requestFrom(this.stored.bytes(), this.id, (this.bits & THEIR_TAG) !== 0);
    return this.parsed;
  }

  get method(): string {
    return this.parsed?.method ?? methodOfKey(this.id);
  }

  /** Completed: a response from the TU changes nothing (17.2.2). */
  respond(_status: number, _bytes: Buffer, _options?: SendOptions): void {}

  receiveRetransmission(): void {
    if (this.state !== "terminated" && this.store.holds(this.seq, this.id)) this.store.retransmit(this.seq);
  }

  /** Only the store ends a stored transaction (Timer J, shutdown). */
  terminate(_reason: TerminationReason): void {}

  releaseRequest(): void {}
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

/** Where a stored response's parts are (a view's, assembled only when read: most views are never asked). */
class StoredResponse {
  constructor(
    readonly chunk: Buffer,
    readonly offset: number,
    readonly template: Buffer | undefined,
    readonly prefix: number,
    readonly suffix: number,
    readonly length: number,
  ) {}

  bytes(): Buffer {
    return assemble(this.chunk, this.offset, this.template, this.prefix, this.suffix, this.length);
  }
}

/**
 * The method of a transaction key (transactionKey): the last field of an
 * RFC 3261 key (branch|sent-by|method: none of them holds a "|"), the
 * second of an RFC 2543 one ("2543|method|...": the fields after it, the
 * Request-URI and the top Via's text, may hold a "|").
 */
export function methodOfKey(id: string): string {
  if (id.startsWith(RFC2543_PREFIX))
    return id.slice(RFC2543_PREFIX.length, id.indexOf("|", RFC2543_PREFIX.length));
  return id.slice(id.lastIndexOf("|") + 1);
}

const RFC2543_PREFIX = "2543|";

/**
 * The request as its final response repeats it: method from CSeq, Via,
 * From, Call-ID, CSeq, and To without the tag we added (when it had none);
 * no header rows, no body (as retainedRequest). Bytes that do not parse (a
 * fault's broken response) give the method from the transaction key and
 * empty identity fields.
 */
function requestFrom(response: Buffer, id: string, theirTag: boolean): ParsedRequest {
  const r = parseDatagram(response);
  const method = methodOfKey(id);
  if (!r.ok) return bareRequest(method);
  const core = r.message.core;
  const t = core.to;
  const to: NameAddr = theirTag
    ? t
    : { uri: t.uri, params: NO_PARAMS, raw: t.raw, displayName: t.displayName, tag: undefined };
  return {
    kind: "request",
    version: r.message.version,
    method,
    uri: core.to.uri,
    uriRaw: core.to.uri.raw,
    headers: NO_HEADERS,
    body: NO_BODY,
    core: { via: core.via, from: core.from, to, callId: core.callId, cseq: core.cseq },
  };
}

const NO_HEADERS = new Headers();
const NO_BODY = Buffer.alloc(0);

function bareRequest(method: string): ParsedRequest {
  const uri: SipUri = {
    scheme: "sip",
    host: "",
    params: NO_PARAMS,
    headers: [],
    raw: "",
    user: undefined,
    port: undefined,
    password: undefined,
  };
  const nameAddr: NameAddr = { uri, params: NO_PARAMS, raw: "", displayName: undefined, tag: undefined };
  return {
    kind: "request",
    version: "SIP/2.0",
    method,
    uri,
    uriRaw: "",
    headers: NO_HEADERS,
    body: NO_BODY,
    core: { via: [], from: nameAddr, to: nameAddr, callId: "", cseq: { seq: 0, method } },
  };
}
