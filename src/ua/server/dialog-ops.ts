/**
 * Every change the UAS makes to a dialog, in one place. Each function is
 * named after the Dialog method that does the same (helper "dialog" turns
 * dialogs.ts into a class owning its state): when that class lands, each
 * body becomes the method call, or the callers call the method directly.
 */
import type { Dialog, DialogPeer } from "../dialogs.js";
import type { SdpOrigin, WebRtcIdentity } from "../sdp.js";

/** 12.2.2: false for a CSeq lower than one already seen; else it is the highest seen. */
export function receiveCseq(dialog: Dialog, seq: number): boolean {
  if (dialog.remoteCseq !== undefined && seq < dialog.remoteCseq) return false;
  dialog.remoteCseq = Math.max(seq, dialog.remoteCseq ?? 0);
  return true;
}

/** 14.2: the peer's INVITE in this dialog is in progress (or no longer). */
export function startRemoteInvite(dialog: Dialog): void {
  dialog.inviteInProgress = true;
}

export function endRemoteInvite(dialog: Dialog): void {
  dialog.inviteInProgress = false;
}

/** 12.2.1.1: the CSeq of the mock's next request in the dialog (the peer must be known). */
export function nextLocalCseq(dialog: Dialog): number {
  dialog.peer!.localCseq += 1;
  return dialog.peer!.localCseq;
}

/** 12.1.1: remote target and route set from the dialog-creating request. */
export function setPeer(dialog: Dialog, peer: DialogPeer): void {
  dialog.peer = peer;
}

/** 12.2.2: a target refresh (a new Contact). */
export function retarget(dialog: Dialog, target: string): void {
  dialog.peer!.target = target;
}

export function recordSdpOrigin(dialog: Dialog, origin: SdpOrigin): void {
  dialog.sdpOrigin = origin;
}

export function recordRemoteSdp(dialog: Dialog, sdp: string): void {
  dialog.remoteSdp = sdp;
}

/** 13.2.1: our offer went in the 2xx; the answer is due in the ACK (or no longer). */
export function expectAnswerInAck(dialog: Dialog): void {
  dialog.offeredIn2xx = true;
}

export function clearExpectedAnswer(dialog: Dialog): void {
  dialog.offeredIn2xx = false;
}

/** The dialog's WebRTC identity (ICE credentials, fingerprint), made once. */
export function ensureWebrtc(dialog: Dialog, make: () => WebRtcIdentity): WebRtcIdentity {
  dialog.webrtc ??= make();
  return dialog.webrtc;
}
