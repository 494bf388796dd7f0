/** What both server transaction kinds share (RFC 3261 17.2). */

import { hasNoParams, leanParsedNameAddr } from "../sip/headers/name-addr.js";
import { Headers, type NameAddr, type ParsedRequest, type Via } from "../sip/message.js";
import { NO_PARAMS } from "../sip/tokens.js";
import { isSipUri, isTelUri, type Uri } from "../sip/uri.js";
import type { Flow } from "../transport/types.js";

export type ServerTransactionState =
  | "trying"
  | "proceeding"
  | "completed"
  | "confirmed"
  | "accepted"
  | "terminated";

/** How a transaction hands bytes to the transport layer and reports to its owner. */
export interface TransactionEnvironment {
  /** Hands bytes to the transport; `retransmission` tells a resend from a first send. */
  send(flow: Flow, bytes: Buffer, retransmission: boolean, failed?: (err: Error) => void): void;
  /** The transaction reached Terminated; `reason` says why. */
  terminated(tx: ServerTransaction, reason: TerminationReason): void;
  /** The transaction let go of its request (its final response is sent): it costs less from now on. */
  compacted?(tx: ServerTransaction): void;
  /**
   * A transaction whose rest of life is only absorbing (or answering with
   * `response`, unless `silent`) retransmissions until its last timer,
   * `delay` ms from now: over UDP a non-INVITE one entering "Completed"
   * (Timer J) or an INVITE one entering "Confirmed" (Timer I); on any
   * transport an INVITE one "Accepted" once its request is released
   * (Timer L, RFC 6026 7.1). True when the
   * owner keeps it from now on in its compact form (CompletedStore) and
   * ends it; false when the transaction must run that timer itself.
   */
  store?(tx: ServerTransaction, response: Buffer, status: number, silent: boolean, delay: number): boolean;
}

export type TerminationReason =
  | "timer-h" // INVITE final response never acknowledged (17.2.1)
  | "timer-i"
  | "timer-j"
  | "timer-l"
  | "completed" // reliable transport: terminated immediately
  | "transport-error"
  | "abandoned" // the TU never answered (a dropped request), freed after 64*T1
  | "shutdown";

export interface SendOptions {
  /**
   * Fault: never retransmit this final response, neither on Timer G (INVITE
   * over UDP) nor when the request is retransmitted.
   */
  readonly noRetransmit?: boolean;
  /** Fault: hands the first copy to this instead of the transport (e.g. another source port). */
  readonly deliver?: (bytes: Buffer) => void;
}

/** respond() without options: one shared object, not one per response. */
export const NO_OPTIONS: SendOptions = Object.freeze({});

export interface ServerTransaction {
  readonly id: string;
  readonly method: string;
  readonly request: ParsedRequest;
  readonly flow: Flow;
  readonly state: ServerTransactionState;
  /** The To tag this transaction's responses carry (one per transaction). */
  readonly toTag: string;
  /** Octets charged to the transaction budget for it (set by the transaction layer). */
  cost: number;
  /**
   * Its From tag, Call-ID and CSeq as one string, for merged-request
   * detection (8.2.2.2); set by the transaction layer when the request has
   * no To tag and no other live transaction has that key (until it ends).
   */
  mergeKey: string | undefined;
  /**
   * True for a stored transaction (CompletedView) whose TU held nothing
   * under its id when it was stored (TransactionUser.onStored): its id is
   * not kept but read back from its response (which a fault may have
   * broken), so nothing is looked up under it.
   */
  readonly forgotten?: boolean;
  /** The last response sent, if any. */
  readonly lastResponse?: { status: number; bytes: Buffer };
  /** The TU sends a response through the transaction. */
  respond(status: number, bytes: Buffer, options?: SendOptions): void;
  /** A retransmission of the request arrived. */
  receiveRetransmission(): void;
  /** Stops timers without sending anything (shutdown). */
  terminate(reason: TerminationReason): void;
  /**
   * The TU is done with the request (its final response is sent): from now
   * on `request` keeps only what identifies it (see retainedRequest).
   */
  releaseRequest(): void;
}

export function isReliable(flow: Flow): boolean {
  return flow.transport !== "udp";
}

const NO_HEADERS = new Headers();
const NO_BODY = Buffer.alloc(0);
const NO_VIAS: readonly Via[] = [];

/**
 * What a transaction whose final response is sent still needs of its
 * request for the rest of its life (Timer H/I/J/L, up to 64*T1): the method,
 * Request-URI, the top Via's branch (the journal's transaction key),
 * Call-ID, CSeq, the From and To URIs and tags (merged-request detection,
 * logs, a rule's `then:`). Header rows, the other Vias, the body and the
 * parameter maps of the headers and URIs are let go (an empty parsed Map
 * alone costs ~400 octets); a part that has none of these (a To without
 * tag, a URI without parameters) is kept as parsed, not copied.
 * Already retained: returned as is.
 */
export function retainedRequest(r: ParsedRequest): ParsedRequest {
  if (r.headers === NO_HEADERS) return r;
  const c = r.core;
  return {
    kind: r.kind,
    version: r.version,
    method: r.method,
    uri: leanUri(r.uri),
    uriRaw: r.uriRaw,
    headers: NO_HEADERS,
    body: NO_BODY,
    core: {
      via: leanVias(c.via),
      from: leanNameAddr(c.from),
      to: leanNameAddr(c.to),
      callId: c.callId,
      cseq: c.cseq,
    },
  };
}

/** The top Via alone; the parsed array itself when that is all it holds and it has no parameters. */
function leanVias(vias: readonly Via[]): readonly Via[] {
  const top = vias[0];
  if (!top) return NO_VIAS;
  const lean = leanVia(top);
  return lean === top && vias.length === 1 ? vias : [lean];
}

// Fixed shapes (no conditional spreads), keys in the parser's order: an
// object literal whose keys vary gets its own hidden class, or a dictionary,
// per variant. NO_PARAMS is the parser's shared empty map.
function leanVia(v: Via): Via {
  if (v.params === NO_PARAMS) return v;
  return {
    protocol: v.protocol,
    transport: v.transport,
    host: v.host,
    params: NO_PARAMS,
    raw: v.raw,
    port: v.port,
    branch: v.branch,
  };
}

function leanNameAddr(n: NameAddr): NameAddr {
  const parsed = leanParsedNameAddr(n); // (a From/To URI not read yet is not built for this)
  if (parsed) return parsed;
  const uri = leanUri(n.uri);
  if (uri === n.uri && hasNoParams(n)) return n;
  return { uri, params: NO_PARAMS, raw: n.raw, displayName: n.displayName, tag: n.tag };
}

const NO_URI_HEADERS: ReadonlyArray<readonly [string, string]> = [];

/** A URI without its parameter map and ?headers (the scheme, user, host and port stay). */
function leanUri(u: Uri): Uri {
  if (isSipUri(u)) {
    if (u.params === NO_PARAMS && u.headers.length === 0) return u;
    return {
      scheme: u.scheme,
      host: u.host,
      params: NO_PARAMS,
      headers: NO_URI_HEADERS,
      raw: u.raw,
      user: u.user,
      port: u.port,
      password: u.password,
    };
  }
  if (isTelUri(u))
    return u.params === NO_PARAMS ? u : { scheme: u.scheme, number: u.number, params: NO_PARAMS, raw: u.raw };
  return u;
}
