/**
 * The journal (WireMock's request journal): every message in and out, with
 * where it went, its bytes, a parsed summary, the transaction and dialog it
 * belongs to and the scenario rule that answered it; and, between them, the
 * media events of a call: each DTMF digit received (`kind: "dtmf"`) and the
 * RTP statistics when its media ended (`kind: "media"`). Consumers narrow on
 * `kind` ({@link isMessage}). Bounded in memory; capture sinks (JSONL, pcap)
 * see every entry (pcap writes messages only).
 */
import { BoundedMap } from "../sip/bounded-map.js";
import type { ParsedRequest } from "../sip/message.js";
import { parseDatagram } from "../sip/parser.js";
import { DEFAULT_BUDGETS, ITEM_OVERHEAD } from "../transaction/budget.js";
import type { Endpoint, TransportName } from "../transport/types.js";
import { ByteShelf, hashText, OWN_SLOT } from "./journal-bytes.js";
import { JournalMessage } from "./journal-entry.js";
import { type Call, filterRecords, groupCalls, type JournalFilter, ofCall } from "./journal-query.js";
import { isMessage, type JournalEntry, type JournalRecord } from "./journal-types.js";
import type { DtmfEntry, MediaEntry } from "./media-entries.js";
import type { MessageFields } from "./message-summary.js";
import { RuleMemory } from "./rule-memory.js";

export {
  isMessage,
  JOURNAL_KINDS,
  type JournalEntry,
  type JournalKind,
  type JournalRecord,
} from "./journal-types.js";
export type { DtmfEntry, MediaDirectionStats, MediaEntry } from "./media-entries.js";

/** A new entry's fields (the journal numbers it). */
type Unnumbered<T> = T extends unknown ? Omit<T, "id"> : never;

/** A journal record as plain data (a message's toJSON()). */
function plain(e: JournalRecord): JournalRecord {
  return e instanceof JournalMessage ? e.toJSON() : e;
}

/** Octets an entry is counted as holding: a message's bytes, a media entry's JSON estimate. */
function sizeOf(e: JournalRecord): number {
  return (e instanceof JournalMessage ? e.octets : isMessage(e) ? e.raw.length : 256) + ITEM_OVERHEAD.journal;
}

export { JournalMessage } from "./journal-entry.js";
export type { Call, JournalFilter } from "./journal-query.js";
/** A message's journal fields are read by the SIP parser (message-summary.ts). */
export { describeMessage, type MessageFields } from "./message-summary.js";

/**
 * A string that keeps nothing else alive. A header value the parser read is
 * a slice of the whole message's text (V8 keeps a slice as a reference to
 * its parent): kept in `callDialogs` for the rest of the call and beyond,
 * each Call-ID held its INVITE's ~400 octets of text (10,000 calls: 4 MiB,
 * all promoted). The concatenation is flattened by the slice: a copy of
 * the Call-ID's own octets.
 */
function ownCopy(s: string): string {
  return ` ${s}`.slice(1);
}

/** How many parsed requests requestOf keeps (about 4 KiB each). */
const REQUEST_CACHE = 512;

export class Journal {
  /** The DTMF digits a call received (set by the mock), for `dtmf` in verify and expectations. */
  digitsOf?: (callId: string) => string;
  /**
   * The entries, oldest first, from `head`: evicting advances `head` (O(1)),
   * and the array is compacted once the evicted prefix is as long as what
   * remains (amortised O(1) per entry; the old `splice(0, n)` moved every
   * entry on every message once the journal was full).
   */
  private list: JournalRecord[] = [];
  /** The octets each entry of `list` counts for, and the ByteShelf slot of its octets (same indexes). */
  private sizes: number[] = [];
  private slots: number[] = [];
  private head = 0;
  private nextId = 1;
  private readonly listeners = new Set<(e: JournalRecord) => void>();
  /** Listeners that only queue an entry, to read it after this turn of the event loop. */
  private readonly laterListeners = new Set<(e: JournalRecord) => void>();
  /**
   * An inbound request whose rule lookup waits for its decision: ruleFor()
   * names its rule (over what the lookup would have found), and whatever
   * could see or change the rule first makes the lookup (settle()), so the
   * entry reads as if it had been made at once.
   */
  private waiting: JournalMessage | undefined;
  /** The octets of the messages journaled. */
  private readonly shelf = new ByteShelf();
  /** How many read the header fields of every message (readsFields()). */
  private fieldReaders = 0;
  /**
   * The last message received and its transaction key, from its parse (not
   * read again from the entry's octets): `waiting`, when set, is this entry;
   * ruleFor() is asked about it, sometimes after settle().
   */
  private lastReceived: JournalMessage | undefined;
  private lastReceivedKey: string | undefined;
  private readonly resetListeners = new Set<() => void>();
  /** Transaction key -> rule that answered it, so responses carry the rule too (bounded). */
  private readonly rules: RuleMemory;
  /** Transaction key -> the faulty response's status and its fault labels, for its copies (bounded). */
  private readonly faulty: BoundedMap<string, { status: number; labels: string[] }>;
  /**
   * Call-ID -> the dialog its last 1xx/2xx to an INVITE established (bounded),
   * for the call's media entries once its messages have left the journal:
   * set once or twice a call, not for every message.
   */
  private readonly callDialogs: BoundedMap<string, string>;

  /** Octets held (raw messages and a fixed overhead per entry); bounded by maxBytes as well as maxEntries. */
  private bytes = 0;

  constructor(
    readonly maxEntries = 10_000,
    readonly maxBytes = DEFAULT_BUDGETS.journal,
  ) {
    this.rules = new RuleMemory(maxEntries);
    this.faulty = new BoundedMap(maxEntries);
    this.callDialogs = new BoundedMap(maxEntries);
  }

  /** Octets the entries held now are estimated to take. */
  get octets(): number {
    return this.bytes;
  }

  /** When the first request arrived (epoch ms), for expectations' `within`; reset by clear(). */
  firstRequestAt: number | undefined;

  /** Journals a message given as a plain entry's fields (time as ISO text, raw as latin1 text). */
  add(fields: Omit<JournalEntry, "id">): JournalEntry {
    const { time, raw, rule, faults, ...rest } = fields;
    const at = Date.parse(time);
    // A time that is not the ISO text it would be written back as is kept as given.
    const asGiven = Number.isNaN(at) || new Date(at).toISOString() !== time ? time : undefined;
    const { direction, transport, local, remote, retransmission } = fields;
    return this.record(
      at,
      direction,
      transport,
      local,
      remote,
      retransmission,
      raw,
      rest,
      rule,
      faults,
      asGiven,
      true,
    );
  }

  /**
   * Journals a message the mock received or sent: where and when it went,
   * its octets and the fields the parser read (the hot path: no object of
   * its place, no text). `rule` and `faults`, given for an entry read back
   * (JSONL), are kept instead of what the transaction key finds.
   */
  record(
    at: number,
    direction: "in" | "out",
    transport: TransportName,
    local: Endpoint,
    remote: Endpoint,
    retransmission: boolean,
    wire: Buffer | string,
    fields: MessageFields,
    rule?: string,
    faults?: string[],
    timeText?: string,
    /** Keep `fields` as given (not what the parser reads from `wire`). */
    given = false,
    /** Whether the caller may keep the entry past this turn of the event loop (see lend()). */
    lent = true,
  ): JournalMessage {
    const id = this.nextId++;
    const chunk = this.shelf.put(wire);
    const entry = new JournalMessage(
      id,
      at,
      direction,
      transport,
      local,
      remote,
      retransmission,
      chunk,
      this.shelf.offset,
      wire.length,
      this.shelf.slot,
      fields,
      given || fields.kind === "unparsable" || this.fieldReaders > 0,
      timeText,
    );
    entry.rule = rule;
    entry.faults = faults;
    this.note(entry, fields);
    this.push(entry);
    if (lent) this.lend(entry);
    return entry;
  }

  /**
   * Journals a message received. A request's rule lookup waits for its
   * decision (`waiting`): the caller settles it once the request is handled.
   */
  recordReceived(
    at: number,
    transport: TransportName,
    local: Endpoint,
    remote: Endpoint,
    retransmission: boolean,
    wire: Buffer,
    fields: MessageFields,
    /** Whether the parser accepted the message (`fields` are then what it reads from `wire` again). */
    parsed = fields.kind !== "unparsable",
    /** Whether the caller may keep the entry past this turn of the event loop (see lend()). */
    lent = true,
  ): JournalMessage {
    this.settle();
    const id = this.nextId++;
    const chunk = this.shelf.put(wire);
    const entry = new JournalMessage(
      id,
      at,
      "in",
      transport,
      local,
      remote,
      retransmission,
      chunk,
      this.shelf.offset,
      wire.length,
      this.shelf.slot,
      fields,
      // A message the parser refused: what it could still read depends on the transport's framing.
      !parsed || this.fieldReaders > 0,
      undefined,
    );
    if (entry.kind === "request" && fields.transaction !== undefined) this.waiting = entry;
    this.lastReceived = entry;
    this.lastReceivedKey = fields.transaction;
    this.note(entry, fields);
    this.push(entry);
    if (lent) this.lend(entry);
    return entry;
  }

  /**
   * An entry given to code that may keep it (a listener, onMessage, a
   * caller of record()): the octets it shares with other messages are
   * never overwritten (journal-bytes.ts).
   */
  lend(entry: JournalRecord): void {
    if (entry instanceof JournalMessage) this.shelf.pin(entry.shelfSlot);
  }

  /** Makes the waiting request's rule lookup (see `waiting`). */
  settle(): void {
    const e = this.waiting;
    if (e === undefined) return;
    this.waiting = undefined;
    if (e.rule === undefined) e.rule = this.ruleOf(this.lastReceivedKey!);
  }

  /** What a new message tells the journal, and what the journal knows of it: its dialog, rule and faults. */
  private note(entry: JournalMessage, fields: MessageFields): void {
    if (this.firstRequestAt === undefined && entry.direction === "in" && entry.kind === "request") {
      this.firstRequestAt = entry.at;
    }
    if (fields.dialog !== undefined && entry.kind === "response" && entry.status! < 300) {
      if (fields.cseq?.endsWith("INVITE") === true)
        this.callDialogs.set(ownCopy(fields.callId!), fields.dialog);
    }
    const key = fields.transaction;
    if (key === undefined) return;
    if (entry.rule === undefined && entry !== this.waiting) entry.rule = this.ruleOf(key);
    if (entry.direction === "out" && entry.faults === undefined && this.faulty.size > 0) {
      const f = this.faulty.get(key);
      if (f && f.status === entry.status) entry.faults = f.labels;
    }
  }

  /**
   * Journals a call's media event (a DTMF digit, the RTP statistics at its
   * end), numbered in sequence with the messages. Its dialog is the last one
   * the call's messages established, unless given.
   */
  addMedia<T extends Unnumbered<DtmfEntry | MediaEntry>>(fields: T): T & { id: number } {
    const dialog = fields.dialog ?? this.dialogOf(fields.callId);
    const entry = { id: this.nextId++, ...fields, ...(dialog ? { dialog } : {}) };
    this.push(entry as JournalRecord);
    return entry;
  }

  private push(entry: JournalRecord): void {
    const list = this.list;
    const sizes = this.sizes;
    const slots = this.slots;
    const size = sizeOf(entry);
    list.push(entry);
    sizes.push(size);
    slots.push(entry instanceof JournalMessage ? entry.shelfSlot : OWN_SLOT);
    this.bytes += size;
    // An evicted entry's size comes from `sizes`: the entry and its Buffer are cold in the CPU's caches.
    while (
      this.head < list.length - 1 &&
      (list.length - this.head > this.maxEntries || this.bytes > this.maxBytes)
    ) {
      this.bytes -= sizes[this.head]!;
      this.shelf.release(slots[this.head]!);
      list[this.head] = undefined as unknown as JournalRecord; // let the evicted entry be collected now
      this.head++;
    }
    if (this.head >= 1024 && this.head * 2 >= list.length) {
      this.list = list.slice(this.head);
      this.sizes = sizes.slice(this.head);
      this.slots = slots.slice(this.head);
      this.head = 0;
    }
    if (this.listeners.size > 0) {
      this.settle();
      this.lend(entry);
      for (const l of this.listeners) l(entry);
    }
    for (const l of this.laterListeners) l(entry);
  }

  /**
   * Entry -> its request parsed from the journaled bytes, for the last
   * REQUEST_CACHE entries asked about (waitFor and verify ask again and
   * again): bounded, so the journal's memory stays its octets.
   */
  private readonly requests = new BoundedMap<number, ParsedRequest | null>(REQUEST_CACHE);

  /**
   * The inbound request of an entry, parsed by the SIP parser from the bytes
   * as they arrived (not the stack's copy, whose top Via the transport
   * annotated with received/rport: verify matches what the peer sent).
   */
  requestOf(entry: JournalEntry): ParsedRequest | undefined {
    if (entry.direction !== "in" || entry.kind !== "request") return undefined;
    let known = this.requests.get(entry.id);
    if (known === undefined) {
      const r = parseDatagram(
        entry instanceof JournalMessage ? entry.bytes : Buffer.from(entry.raw, "latin1"),
      );
      known = r.ok && r.message.kind === "request" ? r.message : null;
      this.requests.set(entry.id, known);
    }
    return known ?? undefined;
  }

  /** The last dialogOf() answer: the call asked about, its dialog, and the last id it had seen. */
  private lastDialog: { callId: string; dialog: string | undefined; upTo: number } | undefined;

  /**
   * A call's last dialog, for its media entries: that of its newest message
   * that has one (a response with both tags, a request in the dialog). Read
   * from the entries only when a media entry asks (once a call per DTMF
   * digit or media end), not noted for every message; the call's next media
   * entry only looks at the entries journaled since. A call none of whose
   * messages with a dialog is left gets the one its INVITE's answer made
   * (callDialogs).
   */
  private dialogOf(callId: string): string | undefined {
    const known = this.lastDialog?.callId === callId ? this.lastDialog : undefined;
    const since = known?.upTo ?? 0;
    let dialog = known?.dialog;
    const hash = hashText(callId);
    for (let i = this.list.length - 1; i >= this.head; i--) {
      const e = this.list[i]!;
      if (e.id <= since) break;
      if (ofCall(e, callId, hash) && isMessage(e) && e.dialog !== undefined) {
        dialog = e.dialog;
        break;
      }
    }
    this.lastDialog = { callId, dialog, upTo: this.nextId - 1 };
    return dialog ?? this.callDialogs.get(callId);
  }

  /** Records the rule that answered a request (and, through its transaction key, its responses). */
  ruleFor(entry: JournalEntry, rule: string): void {
    // The request being handled (waiting, or settled early for a listener): its key without reading its octets again.
    const key = entry === this.lastReceived ? this.lastReceivedKey : entry.transaction;
    if (entry === this.waiting) this.waiting = undefined;
    else this.settle();
    entry.rule = rule;
    if (key) this.rules.set(key, rule);
  }

  /** The rule a transaction key finds. */
  private ruleOf(key: string): string | undefined {
    return this.rules.get(key);
  }

  /**
   * Records the faults a scenario put into a response just sent: the
   * journaled response is marked, and so are its duplicates and
   * retransmissions journaled after it.
   */
  faultFor(transaction: string, status: number, labels: readonly string[]): void {
    if (labels.length === 0) return;
    const f = { status, labels: [...labels] };
    this.faulty.set(transaction, f);
    for (let i = this.list.length - 1; i >= Math.max(this.head, this.list.length - 64); i--) {
      const e = this.list[i]!;
      // Direction and status first: the transaction key is read again from the octets.
      if (isMessage(e) && e.direction === "out" && e.status === status && e.transaction === transaction) {
        e.faults = f.labels;
        break;
      }
    }
  }

  /** Marks a message as a fault's target (a request the scenario dropped). */
  markFault(entry: JournalEntry, label: string): void {
    entry.faults = [...(entry.faults ?? []), label];
  }

  /** The SIP messages (request, response, unparsable) matching the filter, as plain objects. */
  entries(filter: JournalFilter = {}): JournalEntry[] {
    return this.records(filter).filter(isMessage);
  }

  /**
   * Every kind of entry (messages, dtmf, media) matching the filter, in
   * order, as plain objects (a message's toJSON(): every field its own
   * property, so it spreads, clones and compares as data).
   */
  records(filter: JournalFilter = {}): JournalRecord[] {
    this.settle();
    return filterRecords(this.live(), filter).map(plain);
  }

  get size(): number {
    return this.list.length - this.head;
  }

  /** The entries held, oldest first (a copy when some were evicted since the last compaction). */
  private live(): JournalRecord[] {
    return this.head === 0 ? this.list : this.list.slice(this.head);
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  clear(): void {
    this.settle();
    this.list = [];
    this.sizes = [];
    this.slots = [];
    this.shelf.releaseAll();
    this.lastReceived = undefined;
    this.lastReceivedKey = undefined;
    this.head = 0;
    this.bytes = 0;
    this.requests.clear();
    this.rules.clear();
    this.lastDialog = undefined;
    this.faulty.clear();
    this.callDialogs.clear();
    this.firstRequestAt = undefined;
    for (const l of this.resetListeners) l();
  }

  /** Calls grouped by Call-ID, in order of their first message (their SIP messages; records() has the rest). */
  calls(filter: JournalFilter = {}): Call[] {
    return groupCalls(this.entries(filter));
  }

  /** Every new entry, of every kind (narrow on `kind`). */
  subscribe(
    listener: (e: JournalRecord) => void,
    /**
     * It only queues the entry, to read it after this turn of the event loop
     * (a request's rule may still settle), in a setImmediate queued this
     * turn at the latest: its octets may be reused after that (to keep an
     * entry longer, keep its toJSON()).
     */
    later = false,
    /** Whether it reads the header fields of (nearly) every entry (see readsFields()). */
    readsFields = true,
  ): () => void {
    const set = later ? this.laterListeners : this.listeners;
    set.add(listener);
    const stopReading = readsFields ? this.readsFields() : undefined;
    return () => {
      if (set.delete(listener)) stopReading?.();
    };
  }

  /**
   * Someone reads the header fields of every message from now on (a
   * capture, the web UI, an onMessage subscriber): new entries keep the
   * fields they are given instead of reading their octets again for each
   * of them. Returns the function that says it stopped.
   */
  readsFields(): () => void {
    this.fieldReaders++;
    let done = false;
    return () => {
      if (!done) this.fieldReaders--;
      done = true;
    };
  }

  /** Called after clear() (DELETE /__admin/journal, reset): the web UI starts over. */
  onClear(listener: () => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }
}
