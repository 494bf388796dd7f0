/**
 * What the mock's own requests (mock-requests.ts) take and give: options,
 * outcomes, the error the API turns into 404/409/400/503, and what the
 * requests need from the rest of the UA.
 */
import type { Scheduler } from "../../transaction/scheduler.js";
import type { Flow } from "../../transport/types.js";
import type { DialogStore, MediaDirection } from "../dialogs.js";
import type { Subscription } from "../events.js";
import type { Capabilities, LocalIdentity } from "../local-context.js";
import type { Mailbox, MediaDirective } from "../ports.js";
import type { Registrar } from "../registrar.js";
import type { ListenerLookup } from "../request-target.js";
import { type CodecSpec, DEFAULT_CODECS } from "../sdp.js";
import type { ClientOutcome, UserAgentClient } from "../uac.js";

export type { MediaDirection } from "../dialogs.js";

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
  /** What the mock sends as RTP in the call (default silence), a recording, faults. */
  readonly media?: MediaDirective;
}

/** The media of the mock's own calls (media-calls.ts), when media is on. */
export interface UacMedia {
  /** Allocates the call's RTP port; false when media is off. */
  prepare(callId: string, flow: Flow, directive?: MediaDirective): Promise<boolean>;
  /** The answer to our offer arrived (2xx, or 183 with SDP): start the media. */
  answered(callId: string, offer: string, answer: string, final: boolean): void;
  close(callId: string): void;
}

export interface CallResult extends ClientOutcome {
  readonly callId: string;
  /** The contact the INVITE went to. */
  readonly contact: string;
  /** Provisional statuses received, in order. */
  readonly provisional: readonly number[];
  /** The 2xx crossed the mock's CANCEL: the mock ACKed it and sent BYE at once. */
  readonly crossedCancel?: boolean;
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
    /** unavailable: a resource is exhausted for now (no RTP port): retry later. */
    readonly kind: "not-found" | "conflict" | "invalid" | "unavailable",
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
  /** The RTP port its offers name: the call's real one when it has media. */
  readonly mediaPort: (callId?: string) => number;
  /** The codecs its offers may name (only those the media layer encodes, when media is on). */
  readonly offerable?: (codecs: readonly CodecSpec[]) => readonly CodecSpec[];
  readonly media?: UacMedia;
  readonly identity: (flow: Flow) => LocalIdentity;
  /** How long an INVITE of the mock may ring before it is cancelled (9.1). */
  readonly noAnswerMs: number;
  /** The same for a re-INVITE. */
  readonly inDialogNoAnswerMs: number;
  /** NAT mode (--force-rport): requests follow the peer's source address, not its Contact. */
  readonly natMode: boolean;
  /** The mock's listeners, for a target on another transport than the flow it was learnt on. */
  readonly listenerOn?: ListenerLookup;
  /** Active subscriptions of a package for a user (the entity's user part). */
  readonly subscriptionsFor: (user: string, pkg: string) => Subscription[];
  /** A NOTIFY inside a subscription (the UAS keeps subscription state). */
  readonly notifyIn: (
    sub: Subscription,
    state: string,
    content: { type: string; body: string },
  ) => Promise<ClientOutcome>;
  /** Wall-clock time in ms (a subscription's remaining expiry); Date.now unless a test drives a clock. */
  readonly now?: () => number;
}

/** 2xx: the request succeeded. */
export function isSuccess(outcome: { readonly status: number }): boolean {
  return outcome.status >= 200 && outcome.status < 300;
}

/** RFC 3311: the peer listed UPDATE in its Allow header fields. */
export function allowsUpdate(allow: readonly string[]): boolean {
  return allow.some((v) => v.split(",").some((m) => m.trim().toUpperCase() === "UPDATE"));
}
