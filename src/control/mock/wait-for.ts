/**
 * waitFor: the first request matching a pattern, already journaled or
 * arriving within the timeout; on timeout a VerificationError naming the
 * closest requests. Pending waits are rejected when the mock closes.
 */
import { compileMatch } from "../../scenario/matcher.js";
import { isMessage, type Journal, type JournalEntry, JournalMessage } from "../journal.js";
import {
  checkPattern,
  factsOf,
  findRequests,
  nearMisses,
  type RequestPattern,
  VerificationError,
} from "../verify.js";

export function waitForRequest(
  journal: Journal,
  pattern: RequestPattern,
  timeout: number,
  waiting: Set<(e: Error) => void>,
): Promise<JournalEntry> {
  const p = checkPattern(pattern);
  const found = findRequests(journal, p)[0];
  if (found) return Promise.resolve(found);
  return new Promise<JournalEntry>((resolve, reject) => {
    const test = compileMatch(p);
    const cancel = (e: Error) => {
      clearTimeout(timer);
      stop();
      waiting.delete(cancel);
      reject(e);
    };
    waiting.add(cancel);
    const timer = setTimeout(() => {
      waiting.delete(cancel);
      stop();
      reject(timedOut(journal, p, timeout));
    }, timeout);
    const stop = journal.subscribe((e) => {
      if (!isMessage(e) || e.retransmission) return;
      const f = factsOf(e, journal);
      if (f && test(f)) {
        clearTimeout(timer);
        stop();
        waiting.delete(cancel);
        // As plain data, read once the message is handled (its rule, a fault that dropped it).
        queueMicrotask(() => resolve(e instanceof JournalMessage ? e.toJSON() : e));
      }
    });
  });
}

function timedOut(journal: Journal, p: RequestPattern, timeout: number): VerificationError {
  const lines = nearMisses(journal, p)
    .slice(0, 3)
    .map(
      (m) => `  #${m.entry.id} ${m.entry.method} (Call-ID ${m.entry.callId}): ${m.differences.join("; ")}`,
    );
  return new VerificationError(
    `no request matching ${JSON.stringify(p)} within ${timeout} ms${lines.length ? `; closest:\n${lines.join("\n")}` : ""}`,
  );
}
