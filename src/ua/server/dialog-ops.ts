/**
 * Every change the UAS makes to a dialog, in one place: each is the Dialog
 * method of the same name (src/ua/dialog/dialog.ts owns the state and its
 * rules); these wrappers keep the UAS's call sites short and greppable.
 */
import type { Dialog, DialogPeer } from "../dialogs.js";
import type { SdpOrigin, WebRtcIdentity } from "../sdp.js";

/** 12.2.2: false for a CSeq lower than one already seen; else it is the highest seen. */
export function receiveCseq(dialog: Dialog, seq: number): boolean {
  return dialog.receiveCseq(seq);
}

/** 14.2: the peer's INVITE in this dialog is in progress (or no longer). */
export function startRemoteInvite(dialog: Dialog): void {
  dialog.startRemoteInvite();
}

export function endRemoteInvite(dialog: Dialog): void {
  dialog.endRemoteInvite();
}

/** 12.2.1.1: the CSeq of the mock's next request in the dialog (the peer must be known). */
export function nextLocalCseq(dialog: Dialog): number {
  return dialog.nextLocalCseq();
}

/** 12.1.1: remote target and route set from the dialog-creating request. */
export function setPeer(dialog: Dialog, peer: DialogPeer): void {
  dialog.setPeer(peer);
}

/** 12.2.2: a target refresh (a new Contact). */
export function retarget(dialog: Dialog, target: string): void {
  dialog.retarget(target);
}

export function recordSdpOrigin(dialog: Dialog, origin: SdpOrigin): void {
  dialog.recordSdpOrigin(origin);
}

export function recordRemoteSdp(dialog: Dialog, sdp: string): void {
  dialog.recordRemoteSdp(sdp);
}

/** 13.2.1: our offer went in the 2xx; the answer is due in the ACK (or no longer). */
export function expectAnswerInAck(dialog: Dialog): void {
  dialog.expectAnswerInAck();
}

export function clearExpectedAnswer(dialog: Dialog): void {
  dialog.clearExpectedAnswer();
}

/** The dialog's WebRTC identity (ICE credentials, fingerprint), made once. */
export function ensureWebrtc(dialog: Dialog, make: () => WebRtcIdentity): WebRtcIdentity {
  return dialog.ensureWebrtc(make);
}
