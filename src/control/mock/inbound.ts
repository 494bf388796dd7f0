/**
 * Inbound dispatch: each message the listeners read is journaled and
 * logged, then handed on: a response to its client transaction, a request
 * to the transaction layer (or refused while shutting down), and one the
 * parser refused to the UA for its 400/505/513 (src/ua/unparsable.ts),
 * which is only sent and logged here.
 */
import type { ParsedRequest, ParsedResponse } from "../../sip/message.js";
import type { ParseFailure } from "../../sip/parser.js";
import type { TransactionLayer } from "../../transaction/transaction-layer.js";
import type { KnownPeers } from "../../transport/known-peers.js";
import { responseFlow } from "../../transport/response-route.js";
import type { Flow, InboundMessage } from "../../transport/types.js";
import type { UserAgentServer } from "../../ua/uas.js";
import { answerUnparsable } from "../../ua/unparsable.js";
import { type Logger, printable } from "../logger.js";
import { type MessageSummary, summarizeParse } from "../message-summary.js";
import { logLine, logsMessages, peer, stamp } from "./log.js";
import type { Recorder } from "./recorder.js";
import type { MockIdentity } from "./user-agent.js";
import type { Wire } from "./wire.js";

export interface InboundParts {
  readonly logger: Logger;
  readonly recorder: Recorder;
  readonly wire: Wire;
  readonly layer: TransactionLayer;
  readonly uas: UserAgentServer;
  readonly knownPeers: KnownPeers;
  /** --force-rport: answer UDP requests at their source port even without rport. */
  readonly forceRport: boolean | undefined;
  /** Whether the mock is shutting down (new requests are refused). */
  readonly lifecycle: { readonly draining: boolean };
  /** Who the mock is, for the answer to an unparsable request (the listener comes from the flow). */
  readonly identity: MockIdentity;
}

export class Inbound {
  constructor(private readonly p: InboundParts) {}

  /** The listeners' InboundHandler. */
  readonly handle = (msg: InboundMessage): void => {
    const { logger, recorder, layer } = this.p;
    // Every transport: the host of a phone (or proxy) that reached the mock over TCP is known too.
    this.p.knownPeers.add(msg.flow.remote.address);
    const request =
      msg.result.ok && msg.result.message.kind === "request"
        ? (msg.result.message as ParsedRequest)
        : undefined;
    // Known before anyone is told, so onMessage and waitFor see the truth.
    const retransmission = request !== undefined && layer.isRetransmission(request);
    // A summary only for a log line (the recorder makes its own for onMessage).
    let summary: MessageSummary | undefined;
    if (logsMessages(logger)) {
      summary = summarizeParse(msg.result);
      logLine(logger, "in", msg.flow, summary, msg.bytes, retransmission);
    }
    recorder.currentId = recorder.received(msg, summary, retransmission);
    try {
      this.dispatch(msg);
    } catch (err) {
      // Nothing a peer sends may crash the server.
      logger.error(
        `internal error handling a message from ${peer(msg.flow)}: ${(err as Error).stack ?? err}`,
      );
    } finally {
      recorder.currentId = 0;
      // A request nothing decided (an ACK, a retransmission) gets the rule its transaction key finds.
      recorder.journal.settle();
    }
  };

  private dispatch(msg: InboundMessage): void {
    const { result, flow } = msg;
    if (!result.ok) {
      this.unparsable(result.error, flow);
      return;
    }
    const { layer, logger } = this.p;
    if (result.message.kind === "response") {
      // Responses to the requests the mock sent (NOTIFY) go to their client
      // transaction (17.1.3); any other is dropped.
      if (!layer.receiveResponse(result.message as ParsedResponse)) {
        logger.debug(`dropping a response that matches no request we sent, from ${peer(flow)}`);
      }
      return;
    }
    const request = result.message as ParsedRequest;
    const replyFlow = responseFlow(flow, request.core.via[0], this.p.forceRport);
    // Shutting down: requests of transactions in flight (retransmissions,
    // ACK, CANCEL) are still handled; a new one gets the overload
    // refusals' stateless 503 + Retry-After (an ACK, nothing).
    if (this.p.lifecycle.draining && !layer.knows(request)) {
      logger.debug(`${stamp()} shutting down: refusing ${request.method} from ${peer(flow)}`);
      this.p.uas.refuseWhileDraining(request, replyFlow);
      return;
    }
    layer.receive(request, replyFlow, msg.bytes.length);
  }

  /** The UA's answer to a request the parser refused, sent on the flow it came in on; else a log line. */
  private unparsable(failure: ParseFailure, flow: Flow): void {
    const { wire, identity } = this.p;
    const answer = answerUnparsable(failure, flow, { ...identity, listener: wire.listenerFor(flow) });
    if (answer) {
      wire.send(flow, answer, false);
      return;
    }
    this.p.logger.info(
      `${stamp()} dropped unanswerable message from ${peer(flow)}: ${printable(failure.detail)}`,
    );
  }
}
