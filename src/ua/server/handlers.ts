/**
 * The built-in behaviour per method, as a table: what answers a request
 * when no scenario rule did (the "any other user" default).
 */
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import type { ServerCore } from "./core.js";
import { handleInvite } from "./invite.js";
import {
  handleBye,
  handleInfo,
  handleMessage,
  handleOptions,
  handleRegister,
  handleUnknown,
  handleUpdate,
} from "./methods.js";
import { handlePrack } from "./prack.js";
import { handlePublish } from "./publish.js";
import { handleRefer } from "./refer.js";

export type MethodHandler = (core: ServerCore, tx: ServerTransaction) => void;

const BUILT_IN: Readonly<Record<string, MethodHandler>> = {
  INVITE: handleInvite,
  UPDATE: handleUpdate,
  INFO: handleInfo,
  PRACK: handlePrack,
  SUBSCRIBE: (core, tx) => core.subscriptions.handle(tx),
  PUBLISH: handlePublish,
  REFER: handleRefer,
  MESSAGE: handleMessage,
  REGISTER: handleRegister,
  OPTIONS: handleOptions,
  BYE: handleBye,
};

/** The built-in behaviour for the request's method (405/501 for one without). */
export function builtIn(core: ServerCore, tx: ServerTransaction): void {
  const handler = Object.hasOwn(BUILT_IN, tx.request.method) ? BUILT_IN[tx.request.method]! : handleUnknown;
  handler(core, tx);
}
