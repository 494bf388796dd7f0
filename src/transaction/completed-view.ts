/**
 * A transaction in a CompletedStore seen as a ServerTransaction, made on
 * demand (CompletedStore.view), and where its response's parts are.
 */
import { Headers, type NameAddr, type ParsedRequest } from "../sip/message.js";
import { parseDatagram } from "../sip/parser.js";
import { NO_PARAMS } from "../sip/tokens.js";
import type { SipUri } from "../sip/uri.js";
import type { Flow } from "../transport/types.js";
import { assemble } from "./response-arena.js";
import type {
  SendOptions,
  ServerTransaction,
  ServerTransactionState,
  TerminationReason,
} from "./server-transaction.js";
import { mergeKey, transactionKey } from "./transaction-key.js";

/**
 * A view's bits (the store's statuses[]): its final status, the fault
 * noRetransmit (no resend), whether the request had a To tag (not ours),
 * whether it is found under its merge key (8.2.2.2), whether its slot
 * has Extra strings, and whether its TU holds something under its key
 * (CompletedStore.keepId).
 */
export const STATUS = 0x0fff;
export const SILENT = 0x1000;
export const THEIR_TAG = 0x2000;
export const MERGED = 0x4000;
export const EXTRA = 0x8000;
export const HELD = 0x10000;

/** What a view asks of its store. */
export interface ViewStore {
  /** Whether `seq` is still stored with the key fingerprint (hi, lo). */
  holds(seq: number, hi: number, lo: number): boolean;
  /** Resends its final response (17.2.2). */
  retransmit(seq: number): void;
}

/**
 * A stored transaction seen as a ServerTransaction. Its request is what the
 * final response repeats of it (Via, From, To, Call-ID, CSeq, RFC 3261
 * 8.2.6.2), parsed from those bytes when first read; the Request-URI is not
 * kept (the To URI stands for it). Nor is its key, unless someone still
 * holds something under it: it is read back from the same bytes.
 */
export class CompletedView implements ServerTransaction {
  private parsed: ParsedRequest | undefined;
  private key: string | undefined;
  private readonly kept: boolean;
  /** Whether it is found under its merge key: false once the transaction layer sets mergeKey to undefined. */
  private merged: boolean;

  constructor(
    private readonly store: ViewStore,
    public state: ServerTransactionState,
    private readonly seq: number,
    readonly method: string,
    /** Its key as a string, when kept (CompletedStore.keepId, RFC 2543 keys). */
    keptId: string | undefined,
    /** The To tag its responses carry (kept as the transaction had it, not read back from the bytes). */
    readonly toTag: string,
    readonly flow: Flow,
    private readonly stored: StoredResponse,
    private readonly bits: number,
    /** What the transaction budget is charged for it (COMPLETED_TRANSACTION_OVERHEAD and its response). */
    public cost: number,
    /** Fingerprint of its key (transaction-key.ts): its slot is still its own while the store holds it. */
    readonly keyHi: number,
    readonly keyLo: number,
  ) {
    this.key = keptId;
    this.kept = keptId !== undefined;
    this.merged = (bits & MERGED) !== 0;
  }

  /**
   * True when its key was not kept: the TU said it holds nothing under it
   * (TransactionUser.onStored), so `id` is read back from the response.
   * Then `id` is only as good as the stored bytes: a response a fault broke
   * (no Via, say) gives another key. Nothing may be looked up under it.
   */
  get forgotten(): boolean {
    return !this.kept;
  }

  /** Its key: kept, or read back from the response (which repeats the request's top Via and CSeq). */
  get id(): string {
    this.key ??= transactionKey(this.request, this.method);
    return this.key;
  }

  get mergeKey(): string | undefined {
    return this.merged ? mergeKey(this.request) : undefined;
  }

  set mergeKey(value: string | undefined) {
    if (value === undefined) this.merged = false;
  }

  get lastResponse(): { status: number; bytes: Buffer } {
    return { status: this.bits & STATUS, bytes: this.stored.bytes() };
  }

  get request(): ParsedRequest {
    this.parsed ??= requestFrom(this.stored.bytes(), this.method, (this.bits & THEIR_TAG) !== 0);
    return this.parsed;
  }

  /** Completed: a response from the TU changes nothing (17.2.2). */
  respond(_status: number, _bytes: Buffer, _options?: SendOptions): void {}

  receiveRetransmission(): void {
    if (this.state !== "terminated" && this.store.holds(this.seq, this.keyHi, this.keyLo))
      this.store.retransmit(this.seq);
  }

  /** Only the store ends a stored transaction (Timer J, shutdown). */
  terminate(_reason: TerminationReason): void {}

  releaseRequest(): void {}
}

/** Where a stored response's parts are (a view's, assembled only when read: most views are never asked). */
export class StoredResponse {
  constructor(
    readonly chunk: Buffer,
    readonly offset: number,
    readonly template: Buffer | undefined,
    readonly prefix: number,
    readonly suffix: number,
    readonly length: number,
    /** The middle is a patch of the template's (ResponseArena). */
    readonly patched: boolean,
  ) {}

  bytes(): Buffer {
    return assemble(
      this.chunk,
      this.offset,
      this.template,
      this.prefix,
      this.suffix,
      this.length,
      this.patched,
    );
  }
}

/**
 * The request as its final response repeats it: method from CSeq, Via,
 * From, Call-ID, CSeq, and To without the tag we added (when it had none);
 * no header rows, no body (as retainedRequest). Bytes that do not parse (a
 * fault's broken response) give the stored method and empty identity
 * fields.
 */
function requestFrom(response: Buffer, method: string, theirTag: boolean): ParsedRequest {
  const r = parseDatagram(response);
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
