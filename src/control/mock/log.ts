/** The mock's log lines: a timestamp, the peer of a flow, one line per message. */
import { destinationOf, type Flow, hostPort } from "../../transport/types.js";
import { type Logger, printable } from "../logger.js";
import type { MessageSummary } from "../message-summary.js";
import type { Direction } from "./options.js";

export function stamp(): string {
  return new Date().toISOString();
}

/** The other end of a message: for one sent, where it went (replyTo over UDP, 18.2.2). */
export function peer(flow: Flow, dir: Direction = "in"): string {
  const to = dir === "out" ? destinationOf(flow) : flow.remote;
  return `${flow.transport}:${hostPort(to.address, to.port)}`;
}

/** Whether the log has a line per message (info and debug): else no summary need be made. */
export function logsMessages(logger: Logger): boolean {
  return logger.level !== "error" && logger.level !== "warn";
}

/** "<- udp:1.2.3.4:5060 INVITE call-id" (info), and the message itself when verbose. */
export function logLine(
  logger: Logger,
  dir: Direction,
  flow: Flow,
  s: MessageSummary,
  bytes: Buffer,
  retrans: boolean,
): void {
  if (!logsMessages(logger)) return;
  const arrow = dir === "in" ? "<-" : "->";
  const extra = retrans ? " (retransmission)" : "";
  const what = `${s.what}${s.callId ? ` ${s.callId}` : ""}`;
  logger.info(`${stamp()} ${arrow} ${peer(flow, dir)} ${printable(what)}${extra}`);
  if (logger.verbose) logger.info(printable(bytes.toString("latin1").replace(/\r\n$/, ""), true));
}
