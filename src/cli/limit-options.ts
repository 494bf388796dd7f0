/**
 * Flags of "Limits and hardening" (issue 10 items 3-5, 9): byte budgets,
 * overload control, connection caps and timeouts, reflection.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import type { LimitOptions } from "../control/sipmock.js";
import { DEFAULT_BUDGETS, parseSize, STORE_NAMES, type StoreName } from "../transaction/budget.js";
import { DEFAULT_MAX_QUEUE_DELAY_MS } from "../transaction/overload.js";
import { durationOption, nonNegativeIntOption, positiveIntOption } from "./options.js";

export interface LimitFlags {
  budget?: Array<[StoreName, number]>;
  maxLag?: number;
  maxQueueDelay?: number;
  retryAfter?: number;
  maxConnections?: number;
  maxConnectionsPerSource?: number;
  idleTimeout?: number;
  headerTimeout?: number;
  tlsHandshakeTimeout?: number;
  wsUpgradeTimeout?: number;
  retransmitToUnknown?: boolean;
  udpRecvBuffer?: number;
  udpSendBuffer?: number;
}

/** A size in octets: 4096, 512KiB, 8MiB. */
export function sizeOption(value: string): number {
  const size = parseSize(value);
  if (size === undefined || size <= 0)
    throw new InvalidArgumentError("expected a size such as 212992, 512KiB or 8MiB");
  return size;
}

/** --budget STORE=SIZE, repeatable. */
export function budgetOption(
  value: string,
  previous: Array<[StoreName, number]> = [],
): Array<[StoreName, number]> {
  const m = /^([a-z]+)=(.+)$/.exec(value.trim());
  const store = m?.[1] as StoreName | undefined;
  if (!m || !store || !STORE_NAMES.includes(store))
    throw new InvalidArgumentError(
      `expected STORE=SIZE with STORE one of ${STORE_NAMES.join(", ")}, e.g. --budget registrar=64MiB`,
    );
  const size = parseSize(m[2]!);
  if (size === undefined || size <= 0)
    throw new InvalidArgumentError(`expected a size such as 4096, 512KiB or 64MiB after "${store}="`);
  return [...previous, [store, size]];
}

const budgetDefaults = STORE_NAMES.map((s) => `${s} ${DEFAULT_BUDGETS[s] / 1024 / 1024}MiB`).join(", ");

export function limitOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--udp-recv-buffer <size>",
        "UDP receive buffer (SO_RCVBUF); the kernel caps it at net.core.rmem_max and the log says so (default 4MiB)",
      ).argParser(sizeOption),
    )
    .addOption(
      new Option(
        "--udp-send-buffer <size>",
        "UDP send buffer (SO_SNDBUF), capped at net.core.wmem_max (default 1MiB)",
      ).argParser(sizeOption),
    )
    .addOption(
      new Option(
        "--budget <store=size>",
        `memory budget of a store, repeatable; beyond it new requests get 503 (defaults: ${budgetDefaults})`,
      ).argParser(budgetOption),
    )
    .addOption(
      new Option(
        "--max-lag <duration>",
        'mean event-loop delay over a second above which new requests get 503 ("0" turns it off; default 1s)',
      ).argParser(durationOption),
    )
    .addOption(
      new Option(
        "--max-queue-delay <duration>",
        'how long a UDP request may wait unread in the receive queue before new requests get 503 ("0" turns it off; default 500ms, T1)',
      ).argParser(durationOption),
    )
    .addOption(
      new Option("--retry-after <s>", "Retry-After of the 503s sent under overload (default 5)").argParser(
        nonNegativeIntOption,
      ),
    )
    .addOption(
      new Option("--max-connections <n>", "TCP/TLS/WS connections open at once (default 10000)").argParser(
        positiveIntOption,
      ),
    )
    .addOption(
      new Option(
        "--max-connections-per-source <n>",
        "connections open at once from one address (default 256)",
      ).argParser(positiveIntOption),
    )
    .addOption(
      new Option(
        "--idle-timeout <duration>",
        "close a TCP/TLS connection without traffic for this long; CRLF keep-alives count (default 300s; 0: never)",
      ).argParser(durationOption),
    )
    .addOption(
      new Option(
        "--header-timeout <duration>",
        "close a TCP/TLS connection whose started message is not complete within this (default 32s; 0: never)",
      ).argParser(durationOption),
    )
    .addOption(
      new Option(
        "--tls-handshake-timeout <duration>",
        "close a TLS connection whose handshake is not done within this (default 10s; 0: never)",
      ).argParser(durationOption),
    )
    .addOption(
      new Option(
        "--ws-upgrade-timeout <duration>",
        "close a WS/WSS connection not upgraded within this (default 10s; 0: never)",
      ).argParser(durationOption),
    )
    .option(
      "--retransmit-to-unknown",
      "retransmit the mock's own UDP requests to addresses that never sent it a packet (default: sent once)",
    );
}

export function limitsFromFlags(flags: LimitFlags): LimitOptions {
  const connections = {
    ...(flags.maxConnections ? { maxConnections: flags.maxConnections } : {}),
    ...(flags.maxConnectionsPerSource ? { maxPerSource: flags.maxConnectionsPerSource } : {}),
    ...(flags.idleTimeout !== undefined ? { idleTimeoutMs: flags.idleTimeout } : {}),
    ...(flags.headerTimeout !== undefined ? { headerTimeoutMs: flags.headerTimeout } : {}),
    ...(flags.tlsHandshakeTimeout !== undefined ? { tlsHandshakeTimeoutMs: flags.tlsHandshakeTimeout } : {}),
    ...(flags.wsUpgradeTimeout !== undefined ? { wsUpgradeTimeoutMs: flags.wsUpgradeTimeout } : {}),
  };
  return {
    ...(flags.budget?.length ? { budgets: Object.fromEntries(flags.budget) } : {}),
    ...(flags.maxLag !== undefined ? { maxEventLoopLagMs: flags.maxLag } : {}),
    maxQueueDelayMs: flags.maxQueueDelay ?? DEFAULT_MAX_QUEUE_DELAY_MS,
    ...(flags.retryAfter !== undefined ? { retryAfterS: flags.retryAfter } : {}),
    connections,
    ...(flags.retransmitToUnknown ? { retransmitToUnknown: true } : {}),
    ...(flags.udpRecvBuffer || flags.udpSendBuffer
      ? {
          udpBuffers: {
            ...(flags.udpRecvBuffer ? { receive: flags.udpRecvBuffer } : {}),
            ...(flags.udpSendBuffer ? { send: flags.udpSendBuffer } : {}),
          },
        }
      : {}),
  };
}
