/** One line per message in and out; whole messages with --verbose. */
export type LogLevel = "error" | "warn" | "info" | "debug";

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  readonly level: LogLevel;
  readonly verbose: boolean;
}

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLogger(
  level: LogLevel = "info",
  verbose = false,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Logger {
  const at = (l: LogLevel) => (msg: string) => {
    if (ORDER[l] <= ORDER[level]) write(msg);
  };
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug"), level, verbose };
}

export const silentLogger: Logger = createLogger("error", false, () => {});

export function isLogLevel(v: string): v is LogLevel {
  return v in ORDER;
}

/**
 * Text safe for a terminal: octets outside printable ASCII (a `garbage`
 * fault's random bytes, control characters) written as \xNN, \r, \n. With
 * `lines` (whole messages, --verbose), CRLF stays a line break and tab a tab.
 */
export function printable(text: string, lines = false): string {
  const unsafe = lines ? /\r\n|[^\x20-\x7e\t]/g : /[^\x20-\x7e]/g;
  return text.replace(unsafe, (c) =>
    c === "\r\n"
      ? "\n"
      : c === "\r"
        ? "\\r"
        : c === "\n"
          ? "\\n"
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
