/**
 * Requests the mock sends to registered contacts outside any dialog:
 * NOTIFY for message waiting (RFC 3842), in the user's subscriptions or
 * unsolicited, and OPTIONS pings (11.1), once or as a keep-alive.
 */
import type { Scheduler, TimerHandle } from "../../transaction/scheduler.js";
import { newTag } from "../../transaction/transaction-layer.js";
import { messageAccount, messageSummary } from "../events.js";
import { type LocalIdentity, localUri } from "../local-context.js";
import { registeredFlow } from "../request-target.js";
import { newCallId, type OutgoingRequest } from "../uac.js";
import {
  type ContactOutcome,
  type MessageWaiting,
  MockRequestError,
  type MockRequestsDependencies,
} from "./types.js";

export class ContactRequests {
  constructor(private readonly deps: MockRequestsDependencies) {}

  /**
   * Message waiting (RFC 3842): a NOTIFY with an
   * application/simple-message-summary body in every message-summary
   * subscription of the user; without one, an unsolicited NOTIFY to the
   * registered contacts, as voicemail servers do for phones that never
   * subscribe.
   */
  async notifyMessageWaiting(aorOrUser: string, mwi: MessageWaiting): Promise<ContactOutcome[]> {
    const subs = this.deps.subscriptionsFor(userOf(aorOrUser), "message-summary");
    const now = this.deps.now ?? Date.now;
    if (subs.length > 0) {
      return Promise.all(
        subs.map(async (sub) => ({
          contact: sub.target,
          ...(await this.deps.notifyIn(
            sub,
            `active;expires=${Math.max(0, Math.round((sub.expiresAt - now()) / 1000))}`,
            {
              type: "application/simple-message-summary",
              body: messageSummary(mwi, messageAccount(this.deps.registrar, sub.entity)),
            },
          )),
        })),
      );
    }
    // RFC 6665 8.2.1 (Table 3): a NOTIFY carries a Contact.
    return this.toEveryContact(aorOrUser, "NOTIFY", (aor, id) => ({
      contact: `<${localUri(id, "sipmock")}>`,
      headers: [
        ["Event", "message-summary"],
        ["Subscription-State", "active"],
      ],
      body: {
        contentType: "application/simple-message-summary",
        content: messageSummary(mwi, messageAccount(this.deps.registrar, aor)),
      },
    }));
  }

  /**
   * OPTIONS to every registered contact every `intervalMs` (a keep-alive,
   * as registrars behind NAT do); `unanswered` hears of contacts that did
   * not answer. Returns the stop function.
   */
  keepAlive(intervalMs: number, unanswered: (aor: string, outcome: ContactOutcome) => void): () => void {
    const scheduler: Scheduler = this.deps.scheduler;
    let timer: TimerHandle | undefined;
    let stopped = false;
    const tick = () => {
      for (const { aor } of this.deps.registrar.snapshot()) {
        this.ping(aor).then(
          (outcomes) => {
            for (const o of outcomes) if (!o.response) unanswered(aor, o);
          },
          () => {},
        );
      }
      if (!stopped) timer = scheduler.schedule(intervalMs, tick);
    };
    timer = scheduler.schedule(intervalMs, tick);
    return () => {
      stopped = true;
      timer?.cancel();
    };
  }

  /** OPTIONS to every registered contact (11.1): a keep-alive ping whose answers the journal records. */
  ping(aorOrUser: string): Promise<ContactOutcome[]> {
    return this.toEveryContact(aorOrUser, "OPTIONS", () => ({
      headers: [["Accept", "application/sdp"]],
    }));
  }

  private async toEveryContact(
    aorOrUser: string,
    method: string,
    extra: (aor: string, id: LocalIdentity) => Pick<OutgoingRequest, "headers" | "body" | "contact">,
  ): Promise<ContactOutcome[]> {
    const found = this.deps.registrar.lookup(aorOrUser);
    const targets = found.flatMap(({ aor, bindings }) =>
      bindings.filter((b) => b.flow).map((b) => ({ aor, binding: b, flow: b.flow! })),
    );
    if (targets.length === 0) throw new MockRequestError(`${aorOrUser} is not registered`, "not-found");
    const { natMode, listenerOn } = this.deps;
    return Promise.all(
      targets.map(async ({ aor, binding, flow: registeredOn }) => {
        const flow = registeredFlow(registeredOn, binding.uri, binding.path, natMode, listenerOn);
        const id = this.deps.identity(flow);
        const outcome = await this.deps.uac.request(flow, {
          method,
          requestUri: binding.uri,
          ...(binding.path ? { routeSet: binding.path } : {}),
          from: `<sip:sipmock@${id.host}>;tag=${newTag()}`,
          to: `<${aor}>`,
          callId: newCallId(id.host),
          cseq: 1,
          ...extra(aor, id),
        });
        return { contact: binding.uri, ...outcome };
      }),
    );
  }
}

function userOf(aorOrUser: string): string {
  const m = /^sips?:([^@;>]+)@/i.exec(aorOrUser.trim());
  return m ? m[1]! : aorOrUser.trim();
}
