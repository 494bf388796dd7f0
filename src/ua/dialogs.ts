/**
 * Dialogs the UAS took part in (RFC 3261 12), keyed by Call-ID, local tag and
 * remote tag, and the 2xx retransmission of 13.3.1.4 until the ACK arrives.
 */
import { ByteBudget, DEFAULT_BUDGETS, ITEM_OVERHEAD } from "../transaction/budget.js";
import type { Scheduler, TimerHandle } from "../transaction/scheduler.js";
import type { TimerConfig } from "../transaction/timers.js";
import type { Flow } from "../transport/types.js";

export interface Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  confirmed: boolean;
  /** 12.2.2: the highest CSeq seen from the peer in this dialog. */
  remoteCseq?: number;
  /** 14.2: an INVITE of this dialog still waiting for its final response. */
  inviteInProgress?: boolean;
  /** 14.1: the mock's own re-INVITE is in progress (an INVITE from the peer then gets 491). */
  localInviteInProgress?: boolean;
  /** The media direction of the mock's last offer or answer (for refresh offers). */
  direction?: "sendrecv" | "sendonly" | "recvonly" | "inactive";
  /** RFC 3264 8: o= session id and version of our last description in this dialog. */
  sdpOrigin?: { readonly sessionId: number; readonly version: number };
  /** The peer's last session description: its offer, or its answer (in the ACK when the 2xx offered, 13.2.1). */
  remoteSdp?: string;
  /** Our 2xx carried the offer: the ACK must carry the answer (RFC 3261 13.2.1). */
  offeredIn2xx?: boolean;
  /** What the mock needs to send a request in this dialog (12.1.1): set by the UAS. */
  peer?: DialogPeer;
  /** RFC 4028: the refresh (when the mock refreshes) or the BYE before expiry (when the peer does). */
  sessionTimer?: TimerHandle;
  /** RFC 4028 10, the mock refreshing: BYE before expiry when no refresh succeeded. */
  sessionGuard?: TimerHandle;
  /** Bumped whenever a session interval starts: refreshes of an older one are stale. */
  sessionGeneration?: number;
  /** A scripted hang-up (call's hangUpAfterMs). */
  hangUpTimer?: TimerHandle;
  /** Requests waiting for the ACK of our 2xx (whenConfirmed). */
  waiting?: Array<(confirmed: boolean) => void> | undefined;
  /** WebRTC transport parameters of our offers, kept for the dialog (RFC 8839 4.4.1.1.1). */
  webrtc?: { readonly ufrag: string; readonly pwd: string; readonly fingerprint: string };
  /** The mock sent the initial INVITE (it chose the Call-ID: 14.1's longer 491 back-off). */
  uac?: boolean;
  retransmit?: TimerHandle;
  giveUp?: TimerHandle;
  /** Octets charged to the dialog budget for it. */
  cost?: number;
}

export interface DialogPeer {
  /** Remote target: the Contact of the peer's last target refresh (12.1.1, 12.2.1.1). */
  target: string;
  /** Our From (their To with our tag) and To (their From). */
  readonly from: string;
  readonly to: string;
  /** Record-Route values in order: our Route set for requests (12.1.1). */
  readonly routeSet: readonly string[];
  readonly flow: Flow;
  localCseq: number;
  /** The peer listed UPDATE in Allow (RFC 3311): session refreshes use it. */
  allowsUpdate?: boolean;
}

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

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

const MAX_DIALOGS = 100_000;

export class DialogStore {
  private readonly dialogs = new Map<string, Dialog>();

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
    return [...this.dialogs.values()].filter((d) => d.callId === callId);
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

  find(callId: string, localTag: string | undefined, remoteTag: string | undefined): Dialog | undefined {
    if (!localTag) return undefined;
    return this.dialogs.get(dialogKey(callId, localTag, remoteTag ?? ""));
  }

  /**
   * A 2xx was sent: the dialog exists. 13.3.1.4: "The 2xx response is passed
   * to the transport with an interval that starts at T1 seconds and doubles
   * for each retransmission until it reaches T2 seconds [...] Response
   * retransmissions cease when an ACK request for the response is received."
   * `resend` is called for every retransmission; `unacknowledged` after 64*T1.
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
    const key = dialogKey(callId, localTag, remoteTag);
    let dialog = this.dialogs.get(key);
    if (dialog) {
      // The 2xx to a re-INVITE: the same dialog (its timers, pending
      // requests and state stay), now waiting for this 2xx's ACK.
      dialog.retransmit?.cancel();
      dialog.giveUp?.cancel();
      dialog.confirmed = false;
    } else {
      // Bounded: a client that never sends BYE must not grow memory for ever.
      if (this.dialogs.size >= MAX_DIALOGS) {
        const oldest = this.dialogs.values().next().value;
        if (oldest) this.end(oldest);
      }
      dialog = { callId, localTag, remoteTag, confirmed: false };
      this.store(key, dialog, octets);
    }
    const d = dialog;
    if (resend) {
      let interval = this.timers.t1;
      const tick = () => {
        d.retransmit = this.scheduler.schedule(interval, () => {
          if (d.confirmed) return;
          resend();
          interval = Math.min(2 * interval, this.timers.t2);
          tick();
        });
      };
      tick();
    }
    // 13.3.1.4: "If the server retransmits the 2xx response for 64*T1 seconds
    // without receiving an ACK, the dialog is confirmed, but the session
    // SHOULD be terminated."
    d.giveUp = this.scheduler.schedule(64 * this.timers.t1, () => {
      d.retransmit?.cancel();
      if (!d.confirmed && this.alive(d)) unacknowledged(d);
    });
    return d;
  }

  /** A dialog the mock created as UAC (12.1.2): confirmed once the 2xx is acknowledged. */
  add(dialog: Dialog): Dialog {
    const key = dialogKey(dialog.callId, dialog.localTag, dialog.remoteTag);
    const existing = this.dialogs.get(key);
    if (existing) this.end(existing);
    if (this.dialogs.size >= MAX_DIALOGS) {
      const oldest = this.dialogs.values().next().value;
      if (oldest) this.end(oldest);
    }
    this.store(key, dialog, 0);
    return dialog;
  }

  private store(key: string, dialog: Dialog, octets: number): void {
    dialog.cost = ITEM_OVERHEAD.dialogs + key.length + octets;
    this.budget.charge(dialog.cost);
    this.dialogs.set(key, dialog);
  }

  /** Whether this dialog object is still the live one (not ended or replaced). */
  /** Told when a dialog ends, whoever ends it (the UAS answers a pending re-INVITE, 15.1.2). */
  onEnded?: (dialog: Dialog) => void;

  alive(dialog: Dialog): boolean {
    return this.dialogs.get(dialogKey(dialog.callId, dialog.localTag, dialog.remoteTag)) === dialog;
  }

  /**
   * Resolves true once the ACK for our 2xx arrived (at once when it has),
   * false when the dialog ends first. 15.1.1: the callee "MUST NOT send a
   * BYE on a confirmed dialog until it has received an ACK for its 2xx".
   */
  whenConfirmed(dialog: Dialog): Promise<boolean> {
    if (!this.alive(dialog)) return Promise.resolve(false);
    if (dialog.confirmed) return Promise.resolve(true);
    return new Promise((resolve) => {
      dialog.waiting = [...(dialog.waiting ?? []), resolve];
    });
  }

  confirm(dialog: Dialog): void {
    dialog.confirmed = true;
    dialog.retransmit?.cancel();
    dialog.giveUp?.cancel();
    const waiting = dialog.waiting;
    dialog.waiting = undefined;
    for (const w of waiting ?? []) w(true);
  }

  end(dialog: Dialog): void {
    const wasAlive = this.alive(dialog);
    for (const t of [
      dialog.retransmit,
      dialog.giveUp,
      dialog.sessionTimer,
      dialog.sessionGuard,
      dialog.hangUpTimer,
    ])
      t?.cancel();
    if (wasAlive) {
      this.dialogs.delete(dialogKey(dialog.callId, dialog.localTag, dialog.remoteTag));
      this.budget.release(dialog.cost ?? 0);
    }
    const waiting = dialog.waiting;
    dialog.waiting = undefined;
    for (const w of waiting ?? []) w(false);
    if (wasAlive) this.onEnded?.(dialog);
  }

  clear(): void {
    for (const d of this.dialogs.values()) this.end(d);
  }
}
