import type { MediaFaults } from "../media/types.js";
import type { ParsedRequest } from "../sip/message.js";

/**
 * What a scenario decides for a request. The engine sees facts about the
 * request and returns a plan; it never touches sockets or transactions.
 */
export interface ResponsePlan {
  readonly status: number;
  readonly reason?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly removeHeaders?: readonly string[];
  /** Inline body, or "sdp" for the generated SDP answer (or offer, when the request had none). */
  readonly body?: { readonly contentType: string; readonly content: string } | "sdp";
}

export type PlanStep = { readonly send: ResponsePlan } | { readonly waitMs: number };

/**
 * Faults on the wire, applied by the UAS to the final response of the
 * decision (scenario `fault:`). The scenario decides; the UAS and transport
 * carry it out exactly.
 */
export interface WireFault {
  /** Ignore the request (and its copies) until this many retransmissions have arrived. */
  readonly afterRetransmissions?: number;
  /** Send the final response this many extra times. */
  readonly duplicate?: number;
  /** Never retransmit the final response (Timer G off). */
  readonly noRetransmit?: boolean;
  /** Write this Content-Length instead of the true one, or none at all. */
  readonly contentLength?: number | "missing";
  /** Break the start line or a header of the final response. */
  readonly malformed?: "start-line" | "header";
  /** Send only the first N octets of the final response. */
  readonly truncate?: number;
  /** Send N random octets instead of the final response. */
  readonly garbage?: number;
  /** After the final response, close (FIN) or reset (RST) the TCP connection. */
  readonly tcp?: "close" | "reset";
  /** Send the final response from another source port (UDP). */
  readonly fromOtherPort?: boolean;
}

/**
 * A request the mock sends after the decision's final answer (`then:`),
 * `afterMs` after it. In-dialog ones use the dialog a 2xx to the INVITE
 * made; the others go to the registered contacts of the request's To.
 */
export type FollowUp = { readonly afterMs: number } & (
  | { readonly send: "BYE" | "UPDATE" }
  | {
      readonly send: "re-INVITE";
      readonly direction: "sendrecv" | "sendonly" | "recvonly" | "inactive";
      readonly codecs?: readonly string[];
    }
  | {
      readonly send: "INVITE";
      readonly from?: string;
      readonly cancelAfterMs?: number;
      readonly hangUpAfterMs?: number;
    }
  | {
      readonly send: "NOTIFY";
      readonly messagesWaiting: boolean;
      readonly newMessages?: number;
      readonly oldMessages?: number;
    }
  | { readonly send: "OPTIONS" }
  | { readonly send: "DTMF"; readonly digits: string }
);

/** What the mock sends as RTP (scenario `media:`). */
export type MediaActionPlan =
  | { readonly kind: "echo" }
  | { readonly kind: "silence" }
  | {
      readonly kind: "tone";
      readonly frequencies: readonly number[];
      /** Tone on per cadence; absent: steady. */
      readonly onMs?: number;
      readonly offMs?: number;
    }
  | { readonly kind: "play"; readonly file: string; readonly loop: boolean };

/** A rule's media faults: what the media engine carries out (src/media/types.ts MediaFaults). */
export type MediaFaultPlan = MediaFaults;

/** A rule's media: the actions in early media and once answered, a recording, faults. */
export interface MediaDirective {
  readonly early?: MediaActionPlan;
  readonly answered?: MediaActionPlan;
  /** WAV file to record the peer's audio to ({callId} already replaced by the UAS). */
  readonly record?: string;
  readonly faults?: MediaFaultPlan;
}

export type Decision =
  /** Answer with these steps and this final response. No final: keep ringing until CANCEL or ringTimeoutMs. */
  | {
      readonly kind: "respond";
      readonly rule: string;
      readonly steps: readonly PlanStep[];
      readonly final?: ResponsePlan;
      readonly fault?: WireFault;
      readonly followUps?: readonly FollowUp[];
      readonly media?: MediaDirective;
    }
  /** Let the UAS's built-in behaviour for the method answer (call, registrar, OPTIONS...). */
  | {
      readonly kind: "default";
      readonly rule: string;
      readonly followUps?: readonly FollowUp[];
      readonly media?: MediaDirective;
    }
  /** Fault: no answer at all, not even 100 Trying. */
  | { readonly kind: "drop"; readonly rule: string };

/** What a rule can look at; built once per request by the UAS. */
export interface RequestFacts {
  readonly method: string;
  readonly requestUser?: string;
  readonly requestHost?: string;
  readonly transport: string;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly hasBody: boolean;
  /** The whole parsed request, for matchers and templates (read only). */
  readonly request: ParsedRequest;
  /** DTMF digits received so far in this call (RTP telephone-events and SIP INFO). */
  readonly dtmf?: string;
  /** "dtmf": asked again because a digit arrived while the INVITE is unanswered; only rules with `match.dtmf` apply. */
  readonly trigger?: "dtmf";
}

/** A mailbox as RFC 3842 5.2 describes it (Messages-Waiting, Voice-Message counts). */
export interface Mailbox {
  readonly waiting: boolean;
  readonly newMessages?: number;
  readonly oldMessages?: number;
  readonly urgentNew?: number;
  readonly urgentOld?: number;
}

export interface Scenario {
  readonly name: string;
  /** What the first NOTIFY of a message-summary subscription says (default: nothing waiting). */
  readonly messageSummary?: Mailbox;
  /** RFC 6665: the event packages SUBSCRIBE and PUBLISH accept (default: message-summary, presence, dialog). */
  readonly eventPackages?: readonly string[];
  /** RFC 3262: when 18x go reliably (default "required": when the INVITE requires 100rel). */
  readonly reliableProvisionals?: "required" | "supported" | "never";
  /** Signalling only: the RTP port the mock's SDP names; no RTP socket is opened (media off). */
  readonly mediaPort?: number;
  decide(facts: RequestFacts): Decision;
  /** Human description for the start-up banner. */
  describe(): string[];
}

/** How one of the mock's own requests was answered, as a `then:` report names it. */
export interface SentOutcome {
  readonly status: number;
  readonly reason: string;
}

/**
 * What the UA can send for a `then:` follow-up. The UA implements it; the
 * scenario's executor (scenario/follow-ups.ts) decides what to call.
 */
export interface FollowUpActions {
  /** Runs `fn` after `ms` on the UA's scheduler. */
  schedule(ms: number, fn: () => void): { cancel(): void };
  /** BYE in every dialog of the call; how many. */
  hangUp(callId: string, why: string): number;
  reinvite(
    callId: string,
    offer: { readonly direction: FollowUpDirection; readonly codecs?: readonly string[] },
  ): Promise<readonly SentOutcome[]>;
  update(callId: string): Promise<readonly SentOutcome[]>;
  call(
    aor: string,
    options: { readonly from?: string; readonly cancelAfterMs?: number; readonly hangUpAfterMs?: number },
  ): Promise<SentOutcome & { readonly callId: string }>;
  notifyMessageWaiting(aor: string, mwi: Mailbox): Promise<readonly SentOutcome[]>;
  ping(aor: string): Promise<readonly SentOutcome[]>;
  sendDtmf(callId: string, digits: string): Promise<void>;
}

export type FollowUpDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** Where a rule's `then:` requests go: the request's call and the AOR of its To. */
export interface FollowUpTarget {
  readonly callId: string;
  readonly aor: string;
}

/** The `then:` executor the UA is given (UasOptions.followUps); the scenario implements it. */
export interface FollowUpRunner {
  /** Sends each follow-up `afterMs` from now; `report` gets its outcome (answers, or why not sent). */
  run(
    list: readonly FollowUp[],
    target: FollowUpTarget,
    actions: FollowUpActions,
    report: (followUp: FollowUp, outcome: string) => void,
  ): void;
  /** Forgets the follow-ups not sent yet (reset, a new scenario, shutdown). */
  cancelAll(): void;
}
