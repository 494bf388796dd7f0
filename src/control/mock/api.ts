/**
 * The SipMock handle: where it listens, the journal and verification, the
 * overrides and scenario, and the UA's calls, media and registrations.
 */
import type { TlsMaterial } from "../../transport/certs.js";
import { formatHost } from "../../transport/types.js";
import { localUri } from "../../ua/local-context.js";
import type { UserAgentServer } from "../../ua/uas.js";
import { checkExpectations } from "../expectations.js";
import type { Journal } from "../journal.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { Overrides } from "../overrides.js";
import { checkPattern, findRequests, VerificationError, verify } from "../verify.js";
import { stamp } from "./log.js";
import type { CallMedia, SipMock } from "./options.js";
import type { Recorder } from "./recorder.js";
import type { ScenarioSlot } from "./scenario-slot.js";
import type { Lifecycle } from "./shutdown.js";
import { waitForRequest } from "./wait-for.js";
import type { Wire } from "./wire.js";

export interface ApiParts {
  readonly logger: Logger;
  readonly recorder: Recorder;
  readonly metrics: Metrics;
  readonly overrides: Overrides;
  readonly slot: ScenarioSlot;
  readonly uas: UserAgentServer;
  /** Server transactions alive now. */
  readonly activeTransactions: () => number;
  readonly wire: Wire;
  readonly lifecycle: Lifecycle;
  readonly tls: TlsMaterial | undefined;
}

export function sipMockApi(p: ApiParts): SipMock {
  const { slot, uas, lifecycle } = p;
  return {
    ...whereApi(p),
    ...journalApi(p),
    ...uaApi(uas),
    get scenario() {
      return slot.current;
    },
    setScenario(next) {
      const scenario = slot.set(next);
      uas.cancelFollowUps();
      p.logger.info(`${stamp()} scenario: ${scenario.name}`);
    },
    resetScenario() {
      slot.reset();
    },
    get activeTransactions() {
      return p.activeTransactions();
    },
    get activeDialogs() {
      return uas.dialogs.size;
    },
    get trackedCalls() {
      return uas.trackedCalls;
    },
    close: (drainMs) => lifecycle.close(drainMs),
    [Symbol.asyncDispose]: () => lifecycle.close(),
  };
}

/** Where the mock listens and what it exchanges. */
function whereApi(
  p: ApiParts,
): Pick<SipMock, "listeners" | "tlsFingerprint" | "tlsCertificate" | "address" | "uri" | "onMessage"> {
  const { wire, tls } = p;
  return {
    listeners: wire.listeners.map((l) => l.info),
    ...(tls ? { tlsFingerprint: tls.fingerprint, tlsCertificate: tls.cert } : {}),
    address(transport) {
      const info = wire.first(transport);
      return { host: info.address, port: info.port };
    },
    uri(transport, user) {
      const info = wire.first(transport);
      const host = info.address === "0.0.0.0" ? "127.0.0.1" : info.address === "::" ? "::1" : info.address;
      return localUri({ host: formatHost(host), port: info.port, transport: info.transport }, user);
    },
    onMessage: (listener) => p.recorder.onMessage(listener),
  };
}

/** The journal, verification, overrides and expectations. */
function journalApi(
  p: ApiParts,
): Pick<
  SipMock,
  | "journal"
  | "metrics"
  | "overrides"
  | "requests"
  | "calls"
  | "verify"
  | "waitFor"
  | "override"
  | "checkExpectations"
  | "reset"
> {
  const { journal } = p.recorder;
  const { uas, overrides } = p;
  return {
    journal,
    metrics: p.metrics,
    overrides,
    requests: (pattern = {}) => findRequests(journal, checkPattern(pattern)),
    calls: (filter) => callsWithMedia(journal, uas, filter),
    verify: (pattern, count = {}) => verify(journal, checkPattern(pattern), count),
    waitFor: (pattern, { timeout = 5000 } = {}) =>
      waitForRequest(journal, pattern, timeout, p.lifecycle.waiting),
    override(pattern, action, opts = {}) {
      const info = overrides.add(pattern, action, opts);
      p.logger.info(`${stamp()} override ${info.id}: ${JSON.stringify(info.rule)}`);
      return info;
    },
    checkExpectations: () => checkExpectations(journal, p.slot.expectations),
    reset() {
      journal.clear();
      uas.media.clear();
      overrides.clear();
      uas.cancelFollowUps();
      p.slot.reset();
    },
  };
}

/** Each call with its digits and RTP statistics (journal entries are SIP messages only). */
function callsWithMedia(journal: Journal, uas: UserAgentServer, filter: Parameters<Journal["calls"]>[0]) {
  return journal.calls(filter).map((c) => {
    const dtmf = uas.media.digits(c.callId);
    const stats = uas.media.stats(c.callId);
    return {
      ...c,
      ...(dtmf !== "" ? { dtmf } : {}),
      ...(stats ? { media: { sent: stats.sent, received: stats.received } } : {}),
    };
  });
}

/** The UA's state and the requests the mock sends. */
function uaApi(
  uas: UserAgentServer,
): Pick<
  SipMock,
  | "registrations"
  | "dialogs"
  | "sendDtmf"
  | "dtmf"
  | "media"
  | "verifyDtmf"
  | "bye"
  | "reinvite"
  | "update"
  | "call"
  | "notifyMessageWaiting"
  | "ping"
> {
  const mediaOf = (callId: string) => callMedia(uas, callId);
  return {
    registrations: () => uas.registrar.snapshot(),
    dialogs: () => uas.dialogs.list(),
    sendDtmf(callId, digits) {
      if (!/^[0-9*#A-Da-d]+$/.test(digits))
        return Promise.reject(
          new RangeError(`DTMF digits are 0-9, *, #, A-D, not ${JSON.stringify(digits)}`),
        );
      return uas.sendDtmf(callId, digits.toUpperCase());
    },
    dtmf: (callId) => uas.media.digits(callId),
    media: (callId) => (callId === undefined ? uas.media.callIds() : [callId]).map(mediaOf),
    verifyDtmf(digits, opts = {}) {
      const all = (opts.callId === undefined ? uas.media.callIds() : [opts.callId]).map(mediaOf);
      const hit = all.find((c) => c.dtmf === digits);
      if (hit) return hit;
      const seen = all.filter((c) => c.dtmf !== "").map((c) => `  ${c.callId}: "${c.dtmf}"`);
      throw new VerificationError(
        `expected DTMF "${digits}"${opts.callId ? ` in call ${opts.callId}` : " in some call"}; ${seen.length ? `received:\n${seen.join("\n")}` : "no digits received"}`,
      );
    },
    bye: (callId) => uas.hangUp(callId),
    reinvite: (callId, offer) => uas.requests.reinvite(callId, offer),
    update: (callId) => uas.requests.update(callId),
    call: (aorOrUser, callOptions) => uas.requests.call(aorOrUser, callOptions),
    notifyMessageWaiting: (aorOrUser, mwi) => uas.requests.notifyMessageWaiting(aorOrUser, mwi),
    ping: (aorOrUser) => uas.requests.ping(aorOrUser),
  };
}

/** A call's digits (each with its time) and RTP statistics. */
function callMedia(uas: UserAgentServer, callId: string): CallMedia {
  const stats = uas.media.stats(callId);
  return {
    callId,
    dtmf: uas.media.digits(callId),
    digits: uas.media.digitList(callId).map((d) => ({
      digit: d.digit,
      durationMs: d.durationMs,
      volume: d.volume,
      via: d.via,
      at: new Date(d.at).toISOString(),
    })),
    ...(stats ? { stats } : {}),
  };
}
