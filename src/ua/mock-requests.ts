/**
 * Requests the mock sends on its own, the other half of testing a
 * softphone: BYE, re-INVITE (hold, resume), UPDATE, session refreshes
 * (RFC 4028), NOTIFY for message waiting (RFC 3842), OPTIONS pings, and
 * INVITE to a registered client at its Contact. Each goes
 * through a client transaction (RFC 3261 17.1) via the UAC.
 */
import type { Mailbox, MediaDirective } from "./ports.js";
import { isSipUri, parseUri } from "../sip/uri.js";
import type { Scheduler, TimerHandle } from "../transaction/scheduler.js";
import { newTag } from "../transaction/transaction-layer.js";
import type { Flow } from "../transport/types.js";
import type { Dialog, DialogPeer, DialogStore } from "./dialogs.js";
import { messageAccount, messageSummary, type Subscription } from "./events.js";
import { type Capabilities, type LocalIdentity, localUri } from "./local-context.js";
import type { Binding, Registrar } from "./registrar.js";
import {
  bindingFlow,
  isWebSocket,
  type ListenerLookup,
  registeredFlow,
  targetFlow,
} from "./request-target.js";
import { type CodecSpec, createOffer, DEFAULT_CODECS, newWebRtcIdentity, originOf } from "./sdp.js";
import {
  addrSpecOf,
  type ClientOutcome,
  newCallId,
  type OutgoingRequest,
  type UserAgentClient,
} from "./uac.js";

export type MediaDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** What a re-INVITE offers: a direction (hold, resume) and the codecs, in order (a codec change). */
export interface ReinviteOptions {
  readonly direction?: MediaDirection;
  /** Codec names from PCMU, PCMA, G722, opus (default: all four). */
  readonly codecs?: readonly string[];
}

/** The codec specs for names (case-insensitive), or the name nobody knows. */
export function codecsNamed(names: readonly string[]): readonly CodecSpec[] | string {
  const out: CodecSpec[] = [];
  for (const name of names) {
    const spec = DEFAULT_CODECS.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!spec) return name;
    out.push(spec);
  }
  return out;
}

export interface CallOptions {
  /** From user or URI (default sip:sipmock@<our address>). */
  readonly from?: string;
  /** Send CANCEL if no final answer came within this time (9.1). */
  readonly cancelAfterMs?: number;
  /** Send BYE this long after the call was answered. */
  readonly hangUpAfterMs?: number;
  /** What the mock sends as RTP in the call (default silence), a recording, faults. */
  readonly media?: MediaDirective;
}

/** The media of the mock's own calls (media-calls.ts), when media is on. */
export interface UacMedia {
  /** Allocates the call's RTP port; false when media is off. */
  prepare(callId: string, flow: Flow, directive?: MediaDirective): Promise<boolean>;
  /** The answer to our offer arrived (2xx, or 183 with SDP): start the media. */
  answered(callId: string, offer: string, answer: string, final: boolean): void;
  close(callId: string): void;
}

export interface CallResult extends ClientOutcome {
  readonly callId: string;
  /** The contact the INVITE went to. */
  readonly contact: string;
  /** Provisional statuses received, in order. */
  readonly provisional: readonly number[];
  /** The 2xx crossed the mock's CANCEL: the mock ACKed it and sent BYE at once. */
  readonly crossedCancel?: boolean;
}

/** Messages-Waiting yes/no and the Voice-Message counts (RFC 3842 5.2). */
export type MessageWaiting = Mailbox;

export interface ContactOutcome extends ClientOutcome {
  readonly contact: string;
}

/** Thrown when a request cannot be sent (no dialog, no registration): the API turns it into a 404/409. */
export class MockRequestError extends Error {
  constructor(
    message: string,
    /** unavailable: a resource is exhausted for now (no RTP port): retry later. */
    readonly kind: "not-found" | "conflict" | "invalid" | "unavailable",
  ) {
    super(message);
  }
}

export interface MockRequestsDependencies {
  readonly uac: UserAgentClient;
  readonly dialogs: DialogStore;
  readonly registrar: Registrar;
  readonly scheduler: Scheduler;
  readonly capabilities: Capabilities;
  /** The RTP port its offers name: the call's real one when it has media. */
  readonly mediaPort: (callId?: string) => number;
  /** The codecs its offers may name (only those the media layer encodes, when media is on). */
  readonly offerable?: (codecs: readonly CodecSpec[]) => readonly CodecSpec[];
  readonly media?: UacMedia;
  readonly identity: (flow: Flow) => LocalIdentity;
  /** How long an INVITE of the mock may ring before it is cancelled (9.1). */
  readonly noAnswerMs: number;
  /** The same for a re-INVITE. */
  readonly inDialogNoAnswerMs: number;
  /** NAT mode (--force-rport): requests follow the peer's source address, not its Contact. */
  readonly natMode: boolean;
  /** The mock's listeners, for a target on another transport than the flow it was learnt on. */
  readonly listenerOn?: ListenerLookup;
  /** Active subscriptions of a package for a user (the entity's user part). */
  readonly subscriptionsFor: (user: string, pkg: string) => Subscription[];
  /** A NOTIFY inside a subscription (the UAS keeps subscription state). */
  readonly notifyIn: (
    sub: Subscription,
    state: string,
    content: { type: string; body: string },
  ) => Promise<ClientOutcome>;
}

export class MockRequests {
  constructor(private readonly deps: MockRequestsDependencies) {}

  // --- in a dialog -------------------------------------------------------

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
    void this.deps.uac.request(this.flowTo(peer), this.inDialog(dialog, peer, "BYE", [reason]));
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
    for (const d of dialogs) this.checkNoInvite(d);
    return Promise.all(dialogs.map((d) => this.reinviteDialog(d, direction, undefined, specs)));
  }

  private checkNoInvite(dialog: Dialog): void {
    if (dialog.inviteInProgress || dialog.localInviteInProgress) {
      throw new MockRequestError(
        `an INVITE is already in progress in the dialog of ${dialog.callId} (RFC 3261 14.1)`,
        "conflict",
      );
    }
  }

  /** The dialog's peer once the dialog is confirmed; not-found when it ended first. */
  private async ready(dialog: Dialog): Promise<DialogPeer> {
    const confirmed = dialog.confirmed || (await this.deps.dialogs.whenConfirmed(dialog));
    if (!confirmed || !this.deps.dialogs.alive(dialog) || !dialog.peer) {
      throw new MockRequestError(`the dialog of ${dialog.callId} has ended`, "not-found");
    }
    return dialog.peer;
  }

  private async reinviteDialog(
    dialog: Dialog,
    direction: MediaDirection,
    refresh?: string,
    codecs: readonly CodecSpec[] = DEFAULT_CODECS,
    minSE?: number,
  ): Promise<ClientOutcome> {
    const peer = await this.ready(dialog);
    this.checkNoInvite(dialog);
    const id = this.deps.identity(peer.flow);
    // RFC 3264 8: a new offer keeps the o= session id and increments the
    // version (every description sent counts, accepted or not).
    const origin = dialog.sdpOrigin
      ? { sessionId: dialog.sdpOrigin.sessionId, version: dialog.sdpOrigin.version + 1 }
      : undefined;
    // RFC 8839 4.4.1.1.1 / RFC 8842: the same ICE credentials and
    // fingerprint in every offer of the dialog (new ones would restart ICE
    // and DTLS).
    if (isWebSocket(peer.flow)) dialog.webrtc ??= newWebRtcIdentity();
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
    if (o) dialog.sdpOrigin = o;
    const req = this.inDialog(dialog, peer, "INVITE", this.refreshHeaders(refresh, minSE), {
      contentType: "application/sdp",
      content: sdp,
    });
    dialog.localInviteInProgress = true;
    let outcome: ClientOutcome;
    try {
      outcome = await this.deps.uac.invite(
        this.flowTo(peer),
        req,
        {},
        { cancelAfterMs: this.deps.inDialogNoAnswerMs },
      ).outcome;
    } finally {
      dialog.localInviteInProgress = false;
    }
    // 14.1: a rejected re-INVITE leaves the session as it was.
    if (outcome.status >= 200 && outcome.status < 300) {
      dialog.direction = direction;
      // The new answer restarts the media (hold: inactive sends nothing; a new codec or address).
      const body = outcome.response?.body;
      if (body && body.length > 0)
        this.deps.media?.answered(dialog.callId, sdp, body.toString("latin1"), true);
    }
    this.afterInDialog(dialog, outcome);
    return outcome;
  }

  /** An UPDATE (RFC 3311) without a body: a session refresh or a keep-alive of the dialog. */
  async update(callId: string): Promise<ClientOutcome[]> {
    return Promise.all(this.dialogsOf(callId).map((d) => this.updateDialog(d)));
  }

  private async updateDialog(dialog: Dialog, refresh?: string, minSE?: number): Promise<ClientOutcome> {
    const peer = await this.ready(dialog);
    const outcome = await this.deps.uac.request(
      this.flowTo(peer),
      this.inDialog(dialog, peer, "UPDATE", this.refreshHeaders(refresh, minSE)),
    );
    this.afterInDialog(dialog, outcome);
    return outcome;
  }

  /**
   * RFC 4028 10: the refresher refreshes at half the interval; the other
   * side "SHOULD send a BYE [...] slightly before the session expiration"
   * (the minimum of 32 s and a third of the interval). `sessionExpires` is
   * the value of the Session-Expires header of the 2xx.
   */
  armSessionTimer(dialog: Dialog, sessionExpires: string | undefined, mockRefreshes: boolean): void {
    if (!sessionExpires || !dialog.peer || !this.deps.dialogs.alive(dialog)) return;
    const seconds = Number(/^\s*(\d+)/.exec(sessionExpires)?.[1] ?? 0);
    if (!seconds) return;
    // A new interval (a refresh from either side) makes every earlier timer
    // and refresh in flight obsolete.
    dialog.sessionGeneration = (dialog.sessionGeneration ?? 0) + 1;
    const generation = dialog.sessionGeneration;
    dialog.sessionTimer?.cancel();
    dialog.sessionGuard?.cancel();
    const beforeExpiry = (seconds - Math.min(32, seconds / 3)) * 1000;
    if (!mockRefreshes) {
      dialog.sessionTimer = this.deps.scheduler.schedule(beforeExpiry, () => {
        this.bye(dialog, `no session refresh within ${seconds} s (RFC 4028 10)`);
      });
      return;
    }
    // The refresher too ends a session no refresh could keep alive.
    dialog.sessionGuard = this.deps.scheduler.schedule(beforeExpiry, () => {
      this.bye(dialog, `session expired: no refresh succeeded within ${seconds} s (RFC 4028 10)`);
    });
    dialog.sessionTimer = this.deps.scheduler.schedule((seconds / 2) * 1000, () => {
      void this.refresh(dialog, seconds, 0, generation);
    });
  }

  /** RFC 4028 7.4: UPDATE when the peer allows it (no offer needed), else a re-INVITE. */
  private async refresh(
    dialog: Dialog,
    seconds: number,
    attempt: number,
    generation: number,
    minSE?: number,
  ): Promise<void> {
    const current = () => this.deps.dialogs.alive(dialog) && dialog.sessionGeneration === generation;
    if (!current() || !dialog.peer) return;
    const retry = (ms: number, interval = seconds, min?: number) => {
      if (attempt >= MAX_REFRESH_ATTEMPTS || !current()) return;
      dialog.sessionTimer?.cancel();
      dialog.sessionTimer = this.deps.scheduler.schedule(ms, () => {
        void this.refresh(dialog, interval, attempt + 1, generation, min);
      });
    };
    const value = `${seconds};refresher=uac`;
    let outcome: ClientOutcome;
    try {
      outcome = dialog.peer.allowsUpdate
        ? await this.updateDialog(dialog, value, minSE)
        : await this.reinviteDialog(dialog, dialog.direction ?? "sendrecv", value, undefined, minSE);
    } catch (e) {
      // The peer's INVITE is in progress (14.1): try again a little later.
      if (e instanceof MockRequestError && e.kind === "conflict") retry(1000);
      return;
    }
    // The peer refreshed meanwhile, or the dialog ended: this result is stale.
    if (!current()) return;
    if (outcome.status >= 200 && outcome.status < 300) {
      const se = outcome.response?.headers.get("Session-Expires");
      // In the 2xx to our request, "uas" names the peer as the refresher.
      const peerRefreshes = se !== undefined && /refresher\s*=\s*uas/i.test(se);
      this.armSessionTimer(dialog, se ?? String(seconds), !peerRefreshes);
      return;
    }
    switch (outcome.status) {
      case 491:
        // 14.1: retry after a random time: 2.1-4 s if we chose the Call-ID, else 0-2 s.
        retry(dialog.uac ? 2100 + Math.random() * 1900 : Math.random() * 2000);
        return;
      case 422: {
        // RFC 4028 7.4: too small; retry with the 422's Min-SE as the
        // interval and as the request's own Min-SE.
        const min = Number(/^\s*(\d+)/.exec(outcome.response?.headers.get("Min-SE") ?? "")?.[1] ?? 0);
        if (min > seconds) retry(0, min, min);
        return;
      }
      default:
        // 408/481 ended the dialog already (afterInDialog); anything else:
        // try once more later, the guard ends the session at expiry.
        retry((seconds / 4) * 1000);
    }
  }

  private refreshHeaders(refresh: string | undefined, minSE?: number): Array<readonly [string, string]> {
    if (!refresh) return [];
    return [
      ["Session-Expires", refresh],
      ...(minSE !== undefined ? ([["Min-SE", String(minSE)]] as const) : []),
      ["Supported", "timer"],
    ];
  }

  /**
   * 12.2.1.2: a 2xx to a target refresh (re-INVITE, UPDATE) updates the
   * remote target; "If the response for a request within a dialog is a 481
   * (Call/Transaction Does Not Exist) or a 408 (Request Timeout), the UAC
   * SHOULD terminate the dialog" (for 408 with a BYE, RFC 4028 10).
   */
  private afterInDialog(dialog: Dialog, outcome: ClientOutcome): void {
    const ok = outcome.status >= 200 && outcome.status < 300;
    const contact = outcome.response?.headers.get("Contact");
    if (ok && dialog.peer) dialog.peer.target = addrSpecOf(contact, dialog.peer.target);
    if (ok && outcome.response?.body.length) dialog.remoteSdp = outcome.response.body.toString("latin1");
    if (outcome.status === 408) this.bye(dialog, "no answer to a request in this dialog (408)", true);
    if (outcome.status === 481) this.deps.dialogs.end(dialog);
  }

  private dialogsOf(callId: string): Dialog[] {
    const list = this.deps.dialogs.byCallId(callId).filter((d) => d.peer);
    if (list.length === 0) throw new MockRequestError(`no dialog with Call-ID ${callId}`, "not-found");
    return list;
  }

  /** 12.2.1.1: a request within a dialog. */
  private inDialog(
    dialog: Dialog,
    peer: DialogPeer,
    method: string,
    headers: ReadonlyArray<readonly [string, string]> = [],
    body?: { contentType: string; content: string },
  ): OutgoingRequest {
    peer.localCseq += 1;
    const id = this.deps.identity(peer.flow);
    return {
      method,
      requestUri: peer.target,
      from: peer.from,
      to: peer.to,
      callId: dialog.callId,
      cseq: peer.localCseq,
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

  // --- to registered clients ---------------------------------------------

  /**
   * INVITE to a registered client (the most recently registered contact of
   * the AOR), at its Contact or along its Path (request-target.ts), with an
   * SDP offer. A 2xx makes a dialog (12.1.2) that BYE, re-INVITE and UPDATE
   * work on; the client's BYE is answered as usual. Unanswered, the INVITE
   * is cancelled after `cancelAfterMs` (default: the ring timeout).
   */
  /** The call's RTP/RTCP pair (media on); none free (port range full): `unavailable`. */
  private async prepareMedia(callId: string, flow: Flow, options: CallOptions): Promise<boolean> {
    try {
      return (await this.deps.media?.prepare(callId, flow, options.media)) === true;
    } catch (e) {
      this.deps.media?.close(callId);
      throw new MockRequestError(`no RTP port for the call: ${(e as Error).message}`, "unavailable");
    }
  }

  async call(aorOrUser: string, options: CallOptions = {}): Promise<CallResult> {
    const { aor, binding, flow: registeredOn } = this.latestBinding(aorOrUser);
    const flow = registeredFlow(
      registeredOn,
      binding.uri,
      binding.path,
      this.deps.natMode,
      this.deps.listenerOn,
    );
    const id = this.deps.identity(flow);
    const fromUri = fromUriOf(options.from, id.host);
    const localTag = newTag();
    // WebSocket peers are browsers (RFC 7118): they only accept a WebRTC offer.
    const webrtc = isWebSocket(flow) ? newWebRtcIdentity() : undefined;
    const callId = newCallId(id.host);
    // Media on: the offer names the call's real RTP port and only codecs the mock encodes.
    const media = !webrtc && (await this.prepareMedia(callId, flow, options));
    const sdp = createOffer(
      id.host,
      this.deps.mediaPort(media ? callId : undefined),
      media ? (this.deps.offerable?.(DEFAULT_CODECS) ?? DEFAULT_CODECS) : DEFAULT_CODECS,
      webrtc ? { webrtc } : {},
    );
    const req: OutgoingRequest = {
      method: "INVITE",
      requestUri: binding.uri,
      from: `<${fromUri}>;tag=${localTag}`,
      to: `<${aor}>`,
      callId,
      cseq: 1,
      contact: `<${localUri(id, "sipmock")}>`,
      // RFC 3327 5.4: the Path is the request's Route set.
      ...(binding.path ? { routeSet: binding.path } : {}),
      headers: [
        ["Allow", this.deps.capabilities.allow.join(", ")],
        ["Supported", this.deps.capabilities.supported.filter((t) => t !== "100rel").join(", ")],
      ],
      body: { contentType: "application/sdp", content: sdp },
    };
    const provisional: number[] = [];
    const sent = this.deps.uac.invite(
      flow,
      req,
      {
        provisional: (r) => {
          provisional.push(r.status);
          // Early media: a 183 with the answer (RFC 3261 13.3.1.1).
          if (media && r.body.length > 0 && r.status > 100)
            this.deps.media?.answered(callId, sdp, r.body.toString("latin1"), false);
        },
      },
      { cancelAfterMs: options.cancelAfterMs ?? this.deps.noAnswerMs },
    );
    const outcome = await sent.outcome;
    if (media && !(outcome.status >= 200 && outcome.status < 300)) this.deps.media?.close(callId);
    if (outcome.status >= 200 && outcome.status < 300 && outcome.response) {
      const res = outcome.response;
      if (media && res.body.length > 0)
        this.deps.media?.answered(callId, sdp, res.body.toString("latin1"), true);
      const remoteTag = res.core.to.tag ?? "";
      const contact = res.headers.get("Contact");
      const target = addrSpecOf(contact, binding.uri);
      // 12.1.2: the UAC's route set is the Record-Route list reversed.
      const routeSet = res.headers.getAll("Record-Route").reverse();
      const dialog = this.deps.dialogs.add({
        callId: req.callId,
        localTag,
        remoteTag,
        confirmed: true,
        uac: true,
        peer: {
          target,
          from: req.from,
          to: res.headers.get("To") ?? req.to,
          routeSet,
          // Without a route set the dialog's requests go to the remote
          // target itself, not down a Path proxy's connection.
          flow:
            routeSet.length > 0 ? flow : bindingFlow(flow, target, this.deps.natMode, this.deps.listenerOn),
          localCseq: 1,
          allowsUpdate: allowsUpdate(res.headers.getAll("Allow")),
        },
        ...(webrtc ? { webrtc } : {}),
        ...(originOf(sdp) ? { sdpOrigin: originOf(sdp)! } : {}),
        ...(res.body.length > 0 ? { remoteSdp: res.body.toString("latin1") } : {}),
      });
      // RFC 4028 7.2: we said Supported: timer; in the 2xx, refresher=uac is us.
      const se = res.headers.get("Session-Expires");
      if (se) this.armSessionTimer(dialog, se, !/refresher\s*=\s*uas/i.test(se));
      if (sent.cancelled()) {
        // 9.1 / 15: the 2xx crossed our CANCEL; the call is up, so end it.
        this.bye(dialog, "answered after the mock cancelled the call");
        return { ...outcome, callId: req.callId, contact: binding.uri, provisional, crossedCancel: true };
      }
      if (options.hangUpAfterMs !== undefined) {
        dialog.hangUpTimer = this.deps.scheduler.schedule(options.hangUpAfterMs, () => {
          this.bye(dialog, "call ended by the mock after the scripted talk time");
        });
      }
    }
    return { ...outcome, callId: req.callId, contact: binding.uri, provisional };
  }

  /**
   * Message waiting (RFC 3842): a NOTIFY with an
   * application/simple-message-summary body in every message-summary
   * subscription of the user; without one, an unsolicited NOTIFY to the
   * registered contacts, as voicemail servers do for phones that never
   * subscribe.
   */
  async notifyMessageWaiting(aorOrUser: string, mwi: MessageWaiting): Promise<ContactOutcome[]> {
    const user = userOf(aorOrUser);
    const subs = this.deps.subscriptionsFor(user, "message-summary");
    if (subs.length > 0) {
      return Promise.all(
        subs.map(async (sub) => ({
          contact: sub.target,
          ...(await this.deps.notifyIn(
            sub,
            `active;expires=${Math.max(0, Math.round((sub.expiresAt - Date.now()) / 1000))}`,
            {
              type: "application/simple-message-summary",
              body: messageSummary(mwi, messageAccount(this.deps.registrar, sub.entity)),
            },
          )),
        })),
      );
    }
    // RFC 6665 8.2.1 (Table 3): a NOTIFY carries a Contact.
    return this.toEveryContact(aorOrUser, "NOTIFY", (aor, id) => ({
      contact: `<${localUri(id, "sipmock")}>`,
      headers: [
        ["Event", "message-summary"],
        ["Subscription-State", "active"],
      ],
      body: {
        contentType: "application/simple-message-summary",
        content: messageSummary(mwi, messageAccount(this.deps.registrar, aor)),
      },
    }));
  }

  /**
   * OPTIONS to every registered contact every `intervalMs` (a keep-alive,
   * as registrars behind NAT do); `unanswered` hears of contacts that did
   * not answer. Returns the stop function.
   */
  keepAlive(intervalMs: number, unanswered: (aor: string, outcome: ContactOutcome) => void): () => void {
    let timer: TimerHandle | undefined;
    let stopped = false;
    const tick = () => {
      for (const { aor } of this.deps.registrar.snapshot()) {
        this.ping(aor).then(
          (outcomes) => {
            for (const o of outcomes) if (!o.response) unanswered(aor, o);
          },
          () => {},
        );
      }
      if (!stopped) timer = this.deps.scheduler.schedule(intervalMs, tick);
    };
    timer = this.deps.scheduler.schedule(intervalMs, tick);
    return () => {
      stopped = true;
      timer?.cancel();
    };
  }

  /** OPTIONS to every registered contact (11.1): a keep-alive ping whose answers the journal records. */
  ping(aorOrUser: string): Promise<ContactOutcome[]> {
    return this.toEveryContact(aorOrUser, "OPTIONS", () => ({
      headers: [["Accept", "application/sdp"]],
    }));
  }

  private async toEveryContact(
    aorOrUser: string,
    method: string,
    extra: (aor: string, id: LocalIdentity) => Pick<OutgoingRequest, "headers" | "body" | "contact">,
  ): Promise<ContactOutcome[]> {
    const found = this.deps.registrar.lookup(aorOrUser);
    const targets = found.flatMap(({ aor, bindings }) =>
      bindings.filter((b) => b.flow).map((b) => ({ aor, binding: b, flow: b.flow! })),
    );
    if (targets.length === 0) throw new MockRequestError(`${aorOrUser} is not registered`, "not-found");
    return Promise.all(
      targets.map(async ({ aor, binding, flow: registeredOn }) => {
        const flow = registeredFlow(
          registeredOn,
          binding.uri,
          binding.path,
          this.deps.natMode,
          this.deps.listenerOn,
        );
        const id = this.deps.identity(flow);
        const outcome = await this.deps.uac.request(flow, {
          method,
          requestUri: binding.uri,
          ...(binding.path ? { routeSet: binding.path } : {}),
          from: `<sip:sipmock@${id.host}>;tag=${newTag()}`,
          to: `<${aor}>`,
          callId: newCallId(id.host),
          cseq: 1,
          ...extra(aor, id),
        });
        return { contact: binding.uri, ...outcome };
      }),
    );
  }

  private latestBinding(aorOrUser: string): { aor: string; binding: Binding; flow: Flow } {
    const found = this.deps.registrar.lookup(aorOrUser);
    let best: { aor: string; binding: Binding; flow: Flow } | undefined;
    for (const { aor, bindings } of found) {
      for (const b of bindings) {
        if (!b.flow) continue;
        if (!best || b.expiresAt >= best.binding.expiresAt) best = { aor, binding: b, flow: b.flow };
      }
    }
    if (!best) throw new MockRequestError(`${aorOrUser} is not registered`, "not-found");
    return best;
  }
}

const MAX_REFRESH_ATTEMPTS = 10;

/** A From user ("voicemail") or SIP URI; anything that could break the header is refused. */
function fromUriOf(from: string | undefined, host: string): string {
  if (!from) return `sip:sipmock@${host}`;
  if (/^sips?:/i.test(from)) {
    let ok = false;
    try {
      ok = isSipUri(parseUri(from)) && !/[\s<>"]/.test(from);
    } catch {}
    if (!ok) throw new MockRequestError(`from: ${JSON.stringify(from)} is not a SIP URI`, "invalid");
    return from;
  }
  if (!/^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$/.test(from)) {
    throw new MockRequestError(`from: ${JSON.stringify(from)} is not a SIP user name`, "invalid");
  }
  return `sip:${from}@${host}`;
}

function userOf(aorOrUser: string): string {
  const m = /^sips?:([^@;>]+)@/i.exec(aorOrUser.trim());
  return m ? m[1]! : aorOrUser.trim();
}

export function allowsUpdate(allow: readonly string[]): boolean {
  return allow.some((v) => v.split(",").some((m) => m.trim().toUpperCase() === "UPDATE"));
}
