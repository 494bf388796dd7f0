/**
 * Requests the mock sends on its own, the other half of testing a
 * softphone: BYE, re-INVITE (hold, resume), UPDATE, session refreshes
 * (RFC 4028), NOTIFY for message waiting (RFC 3842), OPTIONS pings, and
 * INVITE to a registered client over the flow it registered on. Each goes
 * through a client transaction (RFC 3261 17.1) via the UAC.
 */
import type { Mailbox } from "../scenario/types.js";
import type { Scheduler } from "../transaction/scheduler.js";
import { newTag } from "../transaction/transaction-layer.js";
import type { Flow } from "../transport/types.js";
import type { Dialog, DialogPeer, DialogStore } from "./dialogs.js";
import { messageSummary, type Subscription } from "./events.js";
import { type Capabilities, type LocalIdentity, localUri } from "./local-context.js";
import type { Binding, Registrar } from "./registrar.js";
import { type CodecSpec, createOffer, DEFAULT_CODECS, originOf } from "./sdp.js";
import {
  addrSpecOf,
  type ClientOutcome,
  newCallId,
  type OutgoingRequest,
  tagOf,
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
}

export interface CallResult extends ClientOutcome {
  readonly callId: string;
  /** The contact the INVITE went to. */
  readonly contact: string;
  /** Provisional statuses received, in order. */
  readonly provisional: readonly number[];
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
    readonly kind: "not-found" | "conflict" | "invalid",
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
  readonly mediaPort: number;
  readonly identity: (flow: Flow) => LocalIdentity;
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
   * Ends a dialog from our side (15.1.1): "The caller's UA MAY send a BYE
   * for either confirmed or early dialogs". The dialog is over at once;
   * the BYE's answer only goes to the journal.
   */
  bye(dialog: Dialog, why: string): Promise<ClientOutcome> | undefined {
    const peer = dialog.peer;
    this.deps.dialogs.end(dialog);
    if (!peer) return undefined;
    return this.deps.uac.request(
      peer.flow,
      this.inDialog(dialog, peer, "BYE", [["Reason", `SIP;text="${why.replace(/["\\\r\n]/g, "'")}"`]]),
    );
  }

  /** Hangs up every dialog of a call; how many BYEs were sent. */
  hangUp(callId: string, why: string): number {
    let n = 0;
    for (const d of this.deps.dialogs.byCallId(callId)) if (this.bye(d, why)) n++;
    return n;
  }

  /**
   * A re-INVITE with a new offer (14.1): hold (sendonly or inactive),
   * resume (sendrecv). "a UAC MUST NOT initiate a new INVITE transaction
   * within a dialog while another INVITE transaction is in progress in
   * either direction" (14.1), so one in progress is a conflict.
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
    return Promise.all(dialogs.map((d) => this.reinviteDialog(d, direction, undefined, specs)));
  }

  private async reinviteDialog(
    dialog: Dialog,
    direction: MediaDirection,
    refresh?: string,
    codecs: readonly CodecSpec[] = DEFAULT_CODECS,
  ): Promise<ClientOutcome> {
    const peer = dialog.peer!;
    if (dialog.inviteInProgress || dialog.localInviteInProgress) {
      throw new MockRequestError(
        `an INVITE is already in progress in the dialog of ${dialog.callId} (RFC 3261 14.1)`,
        "conflict",
      );
    }
    const id = this.deps.identity(peer.flow);
    // RFC 3264 8: a new offer keeps the o= session id and increments the version.
    const origin = dialog.sdpOrigin
      ? { sessionId: dialog.sdpOrigin.sessionId, version: dialog.sdpOrigin.version + 1 }
      : undefined;
    const sdp = createOffer(id.host, this.deps.mediaPort, codecs, {
      ...(origin ? { origin } : {}),
      direction,
      webrtc: isWebSocket(peer.flow),
    });
    const o = originOf(sdp);
    if (o) dialog.sdpOrigin = o;
    dialog.direction = direction;
    const req = this.inDialog(dialog, peer, "INVITE", this.refreshHeaders(refresh), {
      contentType: "application/sdp",
      content: sdp,
    });
    dialog.localInviteInProgress = true;
    try {
      const outcome = await this.deps.uac.invite(peer.flow, req).outcome;
      this.afterInDialog(dialog, outcome);
      return outcome;
    } finally {
      dialog.localInviteInProgress = false;
    }
  }

  /** An UPDATE (RFC 3311) without a body: a session refresh or a keep-alive of the dialog. */
  async update(callId: string): Promise<ClientOutcome[]> {
    return Promise.all(this.dialogsOf(callId).map((d) => this.updateDialog(d)));
  }

  private async updateDialog(dialog: Dialog, refresh?: string): Promise<ClientOutcome> {
    const peer = dialog.peer!;
    const outcome = await this.deps.uac.request(
      peer.flow,
      this.inDialog(dialog, peer, "UPDATE", this.refreshHeaders(refresh)),
    );
    this.afterInDialog(dialog, outcome);
    return outcome;
  }

  /**
   * RFC 4028 10: the refresher refreshes at half the interval; the other
   * side "SHOULD send a BYE [...] slightly before the session expiration"
   * (the minimum of 32 s and a third of the interval). `sessionExpires` is
   * the Session-Expires value the 2xx carried ("1800;refresher=uac"); the
   * refresher named in a 2xx to the caller's INVITE is "uac" for the caller
   * and "uas" for the mock.
   */
  armSessionTimer(dialog: Dialog, sessionExpires: string | undefined, mockRefreshes: boolean): void {
    if (!sessionExpires) return;
    const seconds = Number(/^\s*(\d+)/.exec(sessionExpires)?.[1] ?? 0);
    if (!seconds) return;
    dialog.sessionTimer?.cancel();
    if (!mockRefreshes) {
      const ms = (seconds - Math.min(32, seconds / 3)) * 1000;
      dialog.sessionTimer = this.deps.scheduler.schedule(ms, () => {
        this.bye(dialog, `no session refresh within ${seconds} s (RFC 4028 10)`);
      });
      return;
    }
    dialog.sessionTimer = this.deps.scheduler.schedule((seconds / 2) * 1000, () => {
      void this.refresh(dialog, seconds);
    });
  }

  /** RFC 4028 7.4: UPDATE when the peer allows it (no offer needed), else a re-INVITE. */
  private async refresh(dialog: Dialog, seconds: number): Promise<void> {
    const value = `${seconds};refresher=uac`;
    let outcome: ClientOutcome;
    try {
      outcome = dialog.peer?.allowsUpdate
        ? await this.updateDialog(dialog, value)
        : await this.reinviteDialog(dialog, dialog.direction ?? "sendrecv", value);
    } catch {
      // An INVITE of the peer is in progress: try again a little later.
      dialog.sessionTimer = this.deps.scheduler.schedule(1000, () => void this.refresh(dialog, seconds));
      return;
    }
    if (outcome.status >= 200 && outcome.status < 300) {
      const se = outcome.response?.headers.get("Session-Expires");
      const refresherIsPeer = se !== undefined && /refresher\s*=\s*uas/i.test(se);
      this.armSessionTimer(dialog, se ?? String(seconds), !refresherIsPeer);
      return;
    }
    // 408 and 481 already ended the dialog (12.2.1.2); anything else: the
    // session cannot be kept alive, so end it (RFC 4028 10).
    if (this.deps.dialogs.byCallId(dialog.callId).includes(dialog)) {
      this.bye(dialog, `session refresh failed with ${outcome.status}`);
    }
  }

  private refreshHeaders(refresh: string | undefined): Array<readonly [string, string]> {
    return refresh
      ? [
          ["Session-Expires", refresh],
          ["Supported", "timer"],
        ]
      : [];
  }

  /**
   * 12.2.1.2: a 2xx to a target refresh updates the remote target; "If the
   * response for a request within a dialog is a 481 (Call/Transaction Does
   * Not Exist) or a 408 (Request Timeout), the UAC SHOULD terminate the dialog."
   */
  private afterInDialog(dialog: Dialog, outcome: ClientOutcome): void {
    const contact = outcome.response?.headers.get("Contact");
    if (outcome.status >= 200 && outcome.status < 300 && contact && dialog.peer) {
      dialog.peer.target = addrSpecOf(contact);
    }
    if (outcome.status >= 200 && outcome.status < 300 && outcome.response?.body.length) {
      dialog.remoteSdp = outcome.response.body.toString("latin1");
    }
    if (outcome.status === 481 || outcome.status === 408) this.deps.dialogs.end(dialog);
  }

  private dialogsOf(callId: string): Dialog[] {
    const list = this.deps.dialogs.byCallId(callId).filter((d) => d.peer);
    if (list.length === 0) throw new MockRequestError(`no dialog with Call-ID ${callId}`, "not-found");
    return list;
  }

  /** 12.2.1.1: a request within a dialog. */
  private inDialog(
    _dialog: Dialog,
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
      callId: _dialog.callId,
      cseq: peer.localCseq,
      routeSet: peer.routeSet,
      ...(method === "INVITE" || method === "UPDATE" ? { contact: `<${localUri(id, "sipmock")}>` } : {}),
      headers,
      ...(body ? { body } : {}),
    };
  }

  // --- to registered clients ---------------------------------------------

  /**
   * INVITE to a registered client (the most recently registered contact of
   * the AOR), over the socket or connection it registered on, with an SDP
   * offer. A 2xx makes a dialog (12.1.2) that BYE, re-INVITE and UPDATE
   * work on; the client's BYE is answered as usual.
   */
  async call(aorOrUser: string, options: CallOptions = {}): Promise<CallResult> {
    const { aor, binding, flow } = this.latestBinding(aorOrUser);
    const id = this.deps.identity(flow);
    const fromUri = !options.from
      ? `sip:sipmock@${id.host}`
      : /^sips?:/i.test(options.from)
        ? options.from
        : `sip:${options.from}@${id.host}`;
    const localTag = newTag();
    // WebSocket peers are browsers (RFC 7118): they only accept a WebRTC offer.
    const sdp = createOffer(id.host, this.deps.mediaPort, DEFAULT_CODECS, { webrtc: isWebSocket(flow) });
    const req: OutgoingRequest = {
      method: "INVITE",
      requestUri: binding.uri,
      from: `<${fromUri}>;tag=${localTag}`,
      to: `<${aor}>`,
      callId: newCallId(id.host),
      cseq: 1,
      contact: `<${localUri(id, "sipmock")}>`,
      headers: [
        ["Allow", this.deps.capabilities.allow.join(", ")],
        ["Supported", this.deps.capabilities.supported.filter((t) => t !== "100rel").join(", ")],
      ],
      body: { contentType: "application/sdp", content: sdp },
    };
    const provisional: number[] = [];
    let ringing = false;
    let cancelWanted = false;
    const sent = this.deps.uac.invite(flow, req, {
      provisional: (r) => {
        provisional.push(r.status);
        ringing = true;
        // 9.1: "a CANCEL [...] SHOULD NOT be sent [...] until a provisional response has been received".
        if (cancelWanted) void this.deps.uac.cancel(flow, req, sent.branch);
      },
    });
    const cancelTimer =
      options.cancelAfterMs !== undefined
        ? this.deps.scheduler.schedule(options.cancelAfterMs, () => {
            if (ringing) void this.deps.uac.cancel(flow, req, sent.branch);
            else cancelWanted = true;
          })
        : undefined;
    const outcome = await sent.outcome;
    cancelTimer?.cancel();
    if (outcome.status >= 200 && outcome.status < 300 && outcome.response) {
      const res = outcome.response;
      const remoteTag = tagOf(res.headers.get("To") ?? "") ?? "";
      const contact = res.headers.get("Contact");
      const dialog = this.deps.dialogs.add({
        callId: req.callId,
        localTag,
        remoteTag,
        confirmed: true,
        peer: {
          target: contact ? addrSpecOf(contact) : binding.uri,
          from: req.from,
          to: res.headers.get("To") ?? req.to,
          // 12.1.2: the UAC's route set is the Record-Route list reversed.
          routeSet: res.headers.getAll("Record-Route").reverse(),
          flow,
          localCseq: 1,
          allowsUpdate: allowsUpdate(res.headers.getAll("Allow")),
        },
        ...(originOf(sdp) ? { sdpOrigin: originOf(sdp)! } : {}),
        ...(res.body.length > 0 ? { remoteSdp: res.body.toString("latin1") } : {}),
      });
      if (options.hangUpAfterMs !== undefined) {
        dialog.sessionTimer = this.deps.scheduler.schedule(options.hangUpAfterMs, () => {
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
              body: messageSummary(mwi, sub.entity),
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
      body: { contentType: "application/simple-message-summary", content: messageSummary(mwi, aor) },
    }));
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
      targets.map(async ({ aor, binding, flow }) => {
        const id = this.deps.identity(flow);
        const outcome = await this.deps.uac.request(flow, {
          method,
          requestUri: binding.uri,
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

function isWebSocket(flow: Flow): boolean {
  return flow.transport === "ws" || flow.transport === "wss";
}

function userOf(aorOrUser: string): string {
  const m = /^sips?:([^@;>]+)@/i.exec(aorOrUser.trim());
  return m ? m[1]! : aorOrUser.trim();
}

export function allowsUpdate(allow: readonly string[]): boolean {
  return allow.some((v) => v.split(",").some((m) => m.trim().toUpperCase() === "UPDATE"));
}
