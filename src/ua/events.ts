/**
 * SIP events as a notifier (RFC 6665): SUBSCRIBE gets 200 and an immediate
 * NOTIFY, a terminating NOTIFY on expiry or unsubscribe; PUBLISH (RFC 3903)
 * keeps entity tags; REFER (RFC 3515 as updated by RFC 7647) gets 200 and a
 * NOTIFY with a sipfrag. The mock's NOTIFYs go through client transactions.
 */
import { randomBytes } from "node:crypto";
import { lenientEventPackage } from "../sip/headers/lenient.js";
import type { ParsedRequest } from "../sip/message.js";
import { isSipUri, parseUri, uriUser } from "../sip/uri.js";
import type { Flow } from "../transport/types.js";
import type { Mailbox } from "./ports.js";
import { Registrar } from "./registrar.js";

/** Bodies of the first NOTIFY per package (RFC 3842, RFC 3863, RFC 4235). */
export function eventBody(
  pkg: string,
  entity: string,
  mailbox: Mailbox = { waiting: false },
  account = entity,
): { type: string; body: string } | undefined {
  switch (pkg) {
    case "message-summary":
      return { type: "application/simple-message-summary", body: messageSummary(mailbox, account) };
    case "presence":
      return {
        type: "application/pidf+xml",
        body: `<?xml version="1.0" encoding="UTF-8"?>\r\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${entity}"><tuple id="sipmock"><status><basic>open</basic></status></tuple></presence>\r\n`,
      };
    case "dialog":
      return {
        type: "application/dialog-info+xml",
        body: `<?xml version="1.0" encoding="UTF-8"?>\r\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="${entity}"/>\r\n`,
      };
    default:
      return undefined;
  }
}

/** The package of an Event header value ("presence;id=1" -> "presence"). */
export function eventPackage(req: ParsedRequest): string | undefined {
  const v = req.headers.get("Event");
  return v === undefined ? undefined : lenientEventPackage(v);
}

export function newETag(): string {
  return randomBytes(9).toString("base64url");
}

/**
 * The resource a SUBSCRIBE names, as an address-of-record: sip:user@domain
 * of its To, the form the registrar keys a REGISTER's To by (10.3 step 5).
 */
export function entityOf(req: ParsedRequest): string {
  const to = req.core.to.uri;
  if (isSipUri(to) && to.user) return Registrar.aorOf(to);
  const host = isSipUri(to)
    ? to.host.toLowerCase()
    : isSipUri(req.uri)
      ? req.uri.host.toLowerCase()
      : "invalid";
  return `sip:${uriUser(req.uri) ?? "anonymous"}@${host}`;
}

/**
 * RFC 3842 Message-Account, one rule for a subscription's NOTIFYs and the
 * unsolicited ones (`ctl mwi`): the user's AOR as registered (sip:user@domain
 * of its REGISTER's To; the most recent one if it registered several), else
 * the AOR its SUBSCRIBE named, in the same form.
 */
export function messageAccount(registrar: Registrar, named: string): string {
  const found = registrar.lookup(userOf(named));
  return found.find((f) => f.aor === named)?.aor ?? found.at(-1)?.aor ?? named;
}

/** The user part of a sip/sips AOR as written (the registrar's key), else the text itself. */
function userOf(aor: string): string {
  try {
    const uri = parseUri(aor);
    if (isSipUri(uri) && uri.user !== undefined) return uri.user;
  } catch {}
  return aor;
}

export interface Subscription {
  readonly key: string;
  readonly pkg: string;
  readonly event: string;
  /** The resource subscribed to, as an AOR (sip:user@domain of the SUBSCRIBE's To). */
  readonly entity: string;
  /** The subscriber's Contact: the NOTIFY's Request-URI (RFC 6665 4.2.1.4). */
  target: string;
  /** Our From (the SUBSCRIBE's To with our tag) and To (its From). */
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  /** 12.1.1: the Record-Route of the dialog-creating request, in order: our Route set. */
  readonly routeSet: readonly string[];
  readonly flow: Flow;
  cseq: number;
  expiresAt: number;
  cancel?: () => void;
  /** Octets charged to the subscription budget for it. */
  cost?: number;
  /** The CSeq of an unsubscribe let through a spent transactions budget, unanswered yet (stateless.ts). */
  unsubscribing?: number;
}

/** RFC 3842 5.2: Messages-Waiting, Message-Account, and the voice counts when given. */
export function messageSummary(mwi: Mailbox, account: string): string {
  const lines = [`Messages-Waiting: ${mwi.waiting ? "yes" : "no"}`, `Message-Account: ${account}`];
  if (mwi.newMessages !== undefined || mwi.oldMessages !== undefined) {
    const urgent =
      mwi.urgentNew !== undefined || mwi.urgentOld !== undefined
        ? ` (${mwi.urgentNew ?? 0}/${mwi.urgentOld ?? 0})`
        : "";
    lines.push(`Voice-Message: ${mwi.newMessages ?? 0}/${mwi.oldMessages ?? 0}${urgent}`);
  }
  return `${lines.join("\r\n")}\r\n`;
}
