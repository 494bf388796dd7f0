/**
 * One dialog (RFC 3261 12) and everything it owns: its identity (Call-ID and
 * tags), its CSeq rules (12.2.1.1 and 12.2.2), its remote target and route
 * set (12.1.1, 12.1.2, 12.2.1.2), the offer/answer state of its sessions,
 * the 2xx retransmission until the ACK (13.3.1.4), and its session timer
 * (RFC 4028, session-timer.ts). Every field changes through a method here.
 */

import { detach } from "../../transaction/detach.js";
import type { Scheduler, TimerHandle, TimerTarget } from "../../transaction/scheduler.js";
import type { Flow } from "../../transport/types.js";
import type { SdpOrigin, WebRtcIdentity } from "../sdp.js";
import { SessionTimer } from "./session-timer.js";

export type MediaDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** What the mock needs to send a request in this dialog (12.1.1). */
export interface DialogPeer {
  /** Remote target: the Contact of the peer's last target refresh (12.1.1, 12.2.1.1). */
  readonly target: string;
  /** Our From (their To with our tag) and To (their From). */
  readonly from: string;
  readonly to: string;
  /** Record-Route values in order: our Route set for requests (12.1.1). */
  readonly routeSet: readonly string[];
  readonly flow: Flow;
  /** 12.2.1.1: the last CSeq number the mock used in this dialog (0: none yet). */
  readonly localCseq: number;
  /** The peer listed UPDATE in Allow (RFC 3311): session refreshes use it. */
  readonly allowsUpdate?: boolean;
}

/** How a dialog starts: the UAS's 2xx (12.1.1) or the 2xx to the mock's INVITE (12.1.2). */
export interface DialogInit {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** The mock sent the initial INVITE (it chose the Call-ID: 14.1's longer 491 back-off). */
  readonly uac?: boolean;
  /** The mock's own INVITE: its 2xx was acknowledged by the UAC core at once (13.2.2.4). */
  readonly confirmed?: boolean;
  readonly peer?: DialogPeer;
  readonly webrtc?: WebRtcIdentity;
  readonly sdpOrigin?: SdpOrigin;
  readonly remoteSdp?: string;
  /** Octets charged to the dialog budget for it. */
  readonly cost?: number;
}

/** A dialog's identity in the store (12: Call-ID, local tag, remote tag). */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}

export class Dialog implements TimerTarget {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** dialogKey of the dialog's own strings, made once. */
  readonly key: string;
  readonly uac: boolean;
  readonly cost: number;
  private isConfirmed: boolean;
  private highestRemoteCseq: number | undefined;
  private remoteInvite = false;
  private localInvite = false;
  private mediaDirection: MediaDirection | undefined;
  private origin: SdpOrigin | undefined;
  private lastRemoteSdp: string | undefined;
  private answerInAck = false;
  private peerState: { -readonly [K in keyof DialogPeer]: DialogPeer[K] } | undefined;
  private webrtcIdentity: WebRtcIdentity | undefined;
  private retransmit: TimerHandle | undefined;
  private giveUp: TimerHandle | undefined;
  /** While the 2xx waits for its ACK (awaitAck): what its two timers do, the dialog being their target. */
  private resend: (() => void) | undefined;
  private interval = 0;
  private t2 = 0;
  private unacknowledged: ((dialog: Dialog) => void) | undefined;
  private current: ((dialog: Dialog) => boolean) | undefined;
  private hangUpTimer: TimerHandle | undefined;
  private waiting: Array<(confirmed: boolean) => void> | undefined;
  private sessionTimer: SessionTimer | undefined;
  /** Overload: the CSeq of a BYE of this call let through a spent transactions budget, not ended yet. */
  private sparedBye: number | undefined;

  constructor(
    init: DialogInit,
    private readonly scheduler: Scheduler,
    /** Octets charged to the dialog budget for it (else init.cost, else 0). */
    cost?: number,
  ) {
    // Strings of their own: slices would keep the whole dialog-creating
    // message alive as long as the dialog (transaction/detach.ts).
    this.callId = detach(init.callId);
    this.localTag = detach(init.localTag);
    this.remoteTag = detach(init.remoteTag);
    this.key = dialogKey(this.callId, this.localTag, this.remoteTag);
    this.uac = init.uac === true;
    this.cost = cost ?? init.cost ?? 0;
    this.isConfirmed = init.confirmed === true;
    this.peerState = init.peer ? ownPeer(init.peer) : undefined;
    this.webrtcIdentity = init.webrtc;
    this.origin = init.sdpOrigin;
    this.lastRemoteSdp = init.remoteSdp;
  }

  /** RFC 4028: the refresh (when the mock refreshes) or the BYE before expiry (when the peer does). */
  get session(): SessionTimer {
    this.sessionTimer ??= new SessionTimer(this.scheduler);
    return this.sessionTimer;
  }

  /** The ACK for our 2xx arrived (or the mock's own INVITE's 2xx was acknowledged). */
  get confirmed(): boolean {
    return this.isConfirmed;
  }

  /** 12.2.2: the highest CSeq seen from the peer in this dialog. */
  get remoteCseq(): number | undefined {
    return this.highestRemoteCseq;
  }

  /** 14.2: an INVITE of the peer in this dialog still waiting for its final response. */
  get inviteInProgress(): boolean {
    return this.remoteInvite;
  }

  /** 14.1: the mock's own re-INVITE is in progress (an INVITE from the peer then gets 491). */
  get localInviteInProgress(): boolean {
    return this.localInvite;
  }

  /** The media direction of the mock's last accepted offer (for refresh offers). */
  get direction(): MediaDirection | undefined {
    return this.mediaDirection;
  }

  /** RFC 3264 8: o= session id and version of our last description in this dialog. */
  get sdpOrigin(): SdpOrigin | undefined {
    return this.origin;
  }

  /** The peer's last session description: its offer, or its answer (in the ACK when the 2xx offered, 13.2.1). */
  get remoteSdp(): string | undefined {
    return this.lastRemoteSdp;
  }

  /** Our 2xx carried the offer: the ACK must carry the answer (RFC 3261 13.2.1). */
  get offeredIn2xx(): boolean {
    return this.answerInAck;
  }

  /** Remote target, route set, flow and local CSeq; absent when the peer gave no usable Contact. */
  get peer(): DialogPeer | undefined {
    return this.peerState;
  }

  /** WebRTC transport parameters of our offers, kept for the dialog (RFC 8839 4.4.1.1.1). */
  get webrtc(): WebRtcIdentity | undefined {
    return this.webrtcIdentity;
  }

  // --- CSeq (12.2.1.1, 12.2.2) ---------------------------------------------

  /**
   * 12.2.2: "If the remote sequence number was not empty, but the sequence
   * number of the request is lower than the remote sequence number, the
   * request is out of order and MUST be rejected with a 500"; otherwise the
   * remote sequence number becomes the request's. False: out of order.
   */
  receiveCseq(seq: number): boolean {
    if (this.highestRemoteCseq !== undefined && seq < this.highestRemoteCseq) return false;
    this.highestRemoteCseq = Math.max(seq, this.highestRemoteCseq ?? 0);
    return true;
  }

  /**
   * 12.2.1.1: "the CSeq number [...] MUST be incremented by one" for each
   * request the mock sends in the dialog (ACK and CANCEL reuse their
   * INVITE's and never come here). Throws when the dialog has no peer.
   */
  nextLocalCseq(): number {
    if (!this.peerState) throw new Error(`the dialog of ${this.callId} has no remote target`);
    this.peerState.localCseq += 1;
    return this.peerState.localCseq;
  }

  // --- target and route set (12.1.1, 12.2.1.2) ------------------------------

  /** 12.1.1: the UAS learnt the remote target and route set from the dialog-creating request. */
  setPeer(peer: DialogPeer): void {
    this.peerState = ownPeer(peer);
  }

  /** 12.2.1.2 / 12.2.2: a target refresh (re-INVITE, UPDATE, or its 2xx) replaces the remote target. */
  retarget(target: string): void {
    if (this.peerState) this.peerState.target = detach(target);
  }

  // --- INVITE transactions in progress (14.1, 14.2) -------------------------

  startRemoteInvite(): void {
    this.remoteInvite = true;
  }

  endRemoteInvite(): void {
    this.remoteInvite = false;
  }

  startLocalInvite(): void {
    this.localInvite = true;
  }

  endLocalInvite(): void {
    this.localInvite = false;
  }

  // --- sessions (RFC 3264) --------------------------------------------------

  /** The mock's re-INVITE with this direction was accepted (14.1: a rejected one changes nothing). */
  setDirection(direction: MediaDirection): void {
    this.mediaDirection = direction;
  }

  /** RFC 3264 8: the origin of the description the mock just sent. */
  recordSdpOrigin(origin: SdpOrigin): void {
    this.origin = origin;
  }

  recordRemoteSdp(sdp: string): void {
    this.lastRemoteSdp = sdp;
  }

  /** Our 2xx carries an offer: the ACK must answer it (13.2.1). */
  expectAnswerInAck(): void {
    this.answerInAck = true;
  }

  /** The ACK of that 2xx arrived (with or without the answer). */
  clearExpectedAnswer(): void {
    this.answerInAck = false;
  }

  /** The dialog's WebRTC identity, made once with `make` (same ICE credentials and fingerprint throughout). */
  ensureWebrtc(make: () => WebRtcIdentity): WebRtcIdentity {
    this.webrtcIdentity ??= make();
    return this.webrtcIdentity;
  }

  // --- the 2xx and its ACK (13.3.1.4, 15.1.1) -------------------------------

  /**
   * A 2xx was sent: 13.3.1.4 "The 2xx response is passed to the transport
   * with an interval that starts at T1 seconds and doubles for each
   * retransmission until it reaches T2 seconds [...] Response
   * retransmissions cease when an ACK request for the response is
   * received"; "If the server retransmits the 2xx response for 64*T1
   * seconds without receiving an ACK, the dialog is confirmed, but the
   * session SHOULD be terminated" (`unacknowledged`). A 2xx to a re-INVITE
   * restarts this on the same dialog.
   */
  awaitAck(
    timers: { readonly t1: number; readonly t2: number },
    /** Sends the 2xx again (undefined over reliable transports: only the give-up timer runs). */
    resend: (() => void) | undefined,
    /** 64*T1 passed without the ACK, and `current` says the dialog is still the live one. */
    unacknowledged: (dialog: Dialog) => void,
    current: (dialog: Dialog) => boolean,
  ): void {
    // Positional parameters, no options object, no closures: the dialog is
    // its timers' target (onTimer) and keeps what they need in fields.
    this.retransmit?.cancel();
    this.giveUp?.cancel();
    this.isConfirmed = false;
    this.resend = resend;
    this.interval = timers.t1;
    this.t2 = timers.t2;
    this.unacknowledged = unacknowledged;
    this.current = current;
    this.retransmit = resend ? this.scheduler.schedule(timers.t1, this) : undefined;
    this.giveUp = this.scheduler.schedule(64 * timers.t1, this);
  }

  /** A timer of awaitAck fired: the 2xx again (T1, doubling up to T2), or 64*T1 passed without the ACK. */
  onTimer(timer: TimerHandle): void {
    if (timer === this.retransmit) {
      if (this.isConfirmed) return;
      this.resend?.();
      this.interval = Math.min(2 * this.interval, this.t2);
      this.retransmit = this.scheduler.schedule(this.interval, this);
    } else if (timer === this.giveUp) {
      this.retransmit?.cancel();
      const unacknowledged = this.unacknowledged;
      const current = this.current;
      this.stopAwaitingAck();
      if (!this.isConfirmed && current?.(this)) unacknowledged?.(this);
    }
  }

  /** The 2xx no longer waits: what its timers held (the 2xx's bytes, its transaction) is let go. */
  private stopAwaitingAck(): void {
    this.resend = undefined;
    this.unacknowledged = undefined;
    this.current = undefined;
  }

  /** The ACK arrived: retransmissions stop, requests waiting for it go on. */
  confirm(): void {
    this.isConfirmed = true;
    this.retransmit?.cancel();
    this.giveUp?.cancel();
    this.retransmit = undefined;
    this.giveUp = undefined;
    this.stopAwaitingAck();
    this.release(true);
  }

  /**
   * Resolves true once the ACK for our 2xx arrived (at once when it has),
   * false when the dialog ends first. 15.1.1: the callee "MUST NOT send a
   * BYE on a confirmed dialog until it has received an ACK for its 2xx".
   */
  whenConfirmed(): Promise<boolean> {
    if (this.isConfirmed) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiting ??= [];
      this.waiting.push(resolve);
    });
  }

  /** A BYE let through a spent transactions budget is in progress (one at a time per call). */
  get byeInFlight(): boolean {
    return this.sparedBye !== undefined;
  }

  /** Marks the BYE of CSeq `seq` as let through a spent transactions budget. */
  spareBye(seq: number): void {
    this.sparedBye = seq;
  }

  /**
   * The final response of the BYE of CSeq `seq` went out, or its transaction
   * ended without one: when it was the one let through, the next may be (a
   * BYE admitted before the budget ran out ending meanwhile does not count).
   */
  byeEnded(seq: number): void {
    if (this.sparedBye === seq) this.sparedBye = undefined;
  }

  /** A scripted hang-up (a call's hangUpAfterMs); ending the dialog cancels it. */
  hangUpAfter(ms: number, hangUp: () => void): void {
    this.hangUpTimer?.cancel();
    this.hangUpTimer = this.scheduler.schedule(ms, hangUp);
  }

  /** The dialog ended: every timer it owns stops, requests waiting for the ACK give up. */
  terminate(): void {
    this.retransmit?.cancel();
    this.giveUp?.cancel();
    this.hangUpTimer?.cancel();
    this.sessionTimer?.stop();
    this.stopAwaitingAck();
    this.release(false);
  }

  private release(confirmed: boolean): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    for (const w of waiting) w(confirmed);
  }
}

/** The peer's strings in strings of their own (detach), not slices of the message they came from. */
function ownPeer(p: DialogPeer): { -readonly [K in keyof DialogPeer]: DialogPeer[K] } {
  return {
    target: detach(p.target),
    from: detach(p.from),
    to: detach(p.to),
    routeSet: p.routeSet.length === 0 ? NO_ROUTES : p.routeSet.map(detach),
    flow: p.flow,
    localCseq: p.localCseq,
    allowsUpdate: p.allowsUpdate,
  };
}

const NO_ROUTES: readonly string[] = Object.freeze([]);
