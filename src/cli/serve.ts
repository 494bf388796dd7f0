/** `sipmock serve` and `sipmock respond`: start the server, print the banner, stop cleanly on signals. */
import { writeFileSync } from "node:fs";
import { isCatalogued } from "../catalog/index.js";
import { type AdminServer, startAdmin } from "../control/admin.js";
import { type ExpectationResult, formatReport, junitXml } from "../control/expectations.js";
import { createLogger, type Logger, type LogLevel } from "../control/logger.js";
import { verdictsOf, writeReport } from "../control/report.js";
import { ListenError, type SipMock, startSipMock, VERSION } from "../control/sipmock.js";
import { readUiAssets } from "../control/ui-server.js";
import { describeLoadError, RESPOND_SOURCE, type RespondOptions } from "../scenario/builtin.js";
import { ScenarioEngine } from "../scenario/engine.js";
import { ScenarioLoadError } from "../scenario/load.js";
import { CertificateError } from "../transport/certs.js";
import { CLI_LISTEN } from "../transport/listen-spec.js";
import type { DigestAlgorithm } from "../ua/auth/digest.js";
import { freshSignals } from "./launcher.js";
import { type LimitFlags, limitsFromFlags } from "./limit-options.js";
import { isLoopbackHost, scenarioLimits } from "./options.js";
import { watchScenarios } from "./watch.js";

export interface ServeFlags extends LimitFlags {
  listen?: string[];
  scenario?: string[];
  watch?: boolean;
  logLevel?: LogLevel;
  verbose?: boolean;
  t1?: number;
  t2?: number;
  t4?: number;
  advertise?: string;
  serverHeader?: string;
  maxMessageSize?: number;
  ringTimeout?: number;
  mediaPort?: number;
  rtpPorts?: [number, number];
  symmetricRtp?: boolean;
  rtpInactivityTimeout?: number;
  pcapRtp?: boolean;
  pingInterval?: number;
  forceRport?: boolean;
  admin?: { host: string; port: number };
  auth?: Array<[string, string]>;
  minExpires?: number;
  minSe?: number;
  maxExpires?: number;
  maxBindings?: number;
  realm?: string;
  authProxy?: boolean;
  authAlgorithm?: DigestAlgorithm[];
  cert?: string;
  key?: string;
  tlsHost?: string[];
  tlsMaxVersion?: "1.2" | "1.3";
  adminToken?: string;
  adminInsecure?: boolean;
  maxScenarioSize?: number;
  maxRules?: number;
  journal?: string;
  report?: string;
  pcap?: string;
  drainTimeout?: number;
  untilExpectations?: boolean;
  timeout?: number;
  junit?: string;
}

export async function runServer(flags: ServeFlags, respond?: RespondOptions): Promise<void> {
  const signals = catchSignals();
  const logger = checkFlags(flags, respond);
  const mock = await start(flags, respond, logger);
  process.stderr.write(banner(mock, flags));
  const watcher =
    flags.watch && flags.scenario?.length ? watchScenarios(mock, flags.scenario, logger) : undefined;
  const admin = flags.admin ? await serveAdmin(mock, flags.admin, flags.adminToken) : undefined;
  /** The verdicts --until-expectations gave (the report shows those, not a later look). */
  let verdicts: readonly ExpectationResult[] | undefined;
  const stop = stopper(mock, flags, logger, [watcher, admin], () => verdicts);
  signals.onSignal = (signal) => void stop(`${signal} received`, 0);
  if (flags.untilExpectations)
    untilExpectations(mock, flags, logger, stop, (results) => {
      verdicts = results;
    });
}

/**
 * Signals are handled from the first moment: before the server is up a
 * signal simply ends the process; afterwards (once `onSignal` is set) it
 * shuts down gracefully.
 */
function catchSignals(): { onSignal: (signal: string) => void } {
  const signals = { onSignal: (_signal: string): void => process.exit(0) };
  // Under the launcher a signal may arrive twice (sent to both, and relayed): once counts.
  const fresh = freshSignals(process.env);
  process.on("SIGINT", () => fresh("SIGINT") && signals.onSignal("SIGINT"));
  process.on("SIGTERM", () => fresh("SIGTERM") && signals.onSignal("SIGTERM"));
  return signals;
}

/** Flags refused before anything starts (the process exits); the logger the flags ask for. */
function checkFlags(flags: ServeFlags, respond: RespondOptions | undefined): Logger {
  if (flags.admin && !isLoopbackHost(flags.admin.host) && !flags.adminToken && !flags.adminInsecure) {
    // Whoever reaches the admin API can replace the scenario and send requests as the mock.
    process.stderr.write(
      `sipmock: --admin ${flags.admin.host}:${flags.admin.port} is reachable from other machines: give --admin-token <token> (or SIPMOCK_ADMIN_TOKEN), or --admin-insecure to run it open\n`,
    );
    process.exit(2);
  }
  const logger = createLogger(flags.logLevel ?? "info", flags.verbose ?? false);
  const usage = flagConflict(flags);
  if (usage) {
    process.stderr.write(`sipmock: ${usage}\n`);
    process.exit(2);
  }
  if (flags.report) {
    // Found out now, not after the run the report was for.
    try {
      readUiAssets();
    } catch (e) {
      process.stderr.write(`sipmock: --report: ${(e as Error).message}\n`);
      process.exit(1);
    }
  }
  if (respond && !isCatalogued(respond.code)) {
    if (respond.reason === undefined) {
      process.stderr.write(
        `sipmock: ${respond.code} is not in the catalogue: give it a reason phrase, e.g. --reason "Custom Failure" (sipmock codes lists the catalogue)\n`,
      );
      process.exit(2);
    }
    logger.warn(
      `note: ${respond.code} is not in the catalogue; it is sent as uncatalogued with reason "${respond.reason}"`,
    );
  }
  return logger;
}

/** The mock the flags describe, started; a certificate, listener or scenario problem ends the process. */
async function start(
  flags: ServeFlags,
  respond: RespondOptions | undefined,
  logger: Logger,
): Promise<SipMock> {
  try {
    return await startSipMock(mockOptions(flags, respond, logger));
  } catch (e) {
    if (e instanceof CertificateError) {
      process.stderr.write(`sipmock: ${e.message}\n`);
      process.exit(2);
    }
    if (e instanceof ListenError) {
      process.stderr.write(`sipmock: ${e.message}\n`);
      process.exit(1);
    }
    if (e instanceof ScenarioLoadError) {
      // serve refuses to start on an invalid scenario: every problem, one line each.
      // Problems of `respond`'s flags are a usage error.
      const fromFlags = e.problems.every((p) => p.file === RESPOND_SOURCE);
      process.stderr.write(`${fromFlags ? "sipmock: " : ""}${describeLoadError(e)}\n`);
      process.exit(fromFlags ? 2 : 1);
    }
    throw e;
  }
}

type MockOptions = NonNullable<Parameters<typeof startSipMock>[0]>;

/** The flags as startSipMock's options (a flag not given leaves the library's default). */
function mockOptions(flags: ServeFlags, respond: RespondOptions | undefined, logger: Logger): MockOptions {
  return {
    // The CLI stands in for a SIP server: every interface, port 5060 (embedded: loopback, a free port).
    listen: flags.listen?.length ? flags.listen : CLI_LISTEN,
    ...(flags.scenario?.length ? { scenario: flags.scenario } : {}),
    ...(respond ? { respond } : {}),
    timers: {
      ...(flags.t1 ? { t1: flags.t1 } : {}),
      ...(flags.t2 ? { t2: flags.t2 } : {}),
      ...(flags.t4 ? { t4: flags.t4 } : {}),
    },
    ...(flags.advertise ? { advertise: flags.advertise } : {}),
    ...(flags.serverHeader !== undefined
      ? { serverHeader: flags.serverHeader === "" ? false : flags.serverHeader }
      : {}),
    ...(flags.maxMessageSize ? { maxMessageSize: flags.maxMessageSize } : {}),
    scenarioLimits: scenarioLimits(flags),
    ...(flags.ringTimeout ? { ringTimeoutMs: flags.ringTimeout } : {}),
    ...mediaOptions(flags),
    ...(flags.pingInterval ? { pingIntervalMs: flags.pingInterval } : {}),
    ...(flags.forceRport ? { forceRport: true } : {}),
    ...(flags.realm ? { realm: flags.realm } : {}),
    ...(flags.minSe ? { minSE: flags.minSe } : {}),
    registrar: {
      ...(flags.minExpires ? { minExpires: flags.minExpires } : {}),
      ...(flags.maxExpires ? { maxExpires: flags.maxExpires } : {}),
      ...(flags.maxBindings ? { maxBindingsPerAor: flags.maxBindings } : {}),
    },
    ...(flags.auth?.length
      ? {
          auth: {
            realm: flags.realm ?? "sipmock",
            users: Object.fromEntries(flags.auth),
            ...(flags.authAlgorithm ? { algorithms: flags.authAlgorithm } : {}),
            ...(flags.authProxy ? { proxy: true } : {}),
          },
        }
      : {}),
    tls: {
      ...(flags.cert ? { certFile: flags.cert } : {}),
      ...(flags.key ? { keyFile: flags.key } : {}),
      ...(flags.tlsHost ? { hosts: flags.tlsHost } : {}),
      ...(flags.tlsMaxVersion === "1.2" ? { maxVersion: "TLSv1.2" as const } : {}),
    },
    ...(flags.journal ? { journalFile: flags.journal } : {}),
    ...(flags.pcap ? { pcapFile: flags.pcap } : {}),
    limits: limitsFromFlags(flags),
    logger,
  };
}

/** --media-port, --rtp-ports, --symmetric-rtp, --rtp-inactivity-timeout, --pcap-rtp. */
function mediaOptions(flags: ServeFlags): Partial<MockOptions> {
  return {
    ...(flags.mediaPort ? { mediaPort: flags.mediaPort } : {}),
    ...(flags.rtpPorts ? { rtpPorts: flags.rtpPorts } : {}),
    ...(flags.symmetricRtp ? { symmetricRtp: true } : {}),
    ...(flags.rtpInactivityTimeout !== undefined
      ? { rtpInactivityTimeoutMs: flags.rtpInactivityTimeout }
      : {}),
    ...(flags.pcapRtp ? { pcapRtp: true } : {}),
  };
}

/**
 * Where the mock listens, its certificate, media and scenario: one write, so
 * whoever reads the banner gets all of it at once; printed at every log
 * level, since it says where the server listens.
 */
function banner(mock: SipMock, flags: ServeFlags): string {
  const where = mock.listeners.map(
    (l) => `${l.transport}:${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port}`,
  );
  const tlsLine = mock.tlsFingerprint
    ? [`  TLS certificate${flags.cert ? ` ${flags.cert}` : " (self-signed)"}: SHA-256 ${mock.tlsFingerprint}`]
    : [];
  const mediaLine = flags.mediaPort
    ? [`  media: off (signalling only), the SDP names port ${flags.mediaPort}`]
    : [
        `  media: RTP/RTCP per call on ${flags.rtpPorts ? `ports ${flags.rtpPorts.join("-")}` : "ephemeral ports"} (PCMU, PCMA, telephone-event)${flags.symmetricRtp ? ", symmetric" : ""}`,
      ];
  return `${[`sipmock ${VERSION} listening on ${where.join(", ")}`, ...tlsLine, ...mediaLine, ...mock.scenario.describe().map((l) => `  ${l}`)].join("\n")}\n`;
}

/** --admin: the admin API started and announced; when it cannot start, the mock is closed and the process ends. */
async function serveAdmin(
  mock: SipMock,
  where: { host: string; port: number },
  token: string | undefined,
): Promise<AdminServer> {
  let admin: AdminServer;
  try {
    admin = await startAdmin(mock, { ...where, ...(token ? { token } : {}) });
  } catch (e) {
    await mock.close();
    process.stderr.write(
      `sipmock: cannot serve the admin API on ${where.host}:${where.port}: ${(e as Error).message}\n`,
    );
    process.exit(1);
  }
  process.stderr.write(
    `sipmock: admin API on ${admin.url} (OpenAPI: ${admin.url}/__admin/openapi.json; web UI: ${admin.url}/__admin/ui${token ? "?token=TOKEN" : ""})\n`,
  );
  return admin;
}

/** What shutting down closes first: the watcher, the admin API (either may be absent). */
type Closable = { close(): unknown } | undefined;

/**
 * The shutdown: once (a second signal exits at once), graceful (issue: no
 * message, journal entry or capture lost): no new requests, transactions in
 * flight get --drain-timeout, captures flushed, then --report.
 */
function stopper(
  mock: SipMock,
  flags: ServeFlags,
  logger: Logger,
  [watcher, admin]: [Closable, Closable],
  verdicts: () => readonly ExpectationResult[] | undefined,
): (why: string, code: number) => Promise<void> {
  let stopping = false;
  return async (why, code) => {
    if (stopping) {
      // A second signal: the user wants out now (captures are flushed on close already).
      if (why.endsWith("received")) process.exit(code === 0 ? 130 : code);
      return;
    }
    stopping = true;
    watcher?.close();
    logger.warn(`sipmock: ${why}, shutting down`);
    try {
      await admin?.close();
      await mock.close(flags.drainTimeout ?? 2000);
      if (flags.report && !report(mock, flags.report, verdicts())) process.exit(code === 0 ? 1 : code);
      process.exit(code);
    } catch (e) {
      process.stderr.write(`sipmock: shutdown failed: ${(e as Error).message}\n`);
      process.exit(1);
    }
  };
}

/** serve --report: the journal held in memory, and the expectations' verdicts when the scenario has some. */
function report(mock: SipMock, path: string, verdicts: readonly ExpectationResult[] | undefined): boolean {
  const scenario = mock.scenario;
  const results =
    verdicts ??
    (scenario instanceof ScenarioEngine && scenario.expectations.length > 0
      ? mock.checkExpectations()
      : undefined);
  try {
    const n = writeReport(path, mock.journal.records(), results ? verdictsOf(results) : null);
    process.stderr.write(`sipmock: report ${path} written (${n} message${n === 1 ? "" : "s"})\n`);
    return true;
  } catch (e) {
    process.stderr.write(`sipmock: cannot write the report ${path}: ${(e as Error).message}\n`);
    return false;
  }
}

/** `--until-expectations`: the mock itself gives the CI verdict. */
function untilExpectations(
  mock: SipMock,
  flags: ServeFlags,
  logger: Logger,
  stop: (why: string, code: number) => Promise<void>,
  verdict: (results: readonly ExpectationResult[]) => void,
): void {
  const scenario = mock.scenario;
  if (!(scenario instanceof ScenarioEngine) || scenario.expectations.length === 0) {
    process.stderr.write(
      "sipmock: --until-expectations needs a scenario with expectations: (see README: CI verdicts)\n",
    );
    void stop("no expectations", 2);
    return;
  }
  const started = Date.now();
  let finished = false;
  const finish = (ok: boolean) => {
    if (finished) return;
    finished = true;
    unsubscribe();
    clearTimeout(check);
    const results = mock.checkExpectations();
    verdict(results);
    process.stderr.write(`${formatReport(results)}\n`);
    if (flags.junit) {
      try {
        writeFileSync(flags.junit, junitXml(scenario.name, results, (Date.now() - started) / 1000));
      } catch (e) {
        process.stderr.write(`sipmock: cannot write ${flags.junit}: ${(e as Error).message}\n`);
        void stop("JUnit report not written", 1);
        return;
      }
    }
    void stop(ok ? "expectations met" : "expectations not met", ok ? 0 : 1);
  };
  const timeout = setTimeout(
    () => finish(mock.checkExpectations().every((r) => r.ok)),
    flags.timeout ?? 60_000,
  );
  let check: NodeJS.Timeout | undefined;
  // Told of each entry without it: no entry object is made for this listener.
  const unsubscribe = mock.journal.onEntry(() => {
    clearTimeout(check);
    // Settle first: "exactly one" must not pass just before a duplicate arrives.
    check = setTimeout(() => {
      if (mock.checkExpectations().every((r) => r.ok)) {
        clearTimeout(timeout);
        finish(true);
      }
    }, SETTLE_MS);
  });
  logger.warn(
    `sipmock: waiting up to ${Math.round((flags.timeout ?? 60_000) / 1000)} s for ${scenario.expectations.length} expectation(s)`,
  );
}

const SETTLE_MS = 500;

/** Flags that only mean something together: alone they would be silent no-ops. */
function flagConflict(flags: ServeFlags): string | undefined {
  if (flags.watch && !flags.scenario?.length)
    return "--watch reloads scenario files: give one with --scenario FILE, or drop --watch";
  if (flags.junit && !flags.untilExpectations)
    return "--junit writes the verdict of --until-expectations: add --until-expectations, or drop --junit";
  if (flags.authAlgorithm && !flags.auth?.length)
    return "--auth-algorithm applies to --auth users; add --auth USER:PASSWORD (a scenario's auth: takes algorithms: instead)";
  if (flags.pcapRtp && !flags.pcap)
    return "--pcap-rtp adds RTP to the --pcap capture: add --pcap FILE, or drop --pcap-rtp";
  if (flags.mediaPort && (flags.rtpPorts || flags.symmetricRtp))
    return "--media-port turns media off (signalling only), so --rtp-ports and --symmetric-rtp would do nothing: drop one of them";
  return undefined;
}
