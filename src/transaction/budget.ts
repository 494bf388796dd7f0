/**
 * Byte budgets for the stores that grow with what peers send (issue 10 item
 * 3): every store charges an approximate cost for each item it keeps (the
 * octets of what it copied from the message plus a fixed overhead measured
 * for its objects) and releases it when the item goes. A store whose budget
 * would be exceeded refuses the item; the UAS answers 503 with Retry-After.
 */

/** The stores with a budget, as named in flags, options and metrics. */
export const STORE_NAMES = [
  "registrar",
  "dialogs",
  "subscriptions",
  "transactions",
  "journal",
  "outbound",
] as const;
export type StoreName = (typeof STORE_NAMES)[number];

const MiB = 1024 * 1024;

/** Defaults in octets: generous for a lab, far below what exhausts a default Node heap (~2-4 GB). */
export const DEFAULT_BUDGETS: Readonly<Record<StoreName, number>> = {
  registrar: 64 * MiB,
  dialogs: 64 * MiB,
  subscriptions: 32 * MiB,
  transactions: 256 * MiB,
  journal: 32 * MiB,
  outbound: 16 * MiB,
};

/**
 * Fixed overhead per item in octets (objects, maps, timers, the response a
 * transaction keeps for retransmissions), measured with bench/item-costs.ts
 * (`node --expose-gc --import tsx bench/item-costs.ts`: 20,000 items of each
 * kind kept, heap growth divided); the item's own octets are added to it.
 * Re-measured 2026-12-05: a registrar binding 1,075 B for 50 octets, a
 * journal entry 1,171 B for 339 (their overheads were 750 and 550: under).
 * The journal's rows (2026-12-05, ninth session) hold an entry in 488 B
 * for 339 octets until someone reads it; the object made then is counted
 * apart (JOURNAL_OBJECT_OVERHEAD).
 */
export const ITEM_OVERHEAD: Readonly<Record<StoreName, number>> = {
  registrar: 950,
  dialogs: 2_000,
  subscriptions: 1_500,
  transactions: 4_700,
  journal: 200,
  outbound: 2_800,
};

/**
 * What an entry the journal made an object for (a query, a listener, a
 * capture, record()) holds besides its row: the object, kept with the row
 * so that the next query does not read the octets again, and the header
 * fields it read. Measured with bench/item-costs.ts (2026-12-05: 488 B an
 * entry journaled, 1,351 B once a query read it, for 339 octets).
 */
export const JOURNAL_OBJECT_OVERHEAD = 900;

/**
 * What a server transaction costs once its final response is sent and it
 * only absorbs retransmissions, kept by a CompletedStore (over UDP
 * non-INVITE Completed until Timer J and INVITE Confirmed until Timer I; on
 * every transport INVITE Accepted until Timer L): its slot in
 * typed arrays, its two KeyIndex entries, its flow, and, for the few that
 * need them, its key or To tag as strings (CompletedStore's Extra); the
 * final response's octets are added to this (the arena keeps fewer: what
 * the response does not share with a recent one, and of a response as
 * long as a recent one only the octets that differ). Measured with
 * bench/memory.ts on 2026-12-06: 29 B of heap + 157 B of ArrayBuffers per
 * live completed OPTIONS transaction, 32 + 182 B per Confirmed INVITE
 * (486 flow), both with what the arena keeps of their responses (27 + 256
 * and 37 + 273 B the same day before the patches); a key kept as a string
 * adds ~150, a flow of its own per request ~100.
 */
export const COMPLETED_TRANSACTION_OVERHEAD = 400;

/**
 * What a server transaction still in its object costs once its final
 * response is sent (INVITE Completed until the ACK, Accepted after a 2xx
 * until the UAS core releases its request, and any transaction a
 * CompletedStore did not take): the
 * request reduced to what identifies it, the final response's bytes (added
 * to this), its timers and map entries. Measured with bench/memory.ts
 * (2.56-2.64 KB of heap per live transaction on the three flows, 2026-12-04).
 */
export const COMPACTED_TRANSACTION_OVERHEAD = 2_700;

/** Octets a parsed request costs per octet on the wire (strings, header rows, parsed URIs, parameter maps). */
export const PARSED_FACTOR = 3;

export class ByteBudget {
  /** Octets charged now. */
  used = 0;
  /** Items charged now. */
  items = 0;
  /** Items refused because the budget was full. */
  refused = 0;

  constructor(
    readonly name: StoreName,
    readonly limit: number,
  ) {}

  /** Whether `octets` more still fit. */
  fits(octets: number): boolean {
    return this.used + octets <= this.limit;
  }

  /** Charges an item if it fits; false (and counted as refused) otherwise. */
  tryCharge(octets: number): boolean {
    if (!this.fits(octets)) {
      this.refused++;
      return false;
    }
    this.charge(octets);
    return true;
  }

  /** Charges unconditionally (an item that must be kept, e.g. the refresh of an existing one). */
  charge(octets: number): void {
    this.used += octets;
    this.items++;
  }

  release(octets: number): void {
    this.used = Math.max(0, this.used - octets);
    this.items = Math.max(0, this.items - 1);
  }

  /** Replaces an item's cost by another (an item that grew or shrank). */
  adjust(from: number, to: number): void {
    this.used = Math.max(0, this.used - from + to);
  }

  reset(): void {
    this.used = 0;
    this.items = 0;
  }
}

export type Budgets = Readonly<Record<StoreName, ByteBudget>>;

export function createBudgets(limits: Partial<Record<StoreName, number>> = {}): Budgets {
  const out = {} as Record<StoreName, ByteBudget>;
  for (const name of STORE_NAMES) out[name] = new ByteBudget(name, limits[name] ?? DEFAULT_BUDGETS[name]);
  return out;
}

/** Parses "64MiB", "512KiB", "1GiB", "4096" (octets); undefined when malformed. */
export function parseSize(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|K|M|G|KB|MB|GB)?$/i.exec(value.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? "B").toUpperCase();
  const mult = unit.startsWith("G")
    ? 1024 ** 3
    : unit.startsWith("M")
      ? MiB
      : unit.startsWith("K")
        ? 1024
        : 1;
  const n = Math.round(Number(m[1]) * mult);
  return Number.isSafeInteger(n) ? n : undefined;
}
