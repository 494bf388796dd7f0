/**
 * The UAC half of the mock (RFC 3261 8.1 and 12.2.1): requests the mock
 * sends itself, written byte by byte, sent through client transactions
 * (17.1), with the ACK for a 2xx sent by the core (13.2.2.4). The outcome is
 * the final response, or a 408 the mock makes up when Timer B/F fires
 * (8.1.3.1: "treated as a 408").
 */
import { randomBytes } from "node:crypto";
import { parseNameAddr } from "../sip/headers/name-addr.js";
import type { HeaderField, ParsedResponse } from "../sip/message.js";
import { serialize } from "../sip/serializer.js";
import type { InviteClientTransaction } from "../transaction/invite-client-transaction.js";
import type { Scheduler, TimerHandle } from "../transaction/scheduler.js";
import type { TransactionLayer } from "../transaction/transaction-layer.js";
import { stripBrackets } from "../transport/address.js";
import { type Flow, FlowFailedError } from "../transport/types.js";
import type { LocalIdentity } from "./local-context.js";

/** A request to send: every header the RFC requires is derived from these fields. */
export interface OutgoingRequest {
  readonly method: string;
  readonly requestUri: string;
  /** From with our tag (8.1.1.3). */
  readonly from: string;
  /** To: the peer, with its tag inside a dialog. */
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  /** Route header values in order (12.2.1.1). */
  readonly routeSet?: readonly string[];
  readonly contact?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: { readonly contentType: string; readonly content: string };
}

export interface ClientOutcome {
  readonly status: number;
  readonly reason: string;
  /** Absent when the mock gave up (Timer B/F: 408) or the transport failed (503). */
  readonly response?: ParsedResponse;
  /** 8.1.3.1: the transport reported a failure (a closed connection...): status 503. */
  readonly transportError?: string;
}

export interface UacDependencies {
  readonly layer: () => TransactionLayer;
  /** Where our Via and Contact point for a flow. */
  readonly identity: (flow: Flow) => LocalIdentity;
  /** Sends bytes outside any transaction (the ACK for a 2xx). */
  readonly sendRaw: (flow: Flow, bytes: Buffer) => void;
  readonly scheduler: Scheduler;
  /**
   * Where a request to a URI goes from a flow (RFC 3261 8.1.2, 18.1.1);
   * `direct`: the URI is a remote target learnt from a 2xx without a route
   * set, not a hop the flow already leads to.
   */
  readonly route?: (flow: Flow, uri: string, direct: boolean) => Flow;
  readonly userAgent?: string;
  /**
   * Whether requests on this flow may be retransmitted (Timer A/E over UDP):
   * false for a destination that never sent the mock a packet (issue 10
   * item 9), so the mock does not amplify towards a third party.
   */
  readonly mayRetransmit?: (flow: Flow) => boolean;
  /** A request was sent once without retransmissions (for the log). */
  readonly sentOnce?: (flow: Flow, method: string) => void;
  /** A TCP flow to the same destination as a UDP one, when the mock listens on TCP (RFC 3261 18.1.1). */
  readonly reliableFlow?: (flow: Flow) => Flow | undefined;
}

/** RFC 3261 18.1.1: a request "larger than 1300 bytes" with the path MTU unknown goes over TCP. */
export const UDP_SIZE_LIMIT = 1300;

export interface InviteEvents {
  provisional?(response: ParsedResponse): void;
}

export function newBranch(): string {
  return `z9hG4bK${randomBytes(10).toString("hex")}`;
}

export function newCallId(host: string): string {
  return `${randomBytes(12).toString("hex")}@${stripBrackets(host)}`;
}

/**
 * The URI of a Contact, Route or Record-Route value, read by the header
 * parser ("<sip:a@b;ob>;expires=3" -> "sip:a@b;ob"); `fallback` when the
 * value is not a name-addr.
 */
export function addrSpecOf(value: string | undefined, fallback: string): string {
  if (!value) return fallback;
  try {
    return parseNameAddr("Contact", value).uri.raw;
  } catch {
    return fallback;
  }
}

export class UserAgentClient {
  constructor(private readonly deps: UacDependencies) {}

  /** Timer A/E for this flow: always over reliable transports, over UDP only to a known peer. */
  private retransmits(flow: Flow, method: string): boolean {
    if (flow.transport !== "udp" || !this.deps.mayRetransmit || this.deps.mayRetransmit(flow)) return true;
    this.deps.sentOnce?.(flow, method);
    return false;
  }

  /** The pending outbound budget is spent: the request is not sent (a local 503, like 8.1.3.1). */
  private overBudget(bytes: Buffer): ClientOutcome | undefined {
    if (this.deps.layer().outboundFits(bytes.length)) return undefined;
    return transportFailed(new Error("the mock's pending outbound request budget is spent; not sent"));
  }

  /**
   * A non-INVITE request through a non-INVITE client transaction (17.1.2).
   * RFC 3261 18.1.1: over UDP, one larger than 1300 octets goes over TCP
   * when the mock listens on TCP, and over UDP after all when the TCP
   * connection cannot be made ("SHOULD retry the request, using UDP").
   */
  request(flow: Flow, req: OutgoingRequest): Promise<ClientOutcome> {
    const branch = newBranch();
    const bytes = this.serialize(flow, req, branch);
    const reliable =
      flow.transport === "udp" && bytes.length > UDP_SIZE_LIMIT ? this.deps.reliableFlow?.(flow) : undefined;
    if (!reliable) return this.send(flow, req, branch, bytes);
    const tcpBranch = newBranch();
    return this.send(reliable, req, tcpBranch, this.serialize(reliable, req, tcpBranch)).then((outcome) =>
      outcome.transportError !== undefined ? this.send(flow, req, branch, bytes) : outcome,
    );
  }

  private send(flow: Flow, req: OutgoingRequest, branch: string, bytes: Buffer): Promise<ClientOutcome> {
    const refused = this.overBudget(bytes);
    if (refused) return Promise.resolve(refused);
    const retransmit = this.retransmits(flow, req.method);
    return new Promise((resolve) => {
      this.deps.layer().sendRequest(
        flow,
        bytes,
        branch,
        req.method,
        {
          final: (response) => resolve({ status: response.status, reason: response.reason, response }),
          timeout: () => resolve(timedOut()),
          transportError: (err) => resolve(transportFailed(err)),
        },
        retransmit,
      );
    });
  }

  /**
   * An INVITE through an INVITE client transaction (17.1.1). A 2xx is
   * acknowledged here (13.2.2.4: "The UAC core MUST generate an ACK request
   * for each 2xx received from the transaction layer"), sent to the remote
   * target with the route set of the dialog it creates or belongs to; a
   * retransmitted 2xx gets the same ACK again. Unanswered after
   * `cancelAfterMs`, the INVITE is cancelled (9.1: once a provisional
   * response arrived) and given up 64*T1 later.
   */
  invite(
    flow: Flow,
    req: OutgoingRequest,
    events: InviteEvents = {},
    options: { readonly cancelAfterMs?: number } = {},
  ): {
    readonly branch: string;
    readonly outcome: Promise<ClientOutcome>;
    /** A CANCEL was sent (a 2xx may still have crossed it, 9.1). */
    readonly cancelled: () => boolean;
  } {
    const branch = newBranch();
    const bytes = this.serialize(flow, req, branch);
    const refused = this.overBudget(bytes);
    if (refused) return { branch, outcome: Promise.resolve(refused), cancelled: () => false };
    const retransmit = this.retransmits(flow, req.method);
    const acks = new Map<string, { readonly to: Flow; readonly bytes: Buffer }>();
    let timer: TimerHandle | undefined;
    let provisional = false;
    let cancelWanted = false;
    let cancelled = false;
    let tx: InviteClientTransaction | undefined;
    let answered = false;
    const cancel = () => {
      if (cancelled || answered) return;
      cancelled = true;
      void this.cancel(flow, req, branch);
      tx?.giveUpAfterCancel();
    };
    const outcome = new Promise<ClientOutcome>((resolve) => {
      const ack2xx = (response: ParsedResponse) => {
        const toTag = response.core.to.tag ?? "";
        let ack = acks.get(toTag);
        if (!ack) {
          ack = this.ackFor2xx(flow, req, response);
          acks.set(toTag, ack);
        }
        this.sendRaw(ack.to, ack.bytes);
      };
      tx = this.deps.layer().sendInvite(
        flow,
        bytes,
        branch,
        (response) => this.ackForFailure(flow, req, branch, response),
        {
          provisional: (response) => {
            provisional = true;
            events.provisional?.(response);
            // 9.1: "a CANCEL [...] SHOULD NOT be sent [...] until a provisional response has been received".
            if (cancelWanted) cancel();
          },
          final: (response) => {
            answered = true;
            timer?.cancel();
            if (response.status < 300) ack2xx(response);
            resolve({ status: response.status, reason: response.reason, response });
          },
          retransmitted2xx: ack2xx,
          timeout: () => {
            timer?.cancel();
            resolve(timedOut());
          },
          transportError: (err) => {
            timer?.cancel();
            resolve(transportFailed(err));
          },
        },
        retransmit,
      );
    });
    if (options.cancelAfterMs !== undefined && !answered) {
      timer = this.deps.scheduler.schedule(options.cancelAfterMs, () => {
        if (provisional) cancel();
        else cancelWanted = true;
      });
    }
    return { branch, outcome, cancelled: () => cancelled };
  }

  /**
   * 9.1: a CANCEL has the INVITE's Request-URI, Call-ID, To, From, CSeq
   * number and top Via (same branch), and its own non-INVITE transaction.
   */
  cancel(flow: Flow, invite: OutgoingRequest, branch: string): Promise<ClientOutcome> {
    const cancel: OutgoingRequest = {
      method: "CANCEL",
      requestUri: invite.requestUri,
      from: invite.from,
      to: invite.to,
      callId: invite.callId,
      cseq: invite.cseq,
      ...(invite.routeSet ? { routeSet: invite.routeSet } : {}),
    };
    const retransmit = this.retransmits(flow, "CANCEL");
    return new Promise((resolve) => {
      this.deps.layer().sendRequest(
        flow,
        this.serialize(flow, cancel, branch),
        branch,
        "CANCEL",
        {
          final: (response) => resolve({ status: response.status, reason: response.reason, response }),
          timeout: () => resolve(timedOut()),
          transportError: (err) => resolve(transportFailed(err)),
        },
        retransmit,
      );
    });
  }

  private sendRaw(flow: Flow, bytes: Buffer): void {
    this.deps.sendRaw(flow, bytes);
  }

  /**
   * 17.1.1.3: the ACK for a non-2xx final response has the INVITE's
   * Request-URI, Call-ID, From, CSeq number, top Via and Route, and the To
   * of the response (with its tag).
   */
  private ackForFailure(
    flow: Flow,
    invite: OutgoingRequest,
    branch: string,
    response: ParsedResponse,
  ): Buffer {
    return this.serialize(
      flow,
      {
        method: "ACK",
        requestUri: invite.requestUri,
        from: invite.from,
        to: response.headers.get("To") ?? invite.to,
        callId: invite.callId,
        cseq: invite.cseq,
        ...(invite.routeSet ? { routeSet: invite.routeSet } : {}),
      },
      branch,
    );
  }

  /**
   * 13.2.2.4: the ACK for a 2xx is sent to the remote target with the
   * dialog's route set (for an initial INVITE: the 2xx's Contact and its
   * Record-Route reversed, 12.1.2), a new branch, and the INVITE's CSeq number.
   */
  private ackFor2xx(
    flow: Flow,
    invite: OutgoingRequest,
    response: ParsedResponse,
  ): { readonly to: Flow; readonly bytes: Buffer } {
    // The parser read our own To: without a tag, this INVITE makes the dialog.
    const initial = parseNameAddr("To", invite.to).tag === undefined;
    const contact = response.headers.get("Contact");
    // 12.2.1.2: a 2xx to a re-INVITE (a target refresh) replaces the remote target too.
    const target = addrSpecOf(contact, invite.requestUri);
    const routeSet = initial ? response.headers.getAll("Record-Route").reverse() : (invite.routeSet ?? []);
    // 13.2.2.4 -> 8.1.2: where the ACK goes follows its own Route and Request-URI.
    const to = this.deps.route
      ? this.deps.route(flow, addrSpecOf(routeSet[0], target), initial && routeSet.length === 0)
      : flow;
    const bytes = this.serialize(
      to,
      {
        method: "ACK",
        requestUri: target,
        from: invite.from,
        to: response.headers.get("To") ?? invite.to,
        callId: invite.callId,
        cseq: invite.cseq,
        routeSet,
      },
      newBranch(),
    );
    return { to, bytes };
  }

  /**
   * 8.1.1: Request-URI, Via, Max-Forwards, Route, From, To, Call-ID, CSeq,
   * Contact, then the rest; written by the one serializer (sip/serializer.ts),
   * which keeps a value from ending its header line early.
   */
  serialize(flow: Flow, req: OutgoingRequest, branch: string): Buffer {
    const id = this.deps.identity(flow);
    const body = Buffer.from(req.body?.content ?? "", "utf8");
    const headers: HeaderField[] = [
      {
        name: "Via",
        value: `SIP/2.0/${flow.transport.toUpperCase()} ${id.host}:${id.port};branch=${branch};rport`,
      },
      { name: "Max-Forwards", value: "70" },
      ...(req.routeSet ?? []).map((value) => ({ name: "Route", value })),
      { name: "From", value: req.from },
      { name: "To", value: req.to },
      { name: "Call-ID", value: req.callId },
      { name: "CSeq", value: `${req.cseq} ${req.method}` },
      ...(req.contact ? [{ name: "Contact", value: req.contact }] : []),
      ...(req.headers ?? []).map(([name, value]) => ({ name, value })),
      ...(this.deps.userAgent ? [{ name: "User-Agent", value: this.deps.userAgent }] : []),
      ...(req.body ? [{ name: "Content-Type", value: req.body.contentType }] : []),
      { name: "Content-Length", value: String(body.length) },
    ];
    return serialize({ startLine: `${req.method} ${req.requestUri} SIP/2.0`, headers, body });
  }
}

function timedOut(): ClientOutcome {
  return { status: 408, reason: "Request Timeout" };
}

/**
 * 8.1.3.1: "treated as a 503 (Service Unavailable) status code"; an
 * outbound flow that has failed, 430 (Flow Failed, RFC 5626 5.3).
 */
function transportFailed(err: Error): ClientOutcome {
  if (err instanceof FlowFailedError)
    return { status: 430, reason: "Flow Failed", transportError: err.message };
  return { status: 503, reason: "Service Unavailable", transportError: err.message };
}
