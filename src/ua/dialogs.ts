/**
 * Dialogs the UA took part in (RFC 3261 12), keyed by Call-ID, local tag and
 * remote tag, bounded in number and in bytes. Each Dialog (dialog/dialog.ts)
 * owns its own state, CSeq rules and timers; the store decides which dialog
 * object is the live one.
 */
import type { CoreHeaders } from "../sip/message.js";
import { ByteBudget, DEFAULT_BUDGETS, ITEM_OVERHEAD } from "../transaction/budget.js";
import type { Scheduler } from "../transaction/scheduler.js";
import type { TimerConfig } from "../transaction/timers.js";
import { Dialog, type DialogInit } from "./dialog/dialog.js";

export { Dialog, type DialogInit, type DialogPeer, type MediaDirection } from "./dialog/dialog.js";

/** A dialog as tests see it. */
export interface DialogInfo {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** The ACK for our 2xx arrived. */
  readonly confirmed: boolean;
  /** The peer's last SDP (offer or answer). */
  readonly remoteSdp?: string;
}

export { dialogKey } from "./dialog/dialog.js";

const MAX_DIALOGS = 100_000;

export class DialogStore {
  private readonly dialogs = new Map<string, Dialog>();
  /**
   * The live dialogs of each Call-ID (forks share one), so a call's dialogs
   * are found without a scan: the dialog itself while it is the only one
   * (every call but a forked one), an array once there are more.
   */
  private readonly byCall = new Map<string, Dialog | Dialog[]>();

  private readonly isAlive = (dialog: Dialog) => this.alive(dialog);

  /** Told when a dialog ends, whoever ends it (the UAS answers a pending re-INVITE, 15.1.2). */
  onEnded?: (dialog: Dialog) => void;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly timers: TimerConfig,
    /** Byte budget of the dialogs (the UAS refuses a new INVITE with 503 when it is spent). */
    readonly budget: ByteBudget = new ByteBudget("dialogs", DEFAULT_BUDGETS.dialogs),
  ) {}

  get size(): number {
    return this.dialogs.size;
  }

  byCallId(callId: string): Dialog[] {
    const of = this.byCall.get(callId);
    if (of === undefined) return [];
    return Array.isArray(of) ? of.slice() : [of];
  }

  /** How many live dialogs the Call-ID has (byCallId's length, without the array). */
  countOf(callId: string): number {
    const of = this.byCall.get(callId);
    if (of === undefined) return 0;
    return Array.isArray(of) ? of.length : 1;
  }

  /** The dialogs alive: Call-ID, tags, and whether the ACK for the 2xx arrived. */
  list(): DialogInfo[] {
    return [...this.dialogs.values()].map(({ callId, localTag, remoteTag, confirmed, remoteSdp }) => ({
      callId,
      localTag,
      remoteTag,
      confirmed,
      ...(remoteSdp !== undefined ? { remoteSdp } : {}),
    }));
  }

  /** The dialog a request within it names: its Call-ID, our tag (To), the peer's (From). */
  of(request: { readonly core: CoreHeaders }): Dialog | undefined {
    const { callId, to, from } = request.core;
    return this.find(callId, to.tag, from.tag);
  }

  /** The live dialog with this identity: among the Call-ID's dialogs (no key string built per request). */
  find(callId: string, localTag: string | undefined, remoteTag: string | undefined): Dialog | undefined {
    if (!localTag) return undefined;
    return this.match(callId, localTag, remoteTag ?? "");
  }

  private match(callId: string, localTag: string, remoteTag: string): Dialog | undefined {
    const of = this.byCall.get(callId);
    if (of === undefined) return undefined;
    if (!Array.isArray(of)) return of.localTag === localTag && of.remoteTag === remoteTag ? of : undefined;
    for (const d of of) if (d.localTag === localTag && d.remoteTag === remoteTag) return d;
    return undefined;
  }

  /**
   * A 2xx was sent: the dialog exists (a 2xx to a re-INVITE: the same
   * dialog, its timers, pending requests and state stay), and the 2xx is
   * retransmitted until the ACK (13.3.1.4, Dialog.awaitAck). `resend` is
   * called for every retransmission; `unacknowledged` after 64*T1.
   */
  accept(
    callId: string,
    localTag: string,
    remoteTag: string,
    resend: (() => void) | undefined,
    unacknowledged: (dialog: Dialog) => void,
    /** Octets the dialog's state copies from the request (Contact, From, To, Record-Route, SDP). */
    octets = 0,
  ): Dialog {
    const dialog =
      this.match(callId, localTag, remoteTag) ?? this.store({ callId, localTag, remoteTag }, octets);
    dialog.awaitAck(this.timers, resend, unacknowledged, this.isAlive);
    return dialog;
  }

  /** A dialog the mock created as UAC (12.1.2): it replaces one with the same identity. */
  add(init: DialogInit): Dialog {
    const existing = this.match(init.callId, init.localTag, init.remoteTag);
    if (existing) this.end(existing);
    return this.store(init, 0);
  }

  /** Bounded: a client that never sends BYE must not grow memory for ever (the oldest dialog goes). */
  private store(init: DialogInit, octets: number): Dialog {
    if (this.dialogs.size >= MAX_DIALOGS) {
      const oldest = this.dialogs.values().next().value;
      if (oldest) this.end(oldest);
    }
    // The key's length: Call-ID, tags and their two separators.
    const keyLength = init.callId.length + init.localTag.length + init.remoteTag.length + 2;
    const dialog = new Dialog(init, this.scheduler, ITEM_OVERHEAD.dialogs + keyLength + octets);
    this.budget.charge(dialog.cost);
    // The key of the dialog's own strings: the one given is made of slices of the message.
    this.dialogs.set(dialog.key, dialog);
    const ofCall = this.byCall.get(dialog.callId);
    if (ofCall === undefined) this.byCall.set(dialog.callId, dialog);
    else if (Array.isArray(ofCall)) ofCall.push(dialog);
    else this.byCall.set(dialog.callId, [ofCall, dialog]);
    return dialog;
  }

  /** Whether this dialog object is still the live one (not ended or replaced). */
  alive(dialog: Dialog): boolean {
    return this.dialogs.get(dialog.key) === dialog;
  }

  /**
   * Resolves true once the ACK for our 2xx arrived (at once when it has),
   * false when the dialog ends first (15.1.1).
   */
  whenConfirmed(dialog: Dialog): Promise<boolean> {
    if (!this.alive(dialog)) return Promise.resolve(false);
    return dialog.whenConfirmed();
  }

  confirm(dialog: Dialog): void {
    dialog.confirm();
  }

  end(dialog: Dialog): void {
    const wasAlive = this.alive(dialog);
    if (wasAlive) {
      this.dialogs.delete(dialog.key);
      this.budget.release(dialog.cost);
      this.forget(dialog);
    }
    dialog.terminate();
    if (wasAlive) this.onEnded?.(dialog);
  }

  private forget(dialog: Dialog): void {
    const ofCall = this.byCall.get(dialog.callId);
    if (ofCall === dialog) {
      this.byCall.delete(dialog.callId);
      return;
    }
    if (!Array.isArray(ofCall)) return;
    const i = ofCall.indexOf(dialog);
    if (i >= 0) ofCall.splice(i, 1);
    if (ofCall.length === 0) this.byCall.delete(dialog.callId);
    else if (ofCall.length === 1) this.byCall.set(dialog.callId, ofCall[0]!);
  }

  clear(): void {
    for (const d of this.dialogs.values()) this.end(d);
  }
}
