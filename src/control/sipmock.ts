/**
 * The embedding API: start a mock, learn where it listens, close it.
 * Data flows one way: transport -> parser -> transaction -> scenario ->
 * response builder -> transaction -> transport.
 *
 * startSipMock() composes named parts (src/control/mock/): the options
 * (options.ts), the scenario slot (scenario-slot.ts), the limits
 * (guards.ts), the journal wiring (recorder.ts), the listeners as one wire
 * (wire.ts, listen.ts), the UA and its events (user-agent.ts), inbound
 * dispatch (inbound.ts), shutdown (shutdown.ts) and the SipMock handle (api.ts).
 */
import { createMediaEngine } from "../media/index.js";
import { Scheduler } from "../transaction/scheduler.js";
import { resolveTimers } from "../transaction/timers.js";
import { FailedLoginLog } from "../ua/auth/failed-logins.js";
import { DEFAULT_CAPABILITIES } from "../ua/local-context.js";
import { VERSION } from "../version.js";
import { Journal } from "./journal.js";
import { type Logger, silentLogger } from "./logger.js";
import { Metrics } from "./metrics.js";
import { sipMockApi } from "./mock/api.js";
import { Guards } from "./mock/guards.js";
import { Inbound } from "./mock/inbound.js";
import { listenerOpener, listenSpecs, openListeners, secureMaterial } from "./mock/listen.js";
import { stamp } from "./mock/log.js";
import { checkMediaPort, checkRtpPorts, type SipMock, type SipMockOptions } from "./mock/options.js";
import { openCaptures, Recorder, type Sink } from "./mock/recorder.js";
import { ScenarioSlot } from "./mock/scenario-slot.js";
import { Lifecycle } from "./mock/shutdown.js";
import { createUserAgent, type MockIdentity } from "./mock/user-agent.js";
import { Wire } from "./mock/wire.js";
import { Overrides } from "./overrides.js";

export { VERSION } from "../version.js";
export { ListenError } from "./mock/listen.js";
export type {
  CallMedia,
  Direction,
  LimitOptions,
  MessageEvent,
  SipMock,
  SipMockOptions,
  TestSeams,
} from "./mock/options.js";
export { scenarioFromYaml } from "./mock/scenario-slot.js";

export async function startSipMock(options: SipMockOptions = {}): Promise<SipMock> {
  // Every option is checked before anything opens (a capture file, a timer).
  const timers = resolveTimers(options.timers);
  checkMediaPort(options.mediaPort);
  const { specs, sharedPort } = listenSpecs(options.listen);
  const base = foundation(options);
  const { guards, wire } = base;
  const { uas, layer, stopKeepAlive } = createUserAgent({ ...base, options, timers });
  const lifecycle = new Lifecycle({ ...base, uas, layer, stopKeepAlive, drainMs: options.drainMs ?? 0 });
  const inbound = new Inbound({
    ...base,
    layer,
    uas,
    lifecycle,
    knownPeers: guards.knownPeers,
    forceRport: options.forceRport,
  });
  const cleanUp = () => stopBeforeStart(base.sinks, base.scheduler, guards);
  const tls = await secureMaterial(specs, options).catch((err) => {
    cleanUp();
    throw err;
  });
  const open = listenerOpener(options, options.maxMessageSize ?? 65535, guards.gate, tls, inbound.handle);
  await openListeners(wire, specs, sharedPort, open, cleanUp);
  return sipMockApi({ ...base, uas, activeTransactions: () => layer.size, lifecycle, tls });
}

/**
 * What the UA and the wire stand on: the log, the clocks, the scenario and
 * its overrides, the limits, the journal with its metrics and captures,
 * the media engine, the (not yet open) wire, and who the mock says it is.
 */
function foundation(options: SipMockOptions) {
  const logger = options.logger ?? silentLogger;
  const clock = clocks(options, logger);
  const overrides = new Overrides();
  const slot = new ScenarioSlot(options, overrides, clock.wallNow);
  checkRtpPorts(options.rtpPorts);
  // Warnings, at most one line a second: a guessing client cannot flood the log.
  const failedLogins = new FailedLoginLog({
    warn: (line) => logger.warn(`${stamp()} ${line}`),
    now: clock.monotonic,
    schedule: (ms, fn) => clock.scheduler.schedule(ms, fn),
  });
  const guards = new Guards(options.limits ?? {}, logger, clock.monotonic);
  const journal = new Journal(options.journalSize ?? 10_000, guards.budgets.journal.limit);
  const metrics = new Metrics();
  guards.report(metrics, journal);
  const { sinks, pcap } = openCaptures(options, logger);
  const mediaEngine = mediaEngineOf(options, pcap, logger);
  const recorder = new Recorder(journal, metrics, logger, sinks, clock.wallNow);
  const server = options.serverHeader === false ? undefined : (options.serverHeader ?? `sipmock/${VERSION}`);
  const identity: MockIdentity = {
    capabilities: DEFAULT_CAPABILITIES,
    realm: options.realm ?? "sipmock",
    ...(server ? { server } : {}),
    ...(options.advertise ? { advertise: options.advertise } : {}),
  };
  const wire = new Wire(logger, recorder);
  guards.watchQueues(() => wire.queueDelayMs());
  return {
    logger,
    ...clock,
    overrides,
    slot,
    failedLogins,
    guards,
    metrics,
    sinks,
    mediaEngine,
    recorder,
    wire,
    identity,
  };
}

/**
 * Wall time, the scheduler every SIP timer runs on, and the monotonic clock
 * of the limits: the test seams' when given (a manual scheduler's clock).
 */
function clocks(options: SipMockOptions, logger: Logger) {
  const scheduler =
    options.seams?.scheduler ??
    new Scheduler(undefined, (err) =>
      logger.error(`internal error in a timer: ${(err as Error).stack ?? err}`),
    );
  return {
    wallNow: options.seams?.now ?? Date.now,
    scheduler,
    monotonic: options.seams?.scheduler ? () => scheduler.now() : () => performance.now(),
  };
}

/** Start failed (no certificate, an address in use): nothing may be left running. */
function stopBeforeStart(sinks: readonly Sink[], scheduler: Scheduler, guards: Guards): void {
  for (const sink of sinks) sink.close();
  scheduler.stop();
  guards.stop();
}

/**
 * Media off with a signalling-only port (--media-port): the SDP names it,
 * no socket opens. When the engine cannot start, the mock runs signalling
 * only and says so.
 */
function mediaEngineOf(
  options: SipMockOptions,
  pcap: ReturnType<typeof openCaptures>["pcap"],
  logger: Logger,
): ReturnType<typeof createMediaEngine> | undefined {
  if (options.mediaPort !== undefined) return undefined;
  const rtpPorts = options.rtpPorts;
  try {
    return createMediaEngine({
      ...(rtpPorts ? { portRange: [rtpPorts[0], rtpPorts[1]] as const } : {}),
      ...(pcap && options.pcapRtp ? { capture: (packet, from, to) => pcap.writeUdp(packet, from, to) } : {}),
      onError: (err) => logger.warn(`${stamp()} media: ${err.message}`),
    });
  } catch (e) {
    logger.warn(`${stamp()} media off (signalling only): ${(e as Error).message}`);
    return undefined;
  }
}
