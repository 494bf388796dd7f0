/**
 * The `then:` executor: a rule's follow-up requests, each sent `afterMs`
 * after the rule's final answer went out, through what the UA offers
 * (FollowUpActions). The UA calls it through its FollowUpRunner port.
 */
import type { FollowUp, FollowUpActions, FollowUpRunner, FollowUpTarget, SentOutcome } from "../ua/ports.js";

export class FollowUpExecutor implements FollowUpRunner {
  private readonly timers = new Set<{ cancel(): void }>();

  run(
    list: readonly FollowUp[],
    target: FollowUpTarget,
    actions: FollowUpActions,
    report: (followUp: FollowUp, outcome: string) => void,
  ): void {
    for (const f of list) {
      const timer = actions.schedule(f.afterMs, () => {
        this.timers.delete(timer);
        sendFollowUp(f, target, actions).then(
          (what) => report(f, what),
          (e: Error) => report(f, `not sent: ${e.message}`),
        );
      });
      this.timers.add(timer);
    }
  }

  cancelAll(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }
}

/** Sends one follow-up; resolves to what the report says (its answers). */
async function sendFollowUp(f: FollowUp, target: FollowUpTarget, actions: FollowUpActions): Promise<string> {
  const { callId, aor } = target;
  switch (f.send) {
    case "BYE": {
      const n = actions.hangUp(callId, "scripted by the scenario (then: BYE)");
      if (n === 0) throw new Error(`no dialog with Call-ID ${callId}`);
      return `sent in ${n} dialog(s) of ${callId}`;
    }
    case "re-INVITE":
      return summarize(
        await actions.reinvite(callId, {
          direction: f.direction,
          ...(f.codecs ? { codecs: f.codecs } : {}),
        }),
      );
    case "UPDATE":
      return summarize(await actions.update(callId));
    case "INVITE": {
      const r = await actions.call(aor, {
        ...(f.from !== undefined ? { from: f.from } : {}),
        ...(f.cancelAfterMs !== undefined ? { cancelAfterMs: f.cancelAfterMs } : {}),
        ...(f.hangUpAfterMs !== undefined ? { hangUpAfterMs: f.hangUpAfterMs } : {}),
      });
      return `${r.status} ${r.reason} (Call-ID ${r.callId})`;
    }
    case "NOTIFY":
      return summarize(
        await actions.notifyMessageWaiting(aor, {
          waiting: f.messagesWaiting,
          ...(f.newMessages !== undefined ? { newMessages: f.newMessages } : {}),
          ...(f.oldMessages !== undefined ? { oldMessages: f.oldMessages } : {}),
        }),
      );
    case "OPTIONS":
      return summarize(await actions.ping(aor));
    case "DTMF":
      await actions.sendDtmf(callId, f.digits);
      return `${f.digits} sent as RFC 4733 telephone-events in ${callId}`;
  }
}

function summarize(outcomes: readonly SentOutcome[]): string {
  return outcomes.map((o) => `${o.status} ${o.reason}`).join(", ");
}
