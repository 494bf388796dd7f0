/** `sipmock serve` and `sipmock respond`: start the server, print the banner, stop cleanly on signals. */
import { isCatalogued } from "../catalog/index.js";
import { createLogger, type LogLevel } from "../control/logger.js";
import { ListenError, startSipMock, VERSION } from "../control/sipmock.js";
import { DialACodeScenario } from "../scenario/dial-a-code.js";
import { type RespondOptions, RespondScenario } from "../scenario/respond-rule.js";

export interface ServeFlags {
  listen?: string[];
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
    logger.warn(
      `note: ${respond.code} is not in the catalogue; it is sent as uncatalogued with reason "${respond.reason ?? "(generic)"}"`,
    );
  }
  let mock: Awaited<ReturnType<typeof startSipMock>>;
  try {
    mock = await startSipMock({
      ...(flags.listen ? { listen: flags.listen } : {}),
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
    throw e;
  }
  const where = mock.listeners.map(
    (l) => `${l.transport}:${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port}`,
  );
  const scenario = respond ? new RespondScenario(respond, new DialACodeScenario()) : new DialACodeScenario();
  // One write, so whoever reads the banner gets all of it at once.
  logger.warn(
    [`sipmock ${VERSION} listening on ${where.join(", ")}`, ...scenario.describe().map((l) => `  ${l}`)].join(
      "\n",
    ),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.warn(`sipmock: ${signal} received, shutting down`);
    mock.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
