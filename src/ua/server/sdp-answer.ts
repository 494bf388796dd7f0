/**
 * The UAS's session description (RFC 3264): the answer to the request's
 * offer, an offer when it had none (13.2.1), or a 488; its origin and WebRTC
 * identity kept for the dialog.
 */
import { acceptsMediaType } from "../../sip/headers/accept.js";
import type { ParsedRequest } from "../../sip/message.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { Dialog } from "../dialogs.js";
import type { ResponseSpec } from "../response-builder.js";
import {
  answerOffer,
  createOffer,
  newWebRtcIdentity,
  originOf,
  type SdpAnswerResult,
  type SdpOrigin,
  type WebRtcIdentity,
} from "../sdp.js";
import type { ServerCore } from "./core.js";

/** A WebSocket peer (a browser) or an RTP/SAVPF offer: only WebRTC media will do. */
export function isWebRtc(tx: ServerTransaction): boolean {
  const ws = tx.flow.transport === "ws" || tx.flow.transport === "wss";
  return ws || /SAVPF/i.test(tx.request.body.toString("latin1"));
}

// 20.1: an absent Accept means application/sdp; otherwise it must list it (or application/*, or any type).
// An empty Accept means no body type is acceptable at all.
export function acceptsSdp(headers: ParsedRequest["headers"]): boolean {
  if (!headers.has("Accept")) return true;
  return acceptsMediaType(headers.getAll("Accept"), "application", "sdp");
}

/** The dialog's WebRTC identity, or one kept for the transaction until its 2xx makes the dialog. */
function webrtcIdentity(core: ServerCore, tx: ServerTransaction, dialog: Dialog | undefined): WebRtcIdentity {
  if (dialog) {
    return dialog.ensureWebrtc(newWebRtcIdentity);
  }
  const ctx = core.contexts.of(tx);
  ctx.webrtcId ??= newWebRtcIdentity();
  return ctx.webrtcId;
}

/** Our session description as the responses carry it, and its o= for the dialog a 2xx makes (RFC 3264 8). */
export class SessionBody {
  /** Our description as text, as the media layer reads it (data read as latin1). */
  readonly text: string;

  constructor(
    written: string,
    readonly data: Buffer,
    /** Kept with the dialog its 2xx makes; undefined when a dialog already recorded it (a re-INVITE). */
    readonly origin: SdpOrigin | undefined,
    /** The request's body as text: the offer this answers ("" when ours is the offer). */
    readonly offer: string,
  ) {
    // An ASCII text (as long as its UTF-8 octets) is what latin1 reads back from them.
    this.text = data.length === written.length ? written : data.toString("latin1");
  }
}

/**
 * The SDP answer to the request's offer, an offer when it had none, or a
 * 488 (RFC 3264, RFC 3261 13.2.1). `inFinal`: the final response carries
 * it (its 2xx hands the o= to the dialog); otherwise the transaction keeps
 * the o= until a 2xx without SDP makes the dialog.
 */
export function sessionDescription(
  core: ServerCore,
  tx: ServerTransaction,
  inFinal: boolean,
): SessionBody | ResponseSpec {
  const local = core.identity(tx);
  const offer = tx.request.body.toString("latin1");
  // RFC 3264 8: inside a dialog, our next description keeps the session id
  // of the last one and increments its version.
  const req = tx.request;
  const dialog = req.core.to.tag ? core.dialogs.of(req) : undefined;
  const last = dialog?.sdpOrigin;
  const origin = last ? { sessionId: last.sessionId, version: last.version + 1 } : undefined;
  // A WebSocket peer is a browser: only a WebRTC offer will do. Its ICE
  // credentials and fingerprint stay the same for the whole dialog.
  const ws = tx.flow.transport === "ws" || tx.flow.transport === "wss";
  const webrtc = ws || /SAVPF/i.test(offer) ? webrtcIdentity(core, tx, dialog) : undefined;
  const port = core.mediaPort(req.core.callId);
  const codecs = core.mediaOn() && !webrtc ? core.media.codecs() : undefined;
  // Options of one shape (absent ones undefined), no spreads.
  const result: SdpAnswerResult = BLANK.test(offer)
    ? withOrigin(createOffer(local.host, port, codecs, { origin, webrtc: ws ? webrtc : undefined }))
    : answerOffer(offer, local.host, port, codecs, {
        origin,
        webrtc,
        // Real media: the call's one RTP socket goes to the first accepted audio line.
        singleStream: codecs !== undefined,
      });
  if (result.sdp) {
    const made = result.origin;
    if (made && dialog) dialog.recordSdpOrigin(made);
    else if (made && !inFinal) core.contexts.of(tx).sdpOrigin = made;
    return new SessionBody(result.sdp, Buffer.from(result.sdp), dialog ? undefined : made, offer);
  }
  // 21.4.26: 488 "SHOULD include a Warning header field value explaining
  // why the offer was rejected" (codes 304/305, 20.43).
  const w = result.warning!;
  return { status: 488, headers: [["Warning", `${w.code} ${local.host}:${local.port} "${w.text}"`]] };
}

/** Nothing but white space (what trim() removes: \s), tested without making the trimmed copy. */
const BLANK = /^\s*$/;

/** An offer of ours as a result: its text and the o= read from it. */
function withOrigin(sdp: string): SdpAnswerResult {
  return { sdp, origin: originOf(sdp) };
}
