/** Parsing and checking of CLI option values; every error is one line naming the flag and the fix. */
import { InvalidArgumentError } from "commander";
import { isLogLevel, type LogLevel } from "../control/logger.js";
import type { ScenarioLimits } from "../scenario/bounds.js";
import { stripBrackets } from "../transport/address.js";
import { ListenSpecError, parseListenSpec } from "../transport/listen-spec.js";
import { ALGORITHMS, type DigestAlgorithm } from "../ua/auth/digest.js";

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function listenOption(value: string, previous: string[] = []): string[] {
  try {
    parseListenSpec(value);
  } catch (e) {
    if (e instanceof ListenSpecError)
      throw new InvalidArgumentError(e.message.replace(/^invalid --listen "[^"]*": /, ""));
    throw e;
  }
  return [...previous, value];
}

export function statusCodeOption(value: string): number {
  if (!/^[1-6][0-9][0-9]$/.test(value)) {
    throw new InvalidArgumentError("a response code is three digits from 100 to 699, e.g. 486");
  }
  return Number(value);
}

export function headerOption(value: string, previous: Array<[string, string]> = []): Array<[string, string]> {
  const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*:[ \t]*(.*)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected "Name: value", e.g. --header "Retry-After: 120"`);
  if (/[\r\n]/.test(m[2]!)) throw new InvalidArgumentError("header values cannot contain line breaks");
  return [...previous, [m[1]!, m[2]!.trim()]];
}

export function methodsOption(value: string): string[] {
  const methods = value
    .split(",")
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== "");
  const bad = methods.find((m) => !/^[A-Z][A-Z0-9_.!%*+`'~-]*$/.test(m));
  if (methods.length === 0 || bad !== undefined) {
    throw new InvalidArgumentError(`expected a comma-separated list of SIP methods, e.g. INVITE,REGISTER`);
  }
  return methods;
}

export function positiveMsOption(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n <= 0)
    throw new InvalidArgumentError("expected a positive number of milliseconds");
  return n;
}

/** A UDP/TCP port, 1..65535. */
export function portOption(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 65535)
    throw new InvalidArgumentError("expected a port from 1 to 65535, e.g. --media-port 4000");
  return n;
}

/** "20000-20999": an RTP port range of at least two ports within 1024..65535. */
export function portRangeOption(value: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(value);
  const a = Number(m?.[1]);
  const b = Number(m?.[2]);
  if (!m || a < 1024 || b > 65535 || b - a < 1)
    throw new InvalidArgumentError(
      "expected a port range like 20000-20999 (at least 2 ports, within 1024-65535)",
    );
  return [a, b];
}

export function positiveIntOption(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

export function logLevelOption(value: string): LogLevel {
  if (!isLogLevel(value)) throw new InvalidArgumentError("expected one of error, warn, info, debug");
  return value;
}

export function classOption(value: string): number {
  if (!/^[1-6]$/.test(value)) throw new InvalidArgumentError("expected a class from 1 to 6, e.g. --class 4");
  return Number(value);
}

/** --admin PORT or HOST:PORT (loopback unless a host is given). */
export function adminOption(value: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port > 65535)
    throw new InvalidArgumentError("expected PORT or HOST:PORT, e.g. --admin 8080 or --admin 127.0.0.1:8080");
  return { host: stripBrackets(m[1] ?? "127.0.0.1"), port };
}

/** A duration: milliseconds, or "500ms", "30s", "2m". */
export function durationOption(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected a duration such as "30s", "2m" or milliseconds');
  const n = Number(m[1]);
  return Math.round(m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000);
}

export function nonNegativeIntOption(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError("expected a whole number, 0 or more");
  return Number(value);
}

/** --auth USER:PASSWORD, repeatable. */
export function authOption(value: string, previous: Array<[string, string]> = []): Array<[string, string]> {
  const i = value.indexOf(":");
  if (i <= 0) throw new InvalidArgumentError("expected USER:PASSWORD, e.g. --auth alice:secret");
  return [...previous, [value.slice(0, i), value.slice(i + 1)]];
}

/** --auth-algorithm SHA-256,MD5: the challenges offered, in this order (RFC 8760 2.4). */
export function authAlgorithmOption(value: string): DigestAlgorithm[] {
  const names = value.split(",").map((a) => a.trim());
  const out: DigestAlgorithm[] = [];
  for (const name of names) {
    const algorithm = ALGORITHMS.find((a) => a.toLowerCase() === name.toLowerCase());
    if (!algorithm || out.includes(algorithm)) {
      const what = algorithm ? `${algorithm} is named twice; ` : "";
      throw new InvalidArgumentError(
        `${what}expected a comma-separated list of ${ALGORITHMS.join(", ")}, e.g. --auth-algorithm SHA-256,MD5`,
      );
    }
    out.push(algorithm);
  }
  return out;
}

/** The scenario bounds --max-scenario-size and --max-rules give (defaults where absent). */
export function scenarioLimits(flags: { maxScenarioSize?: number; maxRules?: number }): ScenarioLimits {
  return {
    ...(flags.maxScenarioSize ? { maxBytes: flags.maxScenarioSize } : {}),
    ...(flags.maxRules ? { maxRules: flags.maxRules } : {}),
  };
}

/** Loopback addresses and names: an admin API there is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = stripBrackets(host).toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
