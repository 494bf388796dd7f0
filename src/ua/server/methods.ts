/**
 * The built-in answers of the simple methods: REGISTER (RFC 3261 10.3),
 * OPTIONS (11.2), BYE (15.1.2), INFO (RFC 6086), UPDATE (RFC 3311),
 * MESSAGE (RFC 3428), and 405/501 for the others (8.2.1).
 */
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { Capabilities } from "../local-context.js";
import type { ResponseSpec } from "../response-builder.js";
import type { ServerCore } from "./core.js";
import { listsTag, withSessionTimer } from "./session-timer.js";

export function handleRegister(core: ServerCore, tx: ServerTransaction): void {
  const req = tx.request;
  const outcome = core.registrar.register(req, tx.flow);
  if (!outcome.ok) {
    if (outcome.status === 503) {
      core.options.overload?.refused("registrar");
      core.send(tx, {
        status: 503,
        headers: [["Retry-After", String(core.options.overload?.retryAfterS ?? 5)]],
        warning: outcome.detail,
      });
      return;
    }
    core.send(
      tx,
      outcome.status === 423
        ? { status: 423, headers: [["Min-Expires", String(outcome.minExpires)]] }
        : { status: 400, warning: outcome.detail },
    );
    return;
  }
  const headers: Array<[string, string]> = core.registrar
    .contactRows(outcome.bindings)
    .map((c) => ["Contact", c] as [string, string]);
  // RFC 3327 5.3: the Path stored, echoed to a UA that supports it.
  const path = req.headers.getAll("Path");
  if (path.length > 0 && listsTag(req, "Supported", "path")) for (const p of path) headers.push(["Path", p]);
  // 10.3 step 8: "The response SHOULD include a Date header field."
  headers.push(["Date", new Date().toUTCString()]);
  core.send(tx, { status: 200, headers });
}

export function handleOptions(core: ServerCore, tx: ServerTransaction): void {
  core.send(tx, optionsAnswer(core.capabilities()));
}

/** The last OPTIONS answer built, and the capabilities it was built from (they rarely change). */
let lastOptions: { readonly of: Capabilities; readonly spec: ResponseSpec } | undefined;

/**
 * 11.2: "Allow, Accept, Accept-Encoding, Accept-Language, and Supported
 * header fields SHOULD be present in a 200 (OK) response". Built once per
 * capabilities object, not per request (the spec is read only).
 */
function optionsAnswer(c: Capabilities): ResponseSpec {
  if (lastOptions?.of === c) return lastOptions.spec;
  const spec: ResponseSpec = {
    status: 200,
    headers: [
      ["Allow", c.allow.join(", ")],
      ["Accept", c.accept.join(", ")],
      ["Accept-Encoding", c.acceptEncoding.join(", ")],
      ["Accept-Language", c.acceptLanguage.join(", ")],
      ["Supported", c.supported.join(", ")],
    ],
  };
  lastOptions = { of: c, spec };
  return spec;
}

export function handleBye(core: ServerCore, tx: ServerTransaction): void {
  const req = tx.request;
  // 15.1.2: "If the BYE does not match an existing dialog, the UAS core
  // SHOULD generate a 481 (Call/Transaction Does Not Exist) response".
  const dialog = core.dialogs.of(req);
  if (!dialog) {
    core.send(tx, { status: 481 });
    return;
  }
  core.dialogs.end(dialog);
  core.send(tx, { status: 200 });
}

export function handleInfo(core: ServerCore, tx: ServerTransaction): void {
  if (!core.inDialog(tx)) {
    core.send(tx, { status: 481 });
    return;
  }
  // RFC 6086 4.2.2: an Info Package we did not say we accept (we accept
  // none) gets 469 with Recv-Info; legacy INFO without one gets 200.
  if (tx.request.headers.has("Info-Package")) {
    core.send(tx, { status: 469 });
    return;
  }
  core.send(tx, { status: 200 });
}

export function handleUpdate(core: ServerCore, tx: ServerTransaction): void {
  const req = tx.request;
  // RFC 3311 5.2: an UPDATE with an offer gets the answer in its 200.
  if (!core.inDialog(tx)) {
    core.send(tx, { status: 481 });
    return;
  }
  core.runPlan(tx, [], req.body.length > 0 ? { status: 200, body: "sdp" } : { status: 200 });
  // RFC 4028 7.4: an UPDATE can refresh the session too.
  const dlg = core.dialogs.of(req);
  if (dlg && req.body.length > 0) dlg.recordRemoteSdp(req.body.toString("latin1"));
  if (dlg) core.armSessionTimer(dlg, withSessionTimer(req, { status: 200 }));
}

export function handleMessage(core: ServerCore, tx: ServerTransaction): void {
  // RFC 3428 7: a UAS that accepts the message answers 200.
  core.send(tx, { status: 200 });
}

/** 8.2.1: "If a UAS does not understand the method, it returns 501"; a known one not allowed gets 405. */
export function handleUnknown(core: ServerCore, tx: ServerTransaction): void {
  const allow = core.options.capabilities.allow;
  core.send(tx, {
    status: allow.includes(tx.request.method) ? 405 : 501,
    headers: [["Allow", allow.join(", ")]],
  });
}
