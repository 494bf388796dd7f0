/**
 * The checks before a scenario sees a request: 8.2.1-8.2.3 in the order
 * the RFC gives them, and the dialog rules of 12.2.2 and 14.2.
 */
import { isSipUri, isTelUri } from "../../sip/uri.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { ResponseSpec } from "../response-builder.js";
import type { ServerCore } from "./core.js";

/** Option tags this UAS understands in Require (8.2.2.3). */
const UNDERSTOOD_OPTION_TAGS = new Set<string>(["timer", "100rel"]);

/**
 * 8.2.1-8.2.3, in the order the RFC gives them; the first failing check
 * answers. Method inspection (501/405) is left to the built-in behaviour
 * so that a scenario can answer any method.
 */
export function validate(core: ServerCore, tx: ServerTransaction): ResponseSpec | undefined {
  const req = tx.request;
  // 8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS,
  // it SHOULD reject the request with a 416 (Unsupported URI Scheme)".
  if (!isSipUri(req.uri) && !isTelUri(req.uri)) {
    return { status: 416, warning: `URI scheme "${req.uri.scheme}" is not supported` };
  }
  // 8.2.2.2: merged requests get 482 (Loop Detected).
  if (core.layer.findMergedWith(req, tx)) return { status: 482, warning: "merged request" };
  return unsupportedRequire(core, tx) ?? unsupportedBody(core, tx);
}

/**
 * 8.2.2.3: "If a UAS does not understand an option-tag listed in a
 * Require header field, it MUST respond by generating a response with
 * status code 420 (Bad Extension). The UAS MUST add an Unsupported
 * header field, and list in it those options it does not understand".
 * ACK and CANCEL are exempt (ACK never gets here).
 */
function unsupportedRequire(core: ServerCore, tx: ServerTransaction): ResponseSpec | undefined {
  if (!tx.request.headers.has("Require")) return undefined;
  // A scenario can say the mock does not do 100rel (reliableProvisionals: never).
  const never = core.options.scenario().reliableProvisionals === "never";
  const unknown = tx.request.headers
    .getAll("Require")
    .map((t) => t.trim())
    .filter(
      (t) =>
        t !== "" && (!UNDERSTOOD_OPTION_TAGS.has(t.toLowerCase()) || (never && t.toLowerCase() === "100rel")),
    );
  if (unknown.length > 0) return { status: 420, headers: [["Unsupported", unknown.join(", ")]] };
  return undefined;
}

/**
 * 8.2.3: "If there are any bodies whose type (indicated by the
 * Content-Type), language (indicated by the Content-Language) or
 * encoding (indicated by the Content-Encoding) are not understood [...]
 * the UAS MUST reject the request with a 415 (Unsupported Media Type)
 * response. The response MUST contain an Accept header field listing
 * the types of all bodies it understands".
 */
function unsupportedBody(core: ServerCore, tx: ServerTransaction): ResponseSpec | undefined {
  const req = tx.request;
  if (req.body.length === 0 || !bodyIsSession(req.method)) return undefined;
  const contentType = req.headers.get("Content-Type") ?? "";
  const semi = contentType.indexOf(";");
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (!acceptedTypes(core.options.capabilities.accept).includes(type)) {
    return { status: 415, warning: `Content-Type "${type || "(none)"}" is not accepted` };
  }
  if (!req.headers.has("Content-Encoding")) return undefined;
  const encodings = req.headers.getAll("Content-Encoding").map((e) => e.toLowerCase());
  if (encodings.some((e) => e !== "identity")) {
    return { status: 415, warning: `Content-Encoding "${encodings.join(", ")}" is not supported` };
  }
  return undefined;
}

/** The last Accept list lower-cased, and the list it was made from (it rarely changes). */
let lastAccept: { readonly of: readonly string[]; readonly lower: readonly string[] } | undefined;

function acceptedTypes(accept: readonly string[]): readonly string[] {
  if (lastAccept?.of !== accept) lastAccept = { of: accept, lower: accept.map((a) => a.toLowerCase()) };
  return lastAccept.lower;
}

/** Methods whose body is a session description (RFC 3261 13, RFC 3262, RFC 3311). */
function bodyIsSession(method: string): boolean {
  return method === "INVITE" || method === "ACK" || method === "PRACK" || method === "UPDATE";
}

/**
 * 12.2.2 and 14.2 for a request inside a dialog we know: out-of-order CSeq
 * gets 500; a second INVITE while one is in progress gets 500 with
 * Retry-After (0..10 s). Requests for unknown dialogs are left to the
 * scenario (the built-in behaviour answers 481).
 */
export function checkDialog(core: ServerCore, tx: ServerTransaction): ResponseSpec | undefined {
  const req = tx.request;
  if (!req.core.to.tag || req.method === "ACK" || req.method === "CANCEL") return undefined;
  const dialog = core.dialogs.of(req);
  if (!dialog) return undefined;
  const seq = req.core.cseq.seq;
  const highest = dialog.remoteCseq;
  if (!dialog.receiveCseq(seq)) {
    return {
      status: 500,
      warning: `CSeq ${seq} is lower than ${highest}, already seen in this dialog`,
    };
  }
  // 14.2: "A UAS that receives an INVITE on a dialog while an INVITE it
  // had sent on that dialog is in progress MUST return a 491 (Request
  // Pending)"; RFC 3311 5.2 says the same of an UPDATE with an offer.
  if (
    dialog.localInviteInProgress &&
    (req.method === "INVITE" || (req.method === "UPDATE" && req.body.length > 0))
  ) {
    return { status: 491, warning: "the mock's own re-INVITE is in progress in this dialog" };
  }
  if (req.method === "INVITE") {
    if (dialog.inviteInProgress) {
      return {
        status: 500,
        headers: [["Retry-After", String(Math.floor(Math.random() * 11))]],
        warning: "another INVITE of this dialog is still in progress",
      };
    }
    dialog.startRemoteInvite();
    core.contexts.of(tx).startReInvite(dialog);
  }
  return undefined;
}
