/**
 * The UAS's part of a shutdown: INVITEs still waiting for their final
 * response get 503 with Retry-After (RFC 3261 21.5.4), then every timer stops.
 */
import type { ServerCore } from "./core.js";

/**
 * Shutdown answers an INVITE still waiting for its final response with 503
 * (RFC 3261 21.5.4: the server is temporarily unable to process the request,
 * for maintenance) and Retry-After in seconds: short, as a mock is usually
 * restarted at once. 480 would blame the callee (21.4.18), not the server.
 */
export const SHUTDOWN_RETRY_AFTER_S = 5;

/**
 * `all` false: only the INVITEs whose final answer is not on its way
 * (ringing until CANCEL, held by a fault); true (the drain's end): every
 * one. Returns how many were answered.
 */
export function answerOnShutdown(core: ServerCore, all: boolean): number {
  let n = 0;
  for (const tx of core.layer.pendingInvites()) {
    const known = core.contexts.get(tx);
    const p = known?.pending;
    if (!all && p && !p.ringing && !known?.dropped) continue;
    const ctx = core.contexts.of(tx);
    ctx.cancelPending();
    ctx.awaiting = undefined;
    core.send(tx, {
      status: 503,
      headers: [["Retry-After", String(SHUTDOWN_RETRY_AFTER_S)]],
      warning: "sipmock is shutting down",
    });
    ctx.shutdownAnswered = true;
    n++;
  }
  return n;
}

/** Shutdown 503s not acknowledged yet (their transaction still in Completed, 17.2.1). */
export function unacknowledgedShutdownAnswers(core: ServerCore): number {
  let n = 0;
  for (const ctx of core.contexts.all()) if (ctx.shutdownAnswered && ctx.tx.state === "completed") n++;
  return n;
}

/** Scenario `then:` requests not sent yet are forgotten (reset, a new scenario, shutdown). */
export function cancelFollowUps(core: ServerCore): void {
  core.options.followUps?.cancelAll();
  for (const ctx of core.contexts.all()) ctx.followUps = undefined;
}

/** Every pending plan, subscription and dialog timer stops; nothing more goes on the wire. */
export function closeServer(core: ServerCore): void {
  core.closing = true;
  for (const ctx of core.contexts.all()) ctx.shutdownAnswered = false;
  cancelFollowUps(core);
  core.subscriptions.clear();
  for (const ctx of core.contexts.all()) ctx.cancelPending();
  core.dialogs.clear();
  core.invites.clear();
}
