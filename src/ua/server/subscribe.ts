/**
 * SUBSCRIBE and the NOTIFYs of a subscription (RFC 6665): accept, answer
 * 200 with Expires, NOTIFY at once and when it ends; Expires 0 ends it.
 */
import { leadingDeltaSeconds } from "../../sip/headers/lenient.js";
import type { ParsedRequest } from "../../sip/message.js";
import { ITEM_OVERHEAD } from "../../transaction/budget.js";
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import { entityOf, eventBody, eventPackage, messageAccount, type Subscription } from "../events.js";
import { localUri } from "../local-context.js";
import { addrSpecOf, type ClientOutcome } from "../uac.js";
import type { ServerCore } from "./core.js";
import { toWithTag } from "./invite.js";

const DEFAULT_SUBSCRIPTION_S = 3600;
export const MAX_SUBSCRIPTION_S = 86_400;
export const MAX_SUBSCRIPTIONS = 10_000;

/** The request's Expires in seconds (its leading digits, as peers send "3600;x" too), or `fallback` when it has none. */
export function requestedExpires(req: ParsedRequest, fallback: number): number {
  const value = req.headers.get("Expires");
  return (value === undefined ? undefined : leadingDeltaSeconds(value)) ?? fallback;
}

/** An unsubscribe (RFC 6665 4.1.2.3): a SUBSCRIBE within a subscription's dialog with Expires: 0. */
export function isUnsubscribe(req: ParsedRequest): boolean {
  return req.method === "SUBSCRIBE" && !!req.core.to.tag && requestedExpires(req, -1) === 0;
}

/** Active subscriptions (RFC 6665), by Call-ID and tags, and the NOTIFYs they send. */
export class Subscriptions {
  private readonly byKey = new Map<string, Subscription>();

  constructor(private readonly core: ServerCore) {}

  /** The subscriptions to a user's `pkg` events (the mock's unsolicited NOTIFYs go in them). */
  of(user: string, pkg: string): Subscription[] {
    return [...this.byKey.values()].filter(
      (sub) => sub.pkg === pkg && /^sip:([^@]*)@/.exec(sub.entity)?.[1] === user,
    );
  }

  /** The subscription a request within its dialog belongs to (none without a To tag). */
  heldFor(request: ParsedRequest): Subscription | undefined {
    const { callId, to, from } = request.core;
    return to.tag ? this.byKey.get(subscriptionKey(callId, to.tag, from.tag)) : undefined;
  }

  /**
   * A SUBSCRIBE's final response went out, or its transaction ended: when
   * it was the unsubscribe let through a spent budget, the next may be.
   */
  unsubscribeEnded(request: ParsedRequest): void {
    const sub = this.heldFor(request);
    if (sub?.unsubscribing === request.core.cseq.seq) sub.unsubscribing = undefined;
  }

  /**
   * RFC 6665 4.2.1.4: a 2xx to an unsubscribe, whoever answered it (a
   * scenario rule too), ends the subscription with a final NOTIFY.
   */
  endHeld(request: ParsedRequest): void {
    const sub = this.heldFor(request);
    if (sub) this.end(sub, true, "timeout");
  }

  /** RFC 6665 4.2.1: accept, answer 200 with Expires, NOTIFY at once; Expires 0 ends it. */
  handle(tx: ServerTransaction): void {
    const core = this.core;
    const req = tx.request;
    const pkg = eventPackage(req);
    // 6665 4.2.1.2 / 8.3.2: an unknown package gets 489 with Allow-Events.
    if (!pkg || !core.capabilities().allowEvents.includes(pkg)) {
      core.send(tx, { status: 489, warning: `event package ${pkg ?? "(none)"} is not supported` });
      return;
    }
    const expires = Math.min(requestedExpires(req, DEFAULT_SUBSCRIPTION_S), MAX_SUBSCRIPTION_S);
    const target = addrSpecOf(req.headers.get("Contact"), req.uri.raw);
    const sub = this.findOrAdd(tx, pkg, target);
    if (!sub) return;
    sub.target = target;
    sub.cancel?.();
    core.send(tx, {
      status: 200,
      headers: [
        ["Expires", String(expires)],
        ["Contact", `<${localUri(core.identity(tx), "sipmock")}>`],
      ],
    });
    if (expires === 0) {
      // 6665 4.2.1.4: an unsubscribe (or fetch) gets a final NOTIFY.
      this.end(sub, true, "timeout");
      return;
    }
    this.activate(sub, pkg, expires);
  }

  /** The dialog's subscription, or a new one; undefined (answered 503) when the table is full. */
  private findOrAdd(tx: ServerTransaction, pkg: string, target: string): Subscription | undefined {
    const core = this.core;
    const req = tx.request;
    const key = subscriptionKey(req.core.callId, tx.toTag, req.core.from.tag);
    const known = this.byKey.get(key);
    if (known) return known;
    const sub: Subscription = {
      key,
      pkg,
      event: req.headers.get("Event")!,
      entity: entityOf(req),
      target,
      from: toWithTag(req, tx.toTag),
      to: req.headers.get("From")!,
      callId: req.core.callId,
      routeSet: req.headers.getAll("Record-Route"),
      flow: tx.flow,
      cseq: 0,
      expiresAt: 0,
    };
    if (this.byKey.size >= MAX_SUBSCRIPTIONS) {
      // Answered, not dropped: nobody else's subscription is ended to make room.
      core.options.overload?.refused("subscriptions");
      core.send(tx, {
        status: 503,
        headers: [["Retry-After", String(core.options.overload?.retryAfterS ?? 5)]],
        warning: `${MAX_SUBSCRIPTIONS} subscriptions are active`,
      });
      return undefined;
    }
    sub.cost = subscriptionCost(sub);
    core.options.budgets?.subscriptions.charge(sub.cost);
    this.byKey.set(key, sub);
    return sub;
  }

  /** The first NOTIFY (active, with the package's body) and the expiry timer. */
  private activate(sub: Subscription, pkg: string, expires: number): void {
    const core = this.core;
    sub.expiresAt = (core.options.now ?? Date.now)() + expires * 1000;
    void this.notify(
      sub,
      `active;expires=${expires}`,
      eventBody(
        pkg,
        sub.entity,
        core.options.scenario().messageSummary,
        // Only message-summary names an account: no registrar lookup for other packages.
        pkg === "message-summary" ? messageAccount(core.registrar, sub.entity) : undefined,
      ),
    );
    const timer = core.options.scheduler.schedule(expires * 1000, () => this.end(sub, true, "timeout"));
    sub.cancel = () => timer.cancel();
  }

  /** Ends a subscription the mock holds (once: an ended one is not notified again). */
  private end(sub: Subscription, notify: boolean, reason = "timeout"): void {
    if (this.byKey.get(sub.key) !== sub) return;
    sub.cancel?.();
    this.byKey.delete(sub.key);
    this.core.options.budgets?.subscriptions.release(sub.cost ?? 0);
    if (notify) void this.notify(sub, `terminated;reason=${reason}`, undefined);
  }

  /** A NOTIFY in the subscription's dialog, through a client transaction (RFC 3261 17.1.2). */
  async notify(
    sub: Subscription,
    state: string,
    content: { type: string; body: string } | undefined,
  ): Promise<ClientOutcome> {
    sub.cseq += 1;
    const id = this.core.identityOfFlow(sub.flow);
    const outcome = await this.core.uac.request(sub.flow, {
      method: "NOTIFY",
      requestUri: sub.target,
      from: sub.from,
      to: sub.to,
      callId: sub.callId,
      cseq: sub.cseq,
      routeSet: sub.routeSet,
      contact: `<${localUri(id, "sipmock")}>`,
      headers: [
        ["Event", sub.event],
        ["Subscription-State", state],
      ],
      ...(content ? { body: { contentType: content.type, content: content.body } } : {}),
    });
    // RFC 6665 4.2.2: a NOTIFY answered 481 (or timed out) ends the subscription.
    if (outcome.status === 481 || outcome.status === 408) {
      if (this.byKey.get(sub.key) === sub) this.end(sub, false);
    }
    return outcome;
  }

  /** Shutdown: every expiry timer stops, the budget is given back. */
  clear(): void {
    for (const s of this.byKey.values()) s.cancel?.();
    this.byKey.clear();
    this.core.options.budgets?.subscriptions.reset();
  }
}

/** Octets a subscription costs: its strings and a fixed overhead. */
function subscriptionCost(sub: Subscription): number {
  let n = ITEM_OVERHEAD.subscriptions + sub.key.length + sub.event.length + sub.entity.length;
  n += sub.target.length + sub.from.length + sub.to.length + sub.callId.length;
  for (const r of sub.routeSet) n += r.length;
  return n;
}

/** A subscription's key: its dialog's Call-ID, our tag, the subscriber's. */
function subscriptionKey(callId: string, toTag: string, fromTag: string | undefined): string {
  return `${callId}|${toTag}|${fromTag ?? ""}`;
}
