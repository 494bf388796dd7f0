/**
 * Wires the UAS's parts together: dialogs, media, registrar, the client
 * side (UAC) and the mock's own requests, each told how to reach the others.
 */
import { DialogStore } from "../dialogs.js";
import { MediaCalls } from "../media-calls.js";
import { MockRequests } from "../mock-requests.js";
import type { FollowUpActions } from "../ports.js";
import { DEFAULT_REGISTRAR, Registrar } from "../registrar.js";
import { bindingFlow, targetFlow } from "../request-target.js";
import { UserAgentClient } from "../uac.js";
import type { ServerCore } from "./core.js";
import { answerPendingReInvites } from "./invite.js";

/** Builds the core's stores and clients; `onDigit` is asked when a DTMF digit arrives. */
export function setupServer(core: ServerCore, onDigit: (callId: string) => void): void {
  const options = core.options;
  core.dialogs = new DialogStore(options.scheduler, options.timers, options.budgets?.dialogs);
  core.media = createMedia(core, onDigit);
  core.registrar = new Registrar(
    { ...DEFAULT_REGISTRAR, ...options.registrar },
    options.now ?? Date.now,
    options.budgets?.registrar,
  );
  core.dialogs.onEnded = (dialog) => {
    // The call's media ends with its last dialog (this one is already forgotten).
    if (core.dialogs.countOf(dialog.callId) === 0) core.endMedia(dialog.callId);
    if (core.closing) return;
    answerPendingReInvites(core, dialog);
  };
  core.uac = new UserAgentClient({
    layer: () => core.layer,
    identity: (flow) => core.identityOfFlow(flow),
    sendRaw: (flow, bytes) => options.wire.send(flow, bytes),
    scheduler: options.scheduler,
    route: (flow, uri, direct) =>
      (direct ? bindingFlow : targetFlow)(flow, uri, options.forceRport === true, options.listenerOn),
    ...(options.mayRetransmit ? { mayRetransmit: options.mayRetransmit } : {}),
    ...(options.sentOnce ? { sentOnce: options.sentOnce } : {}),
    ...(options.reliableFlow ? { reliableFlow: options.reliableFlow } : {}),
    ...(options.server ? { userAgent: options.server } : {}),
  });
  core.requests = createRequests(core);
  core.followUpActions = followUpActions(core);
}

/** RTP sessions and DTMF digits per call. */
function createMedia(core: ServerCore, onDigit: (callId: string) => void): MediaCalls {
  const options = core.options;
  const media = new MediaCalls(options.mediaEngine, options.symmetricRtp === true, {
    digit: (callId, d) => {
      core.events.dtmf?.(callId, d);
      onDigit(callId);
    },
    closed: (callId, stats, info) => {
      core.invites.delete(callId);
      core.events.mediaClosed?.(callId, stats, info);
    },
    error: (e) => core.events.note?.(`media: ${e.message}`),
    inactive: (callId, ms) => {
      const why = `no RTP received for ${ms / 1000} s`;
      core.events.note?.(`${callId}: ${why}: hanging up`);
      core.endMedia(callId);
      core.requests.hangUp(callId, why);
    },
  });
  media.inactivityMs = options.rtpInactivityMs ?? 0;
  return media;
}

/** Requests the mock sends itself (BYE, re-INVITE, UPDATE, NOTIFY, OPTIONS, INVITE). */
function createRequests(core: ServerCore): MockRequests {
  const options = core.options;
  return new MockRequests({
    now: options.now ?? Date.now,
    uac: core.uac,
    dialogs: core.dialogs,
    registrar: core.registrar,
    scheduler: options.scheduler,
    capabilities: options.capabilities,
    mediaPort: (callId?: string) => core.mediaPort(callId),
    offerable: (codecs) => {
      if (!core.mediaOn()) return codecs;
      const ok = codecs.filter((c) => core.media.codecs().some((m) => m.name === c.name));
      return ok.length > 0 ? ok : core.media.codecs();
    },
    media: {
      prepare: async (callId, flow, directive) => {
        if (!core.mediaOn()) return false;
        await core.media.prepare(callId, core.rtpBindAddress(flow));
        core.media.direct(callId, directive ?? {});
        return core.media.portOf(callId) !== undefined;
      },
      answered: (callId, offer, answer, final) => core.media.negotiated(callId, offer, answer, false, final),
      close: (callId) => core.endMedia(callId),
    },
    identity: (flow) => core.identityOfFlow(flow),
    noAnswerMs: options.ringTimeoutMs,
    // A re-INVITE is answered at once by any UA; one held in Proceeding
    // (blocking every other INVITE of the dialog, 14.1) is cancelled sooner.
    inDialogNoAnswerMs: Math.min(options.ringTimeoutMs, 64 * options.timers.t1),
    natMode: options.forceRport === true,
    ...(options.listenerOn ? { listenerOn: options.listenerOn } : {}),
    subscriptionsFor: (user, pkg) => core.subscriptions.of(user, pkg),
    notifyIn: (sub, state, content) => core.subscriptions.notify(sub, state, content),
  });
}

/** What a `then:` follow-up can send, for the scenario's executor. */
function followUpActions(core: ServerCore): FollowUpActions {
  return {
    schedule: (ms, fn) => core.options.scheduler.schedule(ms, fn),
    hangUp: (callId, why) => core.requests.hangUp(callId, why),
    reinvite: (callId, offer) => core.requests.reinvite(callId, offer),
    update: (callId) => core.requests.update(callId),
    call: (aor, callOptions) => core.requests.call(aor, callOptions),
    notifyMessageWaiting: (aor, mwi) => core.requests.notifyMessageWaiting(aor, mwi),
    ping: (aor) => core.requests.ping(aor),
    sendDtmf: (callId, digits) => core.media.sendDtmf(callId, digits),
  };
}
