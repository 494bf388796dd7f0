/** What both server transaction kinds share (RFC 3261 17.2). */
import type { ParsedRequest } from "../sip/message.js";
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
  /** The last response sent, if any. */
  readonly lastResponse?: { status: number; bytes: Buffer };
  /** The TU sends a response through the transaction. */
  respond(status: number, bytes: Buffer, options?: SendOptions): void;
  /** A retransmission of the request arrived. */
  receiveRetransmission(): void;
  /** Stops timers without sending anything (shutdown). */
  terminate(reason: TerminationReason): void;
}

export function isReliable(flow: Flow): boolean {
  return flow.transport !== "udp";
}
