/** Parsing and checking of CLI option values; every error is one line naming the flag and the fix. */
import { InvalidArgumentError } from "commander";
import { isLogLevel, type LogLevel } from "../control/logger.js";
import { ListenSpecError, parseListenSpec } from "../transport/listen-spec.js";

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
