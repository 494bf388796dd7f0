/** `sipmock serve` and `sipmock respond`: start the server, print the banner, stop cleanly on signals. */
import { type FSWatcher, watch } from "node:fs";
import { isCatalogued } from "../catalog/index.js";
import { createLogger, type Logger, type LogLevel } from "../control/logger.js";
import { ListenError, type SipMock, startSipMock, VERSION } from "../control/sipmock.js";
import { describeLoadError, type RespondOptions } from "../scenario/builtin.js";
import { ScenarioLoadError } from "../scenario/load.js";

export interface ServeFlags {
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
  forceRport?: boolean;
}

export async function runServer(flags: ServeFlags, respond?: RespondOptions): Promise<void> {
  const logger = createLogger(flags.logLevel ?? "info", flags.verbose ?? false);
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
  let mock: SipMock;
  try {
    mock = await startSipMock({
      ...(flags.listen ? { listen: flags.listen } : {}),
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
      ...(flags.ringTimeout ? { ringTimeoutMs: flags.ringTimeout } : {}),
      ...(flags.forceRport ? { forceRport: true } : {}),
      logger,
    });
  } catch (e) {
    if (e instanceof ListenError) {
      process.stderr.write(`sipmock: ${e.message}\n`);
      process.exit(1);
    }
    if (e instanceof ScenarioLoadError) {
      // serve refuses to start on an invalid scenario: every problem, one line each.
      // Problems without a position come from `respond`'s flags: a usage error.
      const fromFlags = e.problems.every((p) => p.line === 0);
      process.stderr.write(`${fromFlags ? "sipmock: " : ""}${describeLoadError(e)}\n`);
      process.exit(fromFlags ? 2 : 1);
    }
    throw e;
  }
  const where = mock.listeners.map(
    (l) => `${l.transport}:${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port}`,
  );
  // One write, so whoever reads the banner gets all of it at once.
  logger.warn(
    [
      `sipmock ${VERSION} listening on ${where.join(", ")}`,
      ...mock.scenario.describe().map((l) => `  ${l}`),
    ].join("\n"),
  );
  const watchers = flags.watch && flags.scenario?.length ? watchScenarios(mock, flags.scenario, logger) : [];

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    for (const w of watchers) w.close();
    logger.warn(`sipmock: ${signal} received, shutting down`);
    mock.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

/**
 * `serve --watch`: reload on change; an invalid file is reported and the
 * previous scenario keeps answering.
 */
function watchScenarios(mock: SipMock, files: string[], logger: Logger): FSWatcher[] {
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    clearTimeout(timer);
    // Editors write files in several steps: settle first.
    timer = setTimeout(() => {
      try {
        mock.setScenario(files);
        logger.warn(`sipmock: scenario reloaded (${files.join(", ")})`);
      } catch (e) {
        if (!(e instanceof ScenarioLoadError)) throw e;
        logger.warn(`${describeLoadError(e)}\nsipmock: reload refused; still serving the previous scenario`);
      }
    }, 100);
  };
  return files.map((f) => watch(f, reload));
}
