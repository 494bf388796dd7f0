/**
 * The journal (WireMock's request journal): every message in and out, with
 * where it went, its bytes, a parsed summary, the transaction and dialog it
 * belongs to and the scenario rule that answered it; and, between them, the
 * media events of a call: each DTMF digit received (`kind: "dtmf"`) and the
 * RTP statistics when its media ended (`kind: "media"`). Consumers narrow on
 * `kind` ({@link isMessage}). Bounded in memory; capture sinks (JSONL, pcap)
 * see every entry (pcap writes messages only).
 *
 * The mock journals through receive() and store(), which return ids: a
 * message is a row (journal-rows.ts) and becomes an object only when read.
 * record(), recordReceived() and add() return the entry object.
 */
import { BoundedMap } from "../sip/bounded-map.js";
import type { ParsedRequest } from "../sip/message.js";
import { parseDatagram } from "../sip/parser.js";
import { DEFAULT_BUDGETS } from "../transaction/budget.js";
import type { Endpoint, TransportName } from "../transport/types.js";
import { hashText } from "./journal-bytes.js";
import { JournalMessage } from "./journal-entry.js";
import { type Call, filterRecords, groupCalls, type JournalFilter } from "./journal-query.js";
import { type JournalRing, OUT, RETRANSMISSION } from "./journal-ring.js";
import { JournalRows } from "./journal-rows.js";
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
   * The entries, oldest first, as rows (journal-ring.ts): a message nobody
   * reads is never an object of its own.
   */
  private readonly rows: JournalRows;
  private readonly ring: JournalRing;
  private readonly listeners = new Set<(e: JournalRecord) => void>();
  /** Listeners that only queue an entry, to read it after this turn of the event loop. */
  private readonly laterListeners = new Set<(e: JournalRecord) => void>();
  /**
   * The id of an inbound request whose rule lookup waits for its decision
   * (0: none): ruleFor() names its rule (over what the lookup would have
   * found), and whatever could see or change the rule first makes the
   * lookup (settle()), so the entry reads as if it had been made at once.
   */
  private waitingId = 0;
  /** How many read the header fields of every message (readsFields()). */
  private fieldReaders = 0;
  /**
   * The last message received: its id and its transaction key, from its
   * parse (not read again from the entry's octets); `waitingId`, when set,
   * is this one; ruleFor() is asked about it, sometimes after settle().
   * The rows follow its entry object, once one is made: what the journal
   * learns of it reaches that object even after the row left the journal.
   */
  private lastReceivedId = 0;
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

  constructor(
    readonly maxEntries = 10_000,
    readonly maxBytes = DEFAULT_BUDGETS.journal,
  ) {
    // The newest entry is always kept, whatever the budgets.
    this.rows = new JournalRows(maxEntries, maxBytes);
    this.ring = this.rows.ring;
    this.rules = new RuleMemory(maxEntries);
    this.faulty = new BoundedMap(maxEntries);
    this.callDialogs = new BoundedMap(maxEntries);
  }

  /** Octets the entries held now are estimated to take. */
  get octets(): number {
    return this.rows.bytes;
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
   * its octets and the fields the parser read. `rule` and `faults`, given
   * for an entry read back (JSONL), are kept instead of what the
   * transaction key finds. Returns its entry (see store() for the id only).
   */
  record(...args: Parameters<Journal["store"]>): JournalMessage {
    return this.withEntry(() => this.store(...args));
  }

  /** Journals a message as `journal` does, and gives its entry (made before the listeners run, lent). */
  private withEntry(journal: () => number): JournalMessage {
    this.makeNext();
    try {
      journal();
    } finally {
      this.wants = undefined; // not left for the next message when this one threw
    }
    return this.takeMade();
  }

  /**
   * The entry of the next message journaled is wanted (record(),
   * recordReceived(), onMessage): pushed() makes it before the listeners
   * run, since one that journals more may evict its row. takeMade() hands
   * it over.
   */
  private wants: "lent" | "kept" | undefined;
  private made: JournalMessage | undefined;

  /** The next message's entry will be wanted (lent unless told otherwise): takeMade() after journaling it. */
  makeNext(lent = true): void {
    this.wants = lent ? "lent" : "kept";
  }

  /** The entry makeNext() asked for. */
  takeMade(): JournalMessage {
    const e = this.made!;
    this.made = undefined;
    return e;
  }

  /**
   * record() without an entry object (the hot path: a row of numbers and
   * shared references); returns the entry's id (entryOf() makes its object).
   */
  store(
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
  ): number {
    const flags = (direction === "out" ? OUT : 0) | (retransmission ? RETRANSMISSION : 0);
    const keep = given || fields.kind === "unparsable" || this.fieldReaders > 0;
    const row = this.rows.put(at, flags, transport, local, remote, wire, fields, keep, timeText);
    // Its id before the listeners run: one that journals a message may evict this row.
    const id = this.ring.idOf(row);
    this.ring.rule[row] = rule;
    this.ring.faults[row] = faults;
    this.note(row, id, fields);
    this.pushed(row);
    return id;
  }

  /**
   * Journals a message received. A request's rule lookup waits for its
   * decision (`waitingId`): the caller settles it once the request is handled.
   */
  recordReceived(...args: Parameters<Journal["receive"]>): JournalMessage {
    return this.withEntry(() => this.receive(...args));
  }

  /** recordReceived() without an entry object (the hot path); returns the entry's id. */
  receive(
    at: number,
    transport: TransportName,
    local: Endpoint,
    remote: Endpoint,
    retransmission: boolean,
    wire: Buffer,
    fields: MessageFields,
    /** Whether the parser accepted the message (`fields` are then what it reads from `wire` again). */
    parsed = fields.kind !== "unparsable",
  ): number {
    this.settle();
    const flags = retransmission ? RETRANSMISSION : 0;
    // A message the parser refused: what it could still read depends on the transport's framing.
    const keep = !parsed || this.fieldReaders > 0;
    const row = this.rows.put(at, flags, transport, local, remote, wire, fields, keep, undefined);
    const id = this.ring.idOf(row);
    if (fields.kind === "request" && fields.transaction !== undefined) this.waitingId = id;
    this.lastReceivedId = id;
    this.lastReceivedKey = fields.transaction;
    this.rows.follow(id);
    this.note(row, id, fields);
    this.pushed(row);
    return id;
  }

  /**
   * The entry of an id, while the journal holds it: made once and kept with
   * its row (what the journal learns of it later reaches it). Lent (see
   * lend()) unless told otherwise.
   */
  entryOf(id: number, lent = true): JournalRecord | undefined {
    return this.rows.entryOf(id, lent);
  }

  /**
   * An entry given to code that may keep it (a listener, onMessage, a
   * caller of record()): the octets it shares with other messages are
   * never overwritten (journal-bytes.ts).
   */
  lend(entry: JournalRecord): void {
    this.rows.lend(entry);
  }

  /** Makes the waiting request's rule lookup (see `waitingId`). */
  settle(): void {
    const id = this.waitingId;
    if (id === 0) return;
    this.waitingId = 0;
    if (this.rows.noteOf(id, "rule") === undefined)
      this.rows.setNote(id, "rule", this.ruleOf(this.lastReceivedKey!));
  }

  /** What a new message tells the journal, and what the journal knows of it: its dialog, rule and faults. */
  private note(row: number, id: number, fields: MessageFields): void {
    const r = this.ring;
    const out = (r.flags[row]! & OUT) !== 0;
    if (this.firstRequestAt === undefined && !out && fields.kind === "request") {
      this.firstRequestAt = r.at[row]!;
    }
    if (fields.dialog !== undefined && fields.kind === "response" && fields.status! < 300) {
      if (fields.cseq?.endsWith("INVITE") === true)
        this.callDialogs.set(ownCopy(fields.callId!), fields.dialog);
    }
    const key = fields.transaction;
    if (key === undefined) return;
    if (r.rule[row] === undefined && id !== this.waitingId) r.rule[row] = this.ruleOf(key);
    if (out && r.faults[row] === undefined && this.faulty.size > 0) {
      const f = this.faulty.get(key);
      if (f && f.status === fields.status) r.faults[row] = f.labels;
    }
  }

  /**
   * Journals a call's media event (a DTMF digit, the RTP statistics at its
   * end), numbered in sequence with the messages. Its dialog is the last one
   * the call's messages established, unless given.
   */
  addMedia<T extends Unnumbered<DtmfEntry | MediaEntry>>(fields: T): T & { id: number } {
    const dialog = fields.dialog ?? this.dialogOf(fields.callId);
    const entry = this.rows.putMedia((id) => ({ id, ...fields, ...(dialog ? { dialog } : {}) }));
    this.pushed(this.ring.rowOf(entry.id));
    return entry;
  }

  /** Tells the listeners of a new row (its entry made only when someone listens). */
  private pushed(row: number): void {
    // The wanted entry is handed over after the listeners: one that journals
    // (record() too) takes its own entry meanwhile.
    let made: JournalMessage | undefined;
    if (this.wants !== undefined) {
      made = this.rows.entryAt(row, true) as JournalMessage;
      if (this.wants === "lent") this.rows.lend(made);
      this.wants = undefined;
    }
    if (this.signals.size > 0) for (const s of this.signals) s();
    if (this.listeners.size > 0 || this.laterListeners.size > 0) {
      if (this.listeners.size > 0) this.settle();
      const entry = this.rows.entryAt(row, true);
      if (this.listeners.size > 0) {
        this.lend(entry);
        for (const l of this.listeners) l(entry);
      }
      for (const l of this.laterListeners) l(entry);
    }
    if (made !== undefined) this.made = made;
  }

  /** Told of each new entry without it (see onEntry()). */
  private readonly signals = new Set<() => void>();

  /**
   * Calls `listener` after each new entry is journaled, without the entry
   * (none is made for it): for whoever only needs to know that something
   * happened (serve --until-expectations). Returns the unsubscribe function.
   */
  onEntry(listener: () => void): () => void {
    this.signals.add(listener);
    return () => this.signals.delete(listener);
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
    const r = this.ring;
    for (let i = r.count - 1; i >= 0 && r.firstId + i > since; i--) {
      const row = r.rowAt(i);
      // A message's Call-ID hash first: its octets are read again only for the call's own.
      if (r.kindOf(row) === "other" || r.callHash[row] !== hash) continue;
      const e = this.rows.entryAt(row, false) as JournalEntry;
      if (e.callId === callId && e.dialog !== undefined) {
        dialog = e.dialog;
        break;
      }
    }
    this.lastDialog = { callId, dialog, upTo: r.nextId - 1 };
    return dialog ?? this.callDialogs.get(callId);
  }

  /** Records the rule that answered a request (and, through its transaction key, its responses). */
  ruleFor(entry: JournalEntry, rule: string): void {
    this.ruleForId(entry.id, rule, entry);
  }

  /** ruleFor() by the entry's id (the hot path: the request being handled has no entry object). */
  ruleForId(id: number, rule: string, entry?: JournalEntry): void {
    // The request being handled (waiting, or settled early for a listener): its key without reading its octets again.
    const key =
      id === this.lastReceivedId ? this.lastReceivedKey : (entry ?? this.rows.readEntry(id))?.transaction;
    if (id === this.waitingId) this.waitingId = 0;
    else this.settle();
    if (entry !== undefined) entry.rule = rule;
    this.rows.setNote(id, "rule", rule);
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
    const r = this.ring;
    for (let i = r.count - 1; i >= Math.max(0, r.count - 64); i--) {
      const row = r.rowAt(i);
      // Direction and status first: the transaction key is read again from the octets.
      if (r.kindOf(row) === "other" || (r.flags[row]! & OUT) === 0 || r.status[row] !== status) continue;
      const e = this.rows.entryAt(row, false) as JournalEntry;
      if (e.transaction === transaction) {
        this.rows.setNote(e.id, "faults", f.labels);
        break;
      }
    }
  }

  /** Marks a message as a fault's target (a request the scenario dropped). */
  markFault(entry: JournalEntry, label: string): void {
    // From what the journal has (a copy given out earlier may not have the latest).
    const faults = [...(this.rows.noteOf(entry.id, "faults") ?? entry.faults ?? []), label];
    entry.faults = faults;
    this.rows.setNote(entry.id, "faults", faults);
  }

  /** markFault() by the entry's id (the request being handled). */
  markFaultId(id: number, label: string): void {
    this.rows.setNote(id, "faults", [...(this.rows.noteOf(id, "faults") ?? []), label]);
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
    return filterRecords(this.live(filter.sinceId), filter).map(plain);
  }

  get size(): number {
    return this.ring.count;
  }

  /**
   * The entries held after an id (all by default), oldest first. Their
   * objects stay with their rows (not lent): the next query finds the
   * header fields this one read from the octets (verify, waitFor and
   * expectations query again and again).
   */
  private live(after = 0): JournalRecord[] {
    const r = this.ring;
    const out: JournalRecord[] = [];
    for (let i = Math.max(0, Math.floor(after) + 1 - r.firstId); i < r.count; i++)
      out.push(this.rows.entryAt(r.rowAt(i), true));
    return out;
  }

  get lastId(): number {
    return this.ring.nextId - 1;
  }

  clear(): void {
    this.settle();
    this.rows.clear();
    // The message being handled stays known: its rule, named after a clear(), still reaches its responses.
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
