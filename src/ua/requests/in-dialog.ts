/**
 * Requests the mock sends inside a dialog (RFC 3261 12.2.1): BYE (15.1.1),
 * re-INVITE (14.1: hold, resume, new codecs), UPDATE (RFC 3311) and the
 * session refreshes of RFC 4028, each through a client transaction.
 */
import type { Flow } from "../../transport/types.js";
import type { SessionActions } from "../dialog/session-timer.js";
import { readSessionExpires } from "../dialog/session-timer.js";
import type { Dialog, DialogPeer, MediaDirection } from "../dialogs.js";
import { localUri } from "../local-context.js";
import { isWebSocket, targetFlow } from "../request-target.js";
import { type CodecSpec, createOffer, DEFAULT_CODECS, newWebRtcIdentity, originOf } from "../sdp.js";
import { addrSpecOf, type ClientOutcome, type OutgoingRequest } from "../uac.js";
import {
  codecsNamed,
  isSuccess,
  MockRequestError,
  type MockRequestsDependencies,
  type ReinviteOptions,
} from "./types.js";

type HeaderRows = ReadonlyArray<readonly [string, string]>;

export class InDialogRequests {
  constructor(private readonly deps: MockRequestsDependencies) {}

  /**
   * Ends a dialog from our side (15.1.1). As the callee, "the callee's UA
   * MUST NOT send a BYE on a confirmed dialog until it has received an ACK
   * for its 2xx response or until the server transaction times out": the
   * BYE waits for the ACK unless `unconfirmed` (the 13.3.1.4 give-up). The
   * BYE's answer only goes to the journal. False when there is nothing to end.
   */
  bye(dialog: Dialog, why: string, unconfirmed = false): boolean {
    if (!this.deps.dialogs.alive(dialog)) return false;
    const peer = dialog.peer;
    if (!peer) {
      this.deps.dialogs.end(dialog);
      return false;
    }
    if (!dialog.confirmed && !unconfirmed) {
      void this.deps.dialogs.whenConfirmed(dialog).then((confirmed) => {
        if (confirmed) this.bye(dialog, why);
      });
      return true;
    }
    this.deps.dialogs.end(dialog);
    const reason: readonly [string, string] = ["Reason", `SIP;text="${why.replace(/["\\\r\n]/g, "'")}"`];
    void this.deps.uac.request(this.flowTo(peer), this.request(dialog, "BYE", [reason]));
    return true;
  }

  /** Hangs up every dialog of a call; how many BYEs were sent (or wait for an ACK). */
  hangUp(callId: string, why: string): number {
    let n = 0;
    for (const d of this.deps.dialogs.byCallId(callId)) if (this.bye(d, why)) n++;
    return n;
  }

  /**
   * A re-INVITE with a new offer (14.1): hold (sendonly or inactive),
   * resume (sendrecv), other codecs. "a UAC MUST NOT initiate a new INVITE
   * transaction within a dialog while another INVITE transaction is in
   * progress in either direction" (14.1), so one in progress is a conflict,
   * checked in every dialog of the call before anything is sent. A dialog
   * whose 2xx is not acknowledged yet waits for the ACK (13.2.1: the ACK
   * may carry the answer to our offer).
   */
  async reinvite(callId: string, offer: ReinviteOptions | MediaDirection = {}): Promise<ClientOutcome[]> {
    const { direction = "sendrecv", codecs } = typeof offer === "string" ? { direction: offer } : offer;
    const specs = codecsNamed(codecs ?? DEFAULT_CODECS.map((c) => c.name));
    if (typeof specs === "string" || specs.length === 0) {
      throw new MockRequestError(
        `unknown codec ${JSON.stringify(specs)}: the mock offers ${DEFAULT_CODECS.map((c) => c.name).join(", ")}`,
        "invalid",
      );
    }
    const dialogs = this.dialogsOf(callId);
    for (const d of dialogs) checkNoInvite(d);
    return Promise.all(dialogs.map((d) => this.reinviteDialog(d, direction, [], specs)));
  }

  /** An UPDATE (RFC 3311) without a body: a session refresh or a keep-alive of the dialog. */
  async update(callId: string): Promise<ClientOutcome[]> {
    return Promise.all(this.dialogsOf(callId).map((d) => this.updateDialog(d)));
  }

  /**
   * RFC 4028 10 from the Session-Expires value of a 2xx (ours or the
   * peer's): the dialog's session timer starts a new interval.
   */
  armSessionTimer(dialog: Dialog, sessionExpires: string | undefined, mockRefreshes: boolean): void {
    if (!sessionExpires || !dialog.peer || !this.deps.dialogs.alive(dialog)) return;
    const interval = readSessionExpires(sessionExpires);
    if (interval) dialog.session.start(interval.seconds, mockRefreshes, this.sessionActions, dialog);
  }

  /** What a dialog's session timer sends: UPDATE when the peer allows it (RFC 4028 7.4), else a re-INVITE. One for every dialog. */
  private readonly sessionActions: SessionActions<Dialog> = {
    alive: (dialog) => this.deps.dialogs.alive(dialog) && dialog.peer !== undefined,
    refresh: async (headers, dialog) => {
      try {
        return dialog.peer?.allowsUpdate
          ? await this.updateDialog(dialog, headers)
          : await this.reinviteDialog(dialog, dialog.direction ?? "sendrecv", headers);
      } catch (e) {
        return e instanceof MockRequestError && e.kind === "conflict" ? "conflict" : "gone";
      }
    },
    bye: (why, dialog) => this.bye(dialog, why),
    choseCallId: (dialog) => dialog.uac,
  };

  private async reinviteDialog(
    dialog: Dialog,
    direction: MediaDirection,
    headers: HeaderRows,
    codecs: readonly CodecSpec[] = DEFAULT_CODECS,
  ): Promise<ClientOutcome> {
    const peer = await this.ready(dialog);
    checkNoInvite(dialog);
    const sdp = this.offer(dialog, peer, direction, codecs);
    const req = this.request(dialog, "INVITE", headers, { contentType: "application/sdp", content: sdp });
    dialog.startLocalInvite();
    let outcome: ClientOutcome;
    try {
      outcome = await this.deps.uac.invite(
        this.flowTo(peer),
        req,
        {},
        { cancelAfterMs: this.deps.inDialogNoAnswerMs },
      ).outcome;
    } finally {
      dialog.endLocalInvite();
    }
    // 14.1: a rejected re-INVITE leaves the session as it was.
    if (isSuccess(outcome)) {
      dialog.setDirection(direction);
      // The new answer restarts the media (hold: inactive sends nothing; a new codec or address).
      const body = outcome.response?.body;
      if (body && body.length > 0)
        this.deps.media?.answered(dialog.callId, sdp, body.toString("latin1"), true);
    }
    this.afterInDialog(dialog, outcome);
    return outcome;
  }

  /**
   * The offer of a re-INVITE. RFC 3264 8: it keeps the o= session id and
   * increments the version (every description sent counts, accepted or
   * not). RFC 8839 4.4.1.1.1 / RFC 8842: the same ICE credentials and
   * fingerprint in every offer of the dialog (new ones would restart ICE and DTLS).
   */
  private offer(
    dialog: Dialog,
    peer: DialogPeer,
    direction: MediaDirection,
    codecs: readonly CodecSpec[],
  ): string {
    const id = this.deps.identity(peer.flow);
    const last = dialog.sdpOrigin;
    const origin = last ? { sessionId: last.sessionId, version: last.version + 1 } : undefined;
    if (isWebSocket(peer.flow)) dialog.ensureWebrtc(newWebRtcIdentity);
    const sdp = createOffer(
      id.host,
      this.deps.mediaPort(dialog.callId),
      this.deps.offerable?.(codecs) ?? codecs,
      {
        ...(origin ? { origin } : {}),
        direction,
        ...(dialog.webrtc ? { webrtc: dialog.webrtc } : {}),
      },
    );
    const o = originOf(sdp);
    if (o) dialog.recordSdpOrigin(o);
    return sdp;
  }

  private async updateDialog(dialog: Dialog, headers: HeaderRows = []): Promise<ClientOutcome> {
    const peer = await this.ready(dialog);
    const outcome = await this.deps.uac.request(this.flowTo(peer), this.request(dialog, "UPDATE", headers));
    this.afterInDialog(dialog, outcome);
    return outcome;
  }

  /** The dialog's peer once the dialog is confirmed; not-found when it ended first. */
  private async ready(dialog: Dialog): Promise<DialogPeer> {
    const confirmed = dialog.confirmed || (await this.deps.dialogs.whenConfirmed(dialog));
    if (!confirmed || !this.deps.dialogs.alive(dialog) || !dialog.peer) {
      throw new MockRequestError(`the dialog of ${dialog.callId} has ended`, "not-found");
    }
    return dialog.peer;
  }

  /**
   * 12.2.1.2: a 2xx to a target refresh (re-INVITE, UPDATE) updates the
   * remote target; "If the response for a request within a dialog is a 481
   * (Call/Transaction Does Not Exist) or a 408 (Request Timeout), the UAC
   * SHOULD terminate the dialog" (for 408 with a BYE, RFC 4028 10).
   */
  private afterInDialog(dialog: Dialog, outcome: ClientOutcome): void {
    const ok = isSuccess(outcome);
    const contact = outcome.response?.headers.get("Contact");
    if (ok && dialog.peer) dialog.retarget(addrSpecOf(contact, dialog.peer.target));
    if (ok && outcome.response?.body.length) dialog.recordRemoteSdp(outcome.response.body.toString("latin1"));
    if (outcome.status === 408) this.bye(dialog, "no answer to a request in this dialog (408)", true);
    if (outcome.status === 481) this.deps.dialogs.end(dialog);
  }

  private dialogsOf(callId: string): Dialog[] {
    const list = this.deps.dialogs.byCallId(callId).filter((d) => d.peer);
    if (list.length === 0) throw new MockRequestError(`no dialog with Call-ID ${callId}`, "not-found");
    return list;
  }

  /** 12.2.1.1: a request within a dialog, with the dialog's next local CSeq. */
  private request(
    dialog: Dialog,
    method: string,
    headers: HeaderRows = [],
    body?: { contentType: string; content: string },
  ): OutgoingRequest {
    const cseq = dialog.nextLocalCseq();
    const peer = dialog.peer!;
    const id = this.deps.identity(peer.flow);
    return {
      method,
      requestUri: peer.target,
      from: peer.from,
      to: peer.to,
      callId: dialog.callId,
      cseq,
      routeSet: peer.routeSet,
      ...(method === "INVITE" || method === "UPDATE" ? { contact: `<${localUri(id, "sipmock")}>` } : {}),
      headers,
      ...(body ? { body } : {}),
    };
  }

  /** Where a request within the dialog goes: its first Route, else the remote target (targetFlow). */
  private flowTo(peer: DialogPeer): Flow {
    return targetFlow(
      peer.flow,
      addrSpecOf(peer.routeSet[0], peer.target),
      this.deps.natMode,
      this.deps.listenerOn,
    );
  }
}

function checkNoInvite(dialog: Dialog): void {
  if (dialog.inviteInProgress || dialog.localInviteInProgress) {
    throw new MockRequestError(
      `an INVITE is already in progress in the dialog of ${dialog.callId} (RFC 3261 14.1)`,
      "conflict",
    );
  }
}
