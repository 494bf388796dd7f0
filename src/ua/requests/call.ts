/**
 * INVITE to a registered client (the most recently registered contact of
 * the AOR), at its Contact or along its Path (request-target.ts), with an
 * SDP offer. A 2xx makes a dialog (12.1.2) that BYE, re-INVITE and UPDATE
 * work on; the client's BYE is answered as usual. Unanswered, the INVITE
 * is cancelled after `cancelAfterMs` (default: the ring timeout).
 */
import { isSipUri, parseUri } from "../../sip/uri.js";
import { newTag } from "../../transaction/transaction-layer.js";
import type { Flow } from "../../transport/types.js";
import { readSessionExpires } from "../dialog/session-timer.js";
import type { Dialog } from "../dialogs.js";
import { localUri } from "../local-context.js";
import type { Binding } from "../registrar.js";
import { bindingFlow, isWebSocket, registeredFlow } from "../request-target.js";
import { createOffer, DEFAULT_CODECS, newWebRtcIdentity, originOf, type WebRtcIdentity } from "../sdp.js";
import { addrSpecOf, type ClientOutcome, newCallId, type OutgoingRequest } from "../uac.js";
import type { InDialogRequests } from "./in-dialog.js";
import {
  allowsUpdate,
  type CallOptions,
  type CallResult,
  isSuccess,
  MockRequestError,
  type MockRequestsDependencies,
} from "./types.js";

/** The INVITE being placed, and what its 2xx needs to make the dialog. */
interface Placed {
  readonly req: OutgoingRequest;
  readonly localTag: string;
  readonly binding: Binding;
  readonly flow: Flow;
  readonly sdp: string;
  readonly media: boolean;
  readonly webrtc: WebRtcIdentity | undefined;
}

export class Caller {
  constructor(
    private readonly deps: MockRequestsDependencies,
    private readonly inDialog: InDialogRequests,
  ) {}

  async call(aorOrUser: string, options: CallOptions = {}): Promise<CallResult> {
    const placed = await this.prepare(aorOrUser, options);
    const { req, binding, sdp, media } = placed;
    const callId = req.callId;
    const provisional: number[] = [];
    const sent = this.deps.uac.invite(
      placed.flow,
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
    if (media && !isSuccess(outcome)) this.deps.media?.close(callId);
    const result = { ...outcome, callId, contact: binding.uri, provisional };
    if (!isSuccess(outcome) || !outcome.response) return result;
    const dialog = this.answered(placed, outcome);
    if (sent.cancelled()) {
      // 9.1 / 15: the 2xx crossed our CANCEL; the call is up, so end it.
      this.inDialog.bye(dialog, "answered after the mock cancelled the call");
      return { ...result, crossedCancel: true };
    }
    if (options.hangUpAfterMs !== undefined) {
      dialog.hangUpAfter(options.hangUpAfterMs, () => {
        this.inDialog.bye(dialog, "call ended by the mock after the scripted talk time");
      });
    }
    return result;
  }

  /** The INVITE with its offer; media on: the call's RTP port, and only codecs the mock encodes. */
  private async prepare(aorOrUser: string, options: CallOptions): Promise<Placed> {
    const { aor, binding, flow: registeredOn } = this.latestBinding(aorOrUser);
    const { natMode, listenerOn } = this.deps;
    const flow = registeredFlow(registeredOn, binding.uri, binding.path, natMode, listenerOn);
    const id = this.deps.identity(flow);
    const fromUri = fromUriOf(options.from, id.host);
    const localTag = newTag();
    // WebSocket peers are browsers (RFC 7118): they only accept a WebRTC offer.
    const webrtc = isWebSocket(flow) ? newWebRtcIdentity() : undefined;
    const callId = newCallId(id.host);
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
    return { req, localTag, binding, flow, sdp, media, webrtc };
  }

  /** The call's RTP/RTCP pair (media on); none free (port range full): `unavailable`. */
  private async prepareMedia(callId: string, flow: Flow, options: CallOptions): Promise<boolean> {
    try {
      return (await this.deps.media?.prepare(callId, flow, options.media)) === true;
    } catch (e) {
      this.deps.media?.close(callId);
      throw new MockRequestError(`no RTP port for the call: ${(e as Error).message}`, "unavailable");
    }
  }

  /** 12.1.2: the 2xx makes the dialog; RFC 4028 7.2: its Session-Expires starts the session timer. */
  private answered(placed: Placed, outcome: ClientOutcome): Dialog {
    const { req, binding, flow, sdp, media, webrtc } = placed;
    const res = outcome.response!;
    if (media && res.body.length > 0)
      this.deps.media?.answered(req.callId, sdp, res.body.toString("latin1"), true);
    const target = addrSpecOf(res.headers.get("Contact"), binding.uri);
    // 12.1.2: the UAC's route set is the Record-Route list reversed.
    const routeSet = res.headers.getAll("Record-Route").reverse();
    const origin = originOf(sdp);
    const dialog = this.deps.dialogs.add({
      callId: req.callId,
      localTag: placed.localTag,
      remoteTag: res.core.to.tag ?? "",
      confirmed: true,
      uac: true,
      peer: {
        target,
        from: req.from,
        to: res.headers.get("To") ?? req.to,
        routeSet,
        // Without a route set the dialog's requests go to the remote
        // target itself, not down a Path proxy's connection.
        flow: routeSet.length > 0 ? flow : bindingFlow(flow, target, this.deps.natMode, this.deps.listenerOn),
        localCseq: 1,
        allowsUpdate: allowsUpdate(res.headers.getAll("Allow")),
      },
      ...(webrtc ? { webrtc } : {}),
      ...(origin ? { sdpOrigin: origin } : {}),
      ...(res.body.length > 0 ? { remoteSdp: res.body.toString("latin1") } : {}),
    });
    // RFC 4028 7.2: we said Supported: timer; in the 2xx, refresher=uac is us.
    const se = res.headers.get("Session-Expires");
    if (se) this.inDialog.armSessionTimer(dialog, se, readSessionExpires(se)?.refresher !== "uas");
    return dialog;
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
