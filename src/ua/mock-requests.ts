/**
 * Requests the mock sends on its own, the other half of testing a
 * softphone: BYE, re-INVITE (hold, resume), UPDATE, session refreshes
 * (RFC 4028) in a dialog (requests/in-dialog.ts); INVITE to a registered
 * client at its Contact (requests/call.ts); NOTIFY for message waiting
 * (RFC 3842) and OPTIONS pings (requests/contacts.ts). Each goes through a
 * client transaction (RFC 3261 17.1) via the UAC.
 */
import type { Dialog } from "./dialogs.js";
import { Caller } from "./requests/call.js";
import { ContactRequests } from "./requests/contacts.js";
import { InDialogRequests } from "./requests/in-dialog.js";
import type {
  CallOptions,
  CallResult,
  ContactOutcome,
  MediaDirection,
  MessageWaiting,
  MockRequestsDependencies,
  ReinviteOptions,
} from "./requests/types.js";
import type { ClientOutcome } from "./uac.js";

export {
  allowsUpdate,
  type CallOptions,
  type CallResult,
  type ContactOutcome,
  codecsNamed,
  type MediaDirection,
  type MessageWaiting,
  MockRequestError,
  type MockRequestsDependencies,
  type ReinviteOptions,
  type UacMedia,
} from "./requests/types.js";

export class MockRequests {
  private readonly inDialog: InDialogRequests;
  private readonly caller: Caller;
  private readonly contacts: ContactRequests;

  constructor(deps: MockRequestsDependencies) {
    this.inDialog = new InDialogRequests(deps);
    this.caller = new Caller(deps, this.inDialog);
    this.contacts = new ContactRequests(deps);
  }

  /** Ends a dialog from our side (RFC 3261 15.1.1); `unconfirmed`: without waiting for the ACK. */
  bye(dialog: Dialog, why: string, unconfirmed = false): boolean {
    return this.inDialog.bye(dialog, why, unconfirmed);
  }

  /** Hangs up every dialog of a call; how many BYEs were sent (or wait for an ACK). */
  hangUp(callId: string, why: string): number {
    return this.inDialog.hangUp(callId, why);
  }

  /** A re-INVITE with a new offer in every dialog of the call (RFC 3261 14.1). */
  reinvite(callId: string, offer: ReinviteOptions | MediaDirection = {}): Promise<ClientOutcome[]> {
    return this.inDialog.reinvite(callId, offer);
  }

  /** An UPDATE without a body in every dialog of the call (RFC 3311). */
  update(callId: string): Promise<ClientOutcome[]> {
    return this.inDialog.update(callId);
  }

  /**
   * RFC 4028 10: the refresher refreshes at half the interval; the other
   * side sends a BYE slightly before the session expiration.
   * `sessionExpires` is the value of the Session-Expires header of the 2xx.
   */
  armSessionTimer(dialog: Dialog, sessionExpires: string | undefined, mockRefreshes: boolean): void {
    this.inDialog.armSessionTimer(dialog, sessionExpires, mockRefreshes);
  }

  /** INVITE to the most recently registered contact of the AOR (requests/call.ts). */
  call(aorOrUser: string, options: CallOptions = {}): Promise<CallResult> {
    return this.caller.call(aorOrUser, options);
  }

  /** Message waiting (RFC 3842) in the user's subscriptions, else to its registered contacts. */
  notifyMessageWaiting(aorOrUser: string, mwi: MessageWaiting): Promise<ContactOutcome[]> {
    return this.contacts.notifyMessageWaiting(aorOrUser, mwi);
  }

  /** OPTIONS to every registered contact every `intervalMs`; returns the stop function. */
  keepAlive(intervalMs: number, unanswered: (aor: string, outcome: ContactOutcome) => void): () => void {
    return this.contacts.keepAlive(intervalMs, unanswered);
  }

  /** OPTIONS to every registered contact (11.1). */
  ping(aorOrUser: string): Promise<ContactOutcome[]> {
    return this.contacts.ping(aorOrUser);
  }
}
