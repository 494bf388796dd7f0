/**
 * A small registrar (RFC 3261 10.3): bindings per address-of-record with
 * expiry, queries, removal by Expires 0 and "Contact: *".
 */
import { HeaderParseError } from "../sip/headers/errors.js";
import { parseNameAddr } from "../sip/headers/name-addr.js";
import { withoutHeaderParam } from "../sip/headers/params.js";
import { parseDeltaSeconds } from "../sip/headers/scalars.js";
import type { ParsedRequest } from "../sip/message.js";
import { isSipUri, parseUri, type Uri } from "../sip/uri.js";
import { ByteBudget, DEFAULT_BUDGETS, ITEM_OVERHEAD } from "../transaction/budget.js";
import type { Flow } from "../transport/types.js";

export interface Binding {
  /** The Contact value as the client sent it, without expires. */
  readonly contact: string;
  readonly uri: string;
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  /**
   * The connection or socket the REGISTER came in on; requests to the
   * contact reuse it only where the RFCs say so (see request-target.ts).
   */
  readonly flow?: Flow;
  /** The REGISTER's Path values (RFC 3327): the route to the contact, first hop first. */
  readonly path?: readonly string[];
}

export type RegisterOutcome =
  | { readonly ok: true; readonly bindings: readonly Binding[] }
  | {
      readonly ok: false;
      /** 503: the registrar's byte budget (or its AOR count) is spent; retry later. */
      readonly status: 400 | 423 | 503;
      readonly detail: string;
      readonly minExpires?: number;
    };

export interface RegistrarOptions {
  readonly defaultExpires: number;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly maxBindingsPerAor: number;
}

export const DEFAULT_REGISTRAR: RegistrarOptions = {
  defaultExpires: 3600,
  minExpires: 60,
  maxExpires: 86400,
  maxBindingsPerAor: 10,
};

/** Addresses-of-record kept at most (a REGISTER for a new one beyond gets 503). */
const MAX_AORS = 100_000;

/**
 * The Path a REGISTER may ask the registrar to keep (RFC 3327): at most
 * this many entries and octets. Real deployments have one to three proxies
 * on the path; a REGISTER beyond either bound is refused with 400 and a
 * Warning naming the limit (the request is malformed for this registrar,
 * not too big to read: 413 is about bodies and 503 would invite a retry of
 * the same request).
 */
export const MAX_PATH_ENTRIES = 10;
export const MAX_PATH_OCTETS = 4096;

function pathOctets(path: readonly string[] | undefined): number {
  let n = 0;
  if (path) for (const p of path) n += p.length;
  return n;
}

/** Octets a binding costs: what it copies from the REGISTER (Path included) plus a fixed overhead. */
function bindingCost(b: Binding): number {
  return ITEM_OVERHEAD.registrar + b.contact.length + b.uri.length + b.callId.length + pathOctets(b.path);
}

function listCost(aor: string, list: readonly Binding[]): number {
  let n = aor.length;
  for (const b of list) n += bindingCost(b);
  return list.length === 0 ? 0 : n;
}

/** The user part of an AOR key ("sip:alice@example.test" -> "alice"), the bare-user lookup's key. */
function userOf(aor: string): string {
  const rest = aor.startsWith("sips:") ? aor.slice(5) : aor.startsWith("sip:") ? aor.slice(4) : aor;
  const at = rest.indexOf("@");
  return at < 0 ? rest : rest.slice(0, at);
}

export class Registrar {
  private readonly aors = new Map<string, Binding[]>();
  /** user -> its AORs, in registration order (most recent last): lookups by bare user stay O(1). */
  private readonly byUser = new Map<string, Set<string>>();

  constructor(
    private readonly options: RegistrarOptions = DEFAULT_REGISTRAR,
    private readonly now: () => number = Date.now,
    /** Byte budget: a REGISTER that would grow the bindings beyond it gets 503. */
    readonly budget: ByteBudget = new ByteBudget("registrar", DEFAULT_BUDGETS.registrar),
  ) {}

  /** Replaces the bindings of an AOR (none: removes it), keeping the budget's account. */
  private put(aor: string, list: Binding[]): void {
    const old = this.aors.get(aor);
    if (old) {
      this.budget.release(listCost(aor, old));
      this.remove(aor);
    }
    if (list.length === 0) return;
    this.budget.charge(listCost(aor, list));
    this.aors.set(aor, list);
    const user = userOf(aor);
    const set = this.byUser.get(user);
    if (set) set.add(aor);
    else this.byUser.set(user, new Set([aor]));
  }

  /** Forgets an AOR in the map and in the user index. */
  private remove(aor: string): void {
    this.aors.delete(aor);
    const user = userOf(aor);
    const set = this.byUser.get(user);
    set?.delete(aor);
    if (set?.size === 0) this.byUser.delete(user);
  }

  /** Canonical AOR key (10.3 step 5): scheme, user and host of the To URI. */
  static aorOf(uri: Uri): string {
    if (isSipUri(uri)) return `sip:${uri.user ?? ""}@${uri.host.toLowerCase()}`;
    return uri.raw.toLowerCase();
  }

  register(request: ParsedRequest, flow?: Flow): RegisterOutcome {
    // 10.2: the To header field "contains the address of record" (a SIP or
    // SIPS URI, 10.3 step 5); RFC 4475 3.3.4 expects a 400 for anything else.
    if (!isSipUri(request.core.to.uri)) {
      return {
        ok: false,
        status: 400,
        detail: "To of a REGISTER must be a SIP or SIPS URI (the address-of-record)",
      };
    }
    const aor = Registrar.aorOf(request.core.to.uri);
    const now = this.now();
    const current = this.live(aor, now);
    const contacts = request.headers.getAll("Contact");
    let headerExpires: number | undefined;
    try {
      const e = request.headers.get("Expires");
      headerExpires = e === undefined ? undefined : parseDeltaSeconds("Expires", e);
    } catch (err) {
      return { ok: false, status: 400, detail: (err as Error).message };
    }
    if (contacts.length === 0) return { ok: true, bindings: current };
    // 10.3 step 6: "*" is only valid with Expires: 0 and alone.
    if (contacts.includes("*")) {
      if (contacts.length !== 1 || headerExpires !== 0) {
        return { ok: false, status: 400, detail: 'Contact "*" requires Expires: 0 and no other Contact' };
      }
      this.put(aor, []);
      return { ok: true, bindings: [] };
    }
    const next = [...current];
    const path = request.headers.getAll("Path");
    if (path.length > MAX_PATH_ENTRIES || pathOctets(path) > MAX_PATH_OCTETS) {
      return {
        ok: false,
        status: 400,
        detail: `Path too long: ${path.length} entries, ${pathOctets(path)} octets (at most ${MAX_PATH_ENTRIES} entries, ${MAX_PATH_OCTETS} octets)`,
      };
    }
    for (const value of contacts) {
      let na: ReturnType<typeof parseNameAddr>;
      let expires: number;
      try {
        na = parseNameAddr("Contact", value);
        const p = na.params.get("expires");
        expires =
          p != null ? parseDeltaSeconds("expires", p) : (headerExpires ?? this.options.defaultExpires);
      } catch (err) {
        return {
          ok: false,
          status: 400,
          detail: err instanceof HeaderParseError ? err.message : "malformed Contact",
        };
      }
      // 10.3 step 7: "If and only if the requested expiration interval is
      // greater than zero AND smaller than one hour AND less than a
      // registrar-configured minimum, the registrar MAY reject the
      // registration with a response of 423 (Interval Too Brief)."
      if (expires > 0 && expires < 3600 && expires < this.options.minExpires) {
        return {
          ok: false,
          status: 423,
          detail: "expiration too brief",
          minExpires: this.options.minExpires,
        };
      }
      expires = Math.min(expires, this.options.maxExpires);
      const uri = na.uri.raw;
      const idx = next.findIndex((b) => b.uri === uri);
      if (idx >= 0) next.splice(idx, 1);
      if (expires === 0) continue;
      const contact = withoutHeaderParam(value, "expires");
      next.push({
        contact,
        uri,
        expiresAt: now + expires * 1000,
        callId: request.core.callId,
        cseq: request.core.cseq.seq,
        ...(flow ? { flow } : {}),
        ...(path.length > 0 ? { path } : {}),
      });
    }
    while (next.length > this.options.maxBindingsPerAor) next.shift();
    // Bounded in octets and in AORs: a REGISTER that would grow the
    // registrar beyond either is refused (503), nobody else's binding is dropped.
    const growth = listCost(aor, next) - listCost(aor, current);
    const newAor = current.length === 0 && next.length > 0;
    if ((growth > 0 && !this.budget.fits(growth)) || (newAor && this.aors.size >= MAX_AORS)) this.sweep(now);
    if ((growth > 0 && !this.budget.fits(growth)) || (newAor && this.aors.size >= MAX_AORS)) {
      this.budget.refused++;
      return { ok: false, status: 503, detail: "the registrar's memory budget is spent" };
    }
    this.put(aor, next);
    return { ok: true, bindings: next };
  }

  bindings(aor: string): readonly Binding[] {
    return this.live(aor, this.now());
  }

  /**
   * The live bindings of an address-of-record given as a URI
   * ("sip:alice@example.test") or as a bare user name ("alice": every AOR
   * with that user), most recently registered last.
   */
  lookup(aorOrUser: string): Array<{ aor: string; bindings: readonly Binding[] }> {
    const now = this.now();
    const wanted = aorOrUser.trim();
    let key: string | undefined;
    if (/^sips?:/i.test(wanted)) {
      try {
        key = Registrar.aorOf(parseUri(wanted));
      } catch {
        return [];
      }
    }
    if (key !== undefined) {
      const live = this.live(key, now);
      return live.length > 0 ? [{ aor: key, bindings: live }] : [];
    }
    const out: Array<{ aor: string; bindings: readonly Binding[] }> = [];
    for (const aor of [...(this.byUser.get(wanted) ?? [])]) {
      const live = this.live(aor, now);
      if (live.length > 0) out.push({ aor, bindings: live });
    }
    return out;
  }

  get size(): number {
    return this.aors.size;
  }

  /** Contact rows for a 200 OK: every binding with its remaining expires (10.3 step 8). */
  contactRows(bindings: readonly Binding[]): string[] {
    const now = this.now();
    return bindings.map((b) => `${b.contact};expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`);
  }

  /** Every address-of-record with its live bindings and seconds left. */
  snapshot(): Array<{ aor: string; contacts: Array<{ uri: string; expires: number }> }> {
    const now = this.now();
    const out: Array<{ aor: string; contacts: Array<{ uri: string; expires: number }> }> = [];
    for (const aor of [...this.aors.keys()]) {
      const live = this.live(aor, now);
      if (live.length === 0) continue;
      out.push({
        aor,
        contacts: live.map((b) => ({
          uri: b.uri,
          expires: Math.max(0, Math.round((b.expiresAt - now) / 1000)),
        })),
      });
    }
    return out;
  }

  private lastSweep = Number.NEGATIVE_INFINITY;

  /** Frees expired bindings nobody looked up (at most once a second: it visits every AOR). */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const aor of [...this.aors.keys()]) this.live(aor, now);
  }

  private live(aor: string, now: number): Binding[] {
    const list = this.aors.get(aor);
    if (!list) return [];
    const alive = list.filter((b) => b.expiresAt > now);
    if (alive.length !== list.length) {
      // Keeps the AOR's place in the map order (put would move it last).
      this.budget.adjust(listCost(aor, list), listCost(aor, alive));
      if (alive.length === 0) {
        this.budget.items = Math.max(0, this.budget.items - 1);
        this.remove(aor);
      } else this.aors.set(aor, alive);
    }
    return alive;
  }
}
