/**
 * UA wiring: the UserAgentServer with its options (scenario, wire, limits,
 * media, clocks) and the events it tells the mock (journal rule and fault
 * labels, metrics, log lines), and the transaction layer under it.
 */
import type { MediaEngine } from "../../media/index.js";
import { DEFAULT_RING_TIMEOUT_MS } from "../../scenario/dial-a-code.js";
import { FollowUpExecutor } from "../../scenario/follow-ups.js";
import type { Scheduler } from "../../transaction/scheduler.js";
import type { TimerConfig } from "../../transaction/timers.js";
import { TransactionLayer } from "../../transaction/transaction-layer.js";
import type { FailedLoginLog } from "../../ua/auth/failed-logins.js";
import { type UasEvents, UserAgentServer } from "../../ua/uas.js";
import type { UnparsableContext } from "../../ua/unparsable.js";
import type { Journal } from "../journal.js";
import type { Logger } from "../logger.js";
import { faultLabels } from "../message-summary.js";
import type { Metrics } from "../metrics.js";
import type { Guards } from "./guards.js";
import { peer, stamp } from "./log.js";
import type { SipMockOptions } from "./options.js";
import type { Recorder } from "./recorder.js";
import type { ScenarioSlot } from "./scenario-slot.js";
import type { Wire } from "./wire.js";

/** Who the mock is on every flow (the listener aside): what its answers say about it. */
export type MockIdentity = Omit<UnparsableContext, "listener">;

/** An answered call with no RTP/RTCP for this long is hung up (--rtp-inactivity-timeout). */
const DEFAULT_RTP_INACTIVITY_MS = 60_000;

export interface UserAgentParts {
  readonly options: SipMockOptions;
  readonly logger: Logger;
  readonly slot: ScenarioSlot;
  readonly wire: Wire;
  readonly guards: Guards;
  readonly metrics: Metrics;
  readonly recorder: Recorder;
  readonly failedLogins: FailedLoginLog;
  readonly mediaEngine: MediaEngine | undefined;
  /** Who the mock is: capabilities, Server header, digest realm, --advertise. */
  readonly identity: MockIdentity;
  readonly timers: TimerConfig;
  readonly scheduler: Scheduler;
  readonly wallNow: () => number;
}

/** The UA, the transaction layer under it, and the keep-alive it runs (stopped on close). */
export function createUserAgent(p: UserAgentParts): {
  uas: UserAgentServer;
  layer: TransactionLayer;
  stopKeepAlive: (() => void) | undefined;
} {
  const { options, logger, wire, guards, recorder } = p;
  const policy = guards.retransmitPolicy(p.metrics);
  const uas = new UserAgentServer(
    {
      scenario: () => p.slot.view,
      followUps: new FollowUpExecutor(),
      wire: wire.faultWire(),
      auth: () => p.slot.authenticator,
      ...(options.registrar ? { registrar: options.registrar } : {}),
      ...(options.minSE !== undefined ? { minSE: options.minSE } : {}),
      ...(options.forceRport ? { forceRport: true } : {}),
      capabilities: p.identity.capabilities,
      ...(p.identity.server ? { server: p.identity.server } : {}),
      ...(options.advertise ? { advertise: options.advertise } : {}),
      realm: p.identity.realm,
      ringTimeoutMs: options.ringTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS,
      ...(options.mediaPort !== undefined ? { mediaPort: options.mediaPort } : {}),
      ...(p.mediaEngine ? { mediaEngine: p.mediaEngine } : {}),
      ...(options.symmetricRtp ? { symmetricRtp: true } : {}),
      rtpInactivityMs: options.rtpInactivityTimeoutMs ?? DEFAULT_RTP_INACTIVITY_MS,
      now: p.wallNow,
      timers: p.timers,
      scheduler: p.scheduler,
      listenerFor: (flow) => wire.listenerFor(flow),
      listenerOn: (transport, ipv6) => wire.listenerOn(transport, ipv6),
      budgets: guards.budgets,
      overload: guards.overload,
      reliableFlow: (flow) => wire.reliableFlow(flow),
      ...(policy ?? {}),
    },
    { ...answerEvents(recorder.journal, recorder, p.metrics, logger), ...otherEvents(p) },
  );
  recorder.journal.digitsOf = (callId) => uas.media.digits(callId);
  const layer = new TransactionLayer(
    (flow, bytes, retransmission, failed) => wire.send(flow, bytes, retransmission, failed),
    uas,
    p.scheduler,
    p.timers,
    guards.budgets,
  );
  uas.layer = layer;
  const stopKeepAlive = options.pingIntervalMs
    ? uas.requests.keepAlive(options.pingIntervalMs, (aor, o) =>
        logger.warn(`${stamp()} keep-alive OPTIONS to ${o.contact} (${aor}): ${o.status} ${o.reason}`),
      )
    : undefined;
  return { uas, layer, stopKeepAlive };
}

/** How a request was answered: the rule in the journal, a fault's labels on the response, metrics, log. */
function answerEvents(
  journal: Journal,
  recorder: Recorder,
  metrics: Metrics,
  logger: Logger,
): Pick<UasEvents, "decided" | "responded"> {
  return {
    decided: (tx, decision) => {
      const callId = tx.request.core.callId;
      const current = recorder.currentId;
      if (current !== 0) journal.ruleForId(current, decision.rule);
      else logger.info(`${stamp()} ${callId}: a DTMF digit re-decided the call: ${decision.rule}`);
      if (decision.kind === "drop") metrics.fault("drop");
      if (decision.kind === "drop" && current !== 0) journal.markFaultId(current, "drop (not answered)");
      if (decision.kind === "respond" && decision.fault) {
        for (const k of Object.keys(decision.fault)) metrics.fault(k);
      }
      if (decision.kind === "drop") logger.info(`${stamp()} ${callId}: dropped by ${decision.rule} (fault)`);
      else if (logger.level === "debug")
        logger.debug(`${stamp()} ${callId}: ${tx.request.method} answered by ${decision.rule}`);
    },
    responded: (tx, built, fault) => {
      if (!fault && built.omittedRequired.length === 0) return; // the common case: nothing to note
      const labels = fault ? faultLabels(fault, built.status) : [];
      const omitted =
        built.omittedRequired.length > 0
          ? [`omitHeaders (the ${built.status} without ${built.omittedRequired.join(", ")})`]
          : [];
      const branch = tx.request.core.via[0]?.branch;
      if (branch) journal.faultFor(`${branch}/${tx.request.method}`, built.status, [...labels, ...omitted]);
      if (labels.length > 0) logger.info(`${stamp()} ${tx.request.core.callId}: fault: ${labels.join(", ")}`);
      if (built.omittedRequired.length > 0) {
        metrics.fault("omitHeaders");
        logger.info(
          `${stamp()} ${tx.request.core.callId}: fault: ${built.status} sent without required ${built.omittedRequired.join(", ")}`,
        );
      }
    },
  };
}

/** Failed logins, notes, follow-ups, DTMF, media statistics and Timer H: journal, metrics, log. */
function otherEvents(p: UserAgentParts): Omit<UasEvents, "decided" | "responded"> {
  const { logger, metrics, recorder } = p;
  return {
    authFailed: (tx, username, reason) =>
      p.failedLogins.record({ username, reason, method: tx.request.method, peer: peer(tx.flow) }),
    note: (message) => logger.warn(`${stamp()} ${message}`),
    followUp: (f, outcome) => logger.info(`${stamp()} then: ${f.send}: ${outcome}`),
    dtmf: (callId, d) => {
      metrics.dtmf(d.via);
      recorder.digit(callId, d);
      logger.info(
        `${stamp()} ${callId}: DTMF ${d.digit} (${d.via === "info" ? "SIP INFO" : "RFC 4733"}, ${d.durationMs} ms)`,
      );
    },
    mediaClosed: (callId, st, info) => {
      metrics.mediaClosed(st);
      recorder.mediaClosed(callId, st, info);
      logger.info(
        `${stamp()} ${callId}: media: sent ${st.sent.packets} packets, received ${st.received.packets} (lost ${st.received.lost}, jitter ${st.received.jitterMs.toFixed(1)} ms)`,
      );
    },
    terminated: (tx, reason) => {
      if (reason === "timer-h") {
        logger.info(
          `${stamp()} ${tx.request.core.callId}: final response to INVITE never acknowledged (Timer H)`,
        );
      }
    },
  };
}
