/**
 * Builders for real SIP requests a peer sends the mock, and responses to the
 * mock's own requests. Every request gets a unique branch, and a new dialog
 * unique tags and Call-ID; the text uses LF line ends (the wire makes CRLF).
 */
import type { ParsedMessage, ParsedRequest } from "../../src/sip/message.js";
import type { Endpoint } from "../../src/transport/types.js";
import { DEFAULT_PEER } from "./wire.js";

let counter = 0;
/** A fresh token: branches, tags and Call-IDs never repeat within a test run. */
export function unique(prefix = ""): string {
  counter++;
  return `${prefix}${counter.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

export const branch = () => `z9hG4bK-${unique()}`;

/** A dialog as the peer sees it: its addresses, tags, Call-ID and CSeq counter. */
export interface Peer {
  readonly user: string;
  readonly transport: "UDP" | "TCP" | "TLS" | "WS" | "WSS";
  readonly from: Endpoint;
  /** The mock's host:port (Request-URI and To). */
  readonly target: string;
  callId: string;
  fromTag: string;
  /** The mock's tag, once a response gave one. */
  toTag?: string;
  cseq: number;
}

export interface PeerOptions {
  user?: string;
  transport?: Peer["transport"];
  from?: Endpoint;
  target?: string;
  callId?: string;
}

export function peer(options: PeerOptions = {}): Peer {
  return {
    user: options.user ?? "alice",
    transport: options.transport ?? "UDP",
    from: options.from ?? DEFAULT_PEER,
    target: options.target ?? "127.0.0.1:5060",
    callId: options.callId ?? `${unique("call-")}@example.test`,
    fromTag: unique("f"),
    cseq: 0,
  };
}

export interface RequestOptions {
  /** Request-URI user (default: the callee "bob"). */
  to?: string;
  /** Extra header lines ("Require: 100rel"). */
  headers?: readonly string[];
  body?: string;
  contentType?: string;
  /** Default: a new one. */
  branch?: string;
  /** Default: the next of the dialog (ACK and CANCEL: the INVITE's). */
  cseq?: number;
  /** Request-URI (default sip:TO@target). */
  uri?: string;
  /** The To tag (default: the dialog's, none before a response gave one). */
  toTag?: string | null;
  /** With rport in Via (default true). */
  rport?: boolean;
  /** Without the peer's Contact (a registrar query, a non-dialog request). */
  noContact?: boolean;
}

const hostPort = (e: Endpoint) =>
  e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;

/** Any request in the peer's dialog. */
export function request(p: Peer, method: string, o: RequestOptions = {}): string {
  const to = o.to ?? "bob";
  const cseq = o.cseq ?? ++p.cseq;
  const toTag = o.toTag === undefined ? p.toTag : (o.toTag ?? undefined);
  const body = o.body ?? "";
  const lines = [
    `${method} ${o.uri ?? `sip:${to}@${p.target}`} SIP/2.0`,
    `Via: SIP/2.0/${p.transport} ${hostPort(p.from)};branch=${o.branch ?? branch()}${o.rport === false ? "" : ";rport"}`,
    "Max-Forwards: 70",
    `From: <sip:${p.user}@example.test>;tag=${p.fromTag}`,
    `To: <sip:${to}@${p.target}>${toTag ? `;tag=${toTag}` : ""}`,
    `Call-ID: ${p.callId}`,
    `CSeq: ${cseq} ${method}`,
    ...(o.noContact
      ? []
      : [
          `Contact: <sip:${p.user}@${hostPort(p.from)}${p.transport === "UDP" ? "" : `;transport=${p.transport.toLowerCase()}`}>`,
        ]),
    ...(o.headers ?? []),
    ...(body ? [`Content-Type: ${o.contentType ?? "application/sdp"}`] : []),
    `Content-Length: ${Buffer.byteLength(crlfBody(body), "latin1")}`,
    "",
    crlfBody(body),
  ];
  return lines.join("\n");
}

function crlfBody(body: string): string {
  return body.replace(/\r?\n/g, "\r\n");
}

/** An SDP offer (PCMU and PCMA, telephone-event). */
export function sdpOffer(direction = "sendrecv", port = 49170): string {
  return [
    "v=0",
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10",
    "s=-",
    "c=IN IP4 192.0.2.10",
    "t=0 0",
    `m=audio ${port} RTP/AVP 0 8 101`,
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    `a=${direction}`,
    "",
  ].join("\n");
}

/** INVITE with an SDP offer; a new dialog (the peer's tag, no To tag). */
export interface Invite {
  readonly text: string;
  readonly branch: string;
  readonly cseq: number;
}

export function invite(p: Peer, o: RequestOptions & { sdp?: boolean } = {}): Invite {
  const b = o.branch ?? branch();
  const cseq = o.cseq ?? ++p.cseq;
  const text = request(p, "INVITE", {
    ...o,
    branch: b,
    cseq,
    ...(o.sdp === false ? {} : { body: o.body ?? sdpOffer() }),
  });
  return { text, branch: b, cseq };
}

/**
 * ACK: for a non-2xx final response, in the INVITE's transaction (its branch,
 * 17.1.1.3); for a 2xx, a new transaction in the dialog (13.2.2.4).
 */
export function ack(
  p: Peer,
  inv: Invite,
  o: { to?: string; for2xx?: boolean; toTag?: string; uri?: string } = {},
): string {
  return request(p, "ACK", {
    ...(o.to ? { to: o.to } : {}),
    ...(o.uri ? { uri: o.uri } : {}),
    cseq: inv.cseq,
    ...(o.for2xx === false ? { branch: inv.branch } : {}),
    ...(o.toTag ? { toTag: o.toTag } : {}),
  });
}

/** CANCEL of an INVITE: its branch, CSeq number and Request-URI, no To tag (9.1). */
export function cancel(p: Peer, inv: Invite, o: { to?: string } = {}): string {
  return request(p, "CANCEL", {
    ...(o.to ? { to: o.to } : {}),
    branch: inv.branch,
    cseq: inv.cseq,
    toTag: null,
  });
}

export function bye(p: Peer, o: RequestOptions = {}): string {
  return request(p, "BYE", o);
}

/** PRACK acknowledging a reliable provisional (RFC 3262 7.2: RAck = RSeq CSeq-number INVITE). */
export function prack(p: Peer, rseq: number, inv: Invite, o: RequestOptions = {}): string {
  return request(p, "PRACK", { ...o, headers: [`RAck: ${rseq} ${inv.cseq} INVITE`, ...(o.headers ?? [])] });
}

/** REGISTER of the peer's Contact for `expires` seconds (its own Call-ID across refreshes). */
export function register(p: Peer, expires?: number, o: RequestOptions = {}): string {
  return request(p, "REGISTER", {
    to: p.user,
    uri: `sip:${p.target}`,
    toTag: null,
    ...o,
    headers: [...(expires === undefined ? [] : [`Expires: ${expires}`]), ...(o.headers ?? [])],
  });
}

export function subscribe(p: Peer, event: string, expires: number, o: RequestOptions = {}): string {
  return request(p, "SUBSCRIBE", {
    to: p.user,
    ...o,
    headers: [`Event: ${event}`, `Expires: ${expires}`, ...(o.headers ?? [])],
  });
}

export function options(p: Peer, o: RequestOptions = {}): string {
  return request(p, "OPTIONS", { toTag: null, ...o });
}

/**
 * A response to a request the mock sent (its NOTIFY, OPTIONS, BYE, INVITE):
 * its Via, From, Call-ID and CSeq copied, the To given a tag (8.2.6.2).
 */
export function responseTo(
  req: ParsedMessage | undefined,
  status: number,
  o: { reason?: string; toTag?: string; headers?: readonly string[]; body?: string; contact?: string } = {},
): string {
  if (req?.kind !== "request") throw new Error("responseTo needs a request the mock sent");
  const r = req as ParsedRequest;
  const h = r.headers;
  const to = h.get("To") ?? "";
  const toTag = /;\s*tag=/i.test(to) || r.method === "CANCEL" ? to : `${to};tag=${o.toTag ?? unique("t")}`;
  const body = o.body ? crlfBody(o.body) : "";
  return [
    `SIP/2.0 ${status} ${o.reason ?? REASONS[status] ?? "Reason"}`,
    ...h.getRows("Via").map((v) => `Via: ${v}`),
    `From: ${h.get("From")}`,
    `To: ${toTag}`,
    `Call-ID: ${h.get("Call-ID")}`,
    `CSeq: ${h.get("CSeq")}`,
    ...(o.contact ? [`Contact: ${o.contact}`] : []),
    ...(o.headers ?? []),
    ...(body ? ["Content-Type: application/sdp"] : []),
    `Content-Length: ${Buffer.byteLength(body, "latin1")}`,
    "",
    body,
  ].join("\n");
}

const REASONS: Record<number, string> = {
  100: "Trying",
  180: "Ringing",
  200: "OK",
  481: "Call/Transaction Does Not Exist",
  486: "Busy Here",
  491: "Request Pending",
};
