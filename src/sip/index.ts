export * from "./header-names.js";
export { acceptsMediaType } from "./headers/accept.js";
export { type AuthHeader, parseAuthHeader } from "./headers/credentials.js";
export { HeaderParseError, tryParse } from "./headers/errors.js";
export {
  type EventHeader,
  parseEvent,
  parseSubscriptionState,
  type SubscriptionState,
} from "./headers/event.js";
export { parseNameAddr } from "./headers/name-addr.js";
export { listsOptionTag, parseOptionTags } from "./headers/option-tags.js";
export { splitValueParams, type ValueWithParams } from "./headers/params.js";
export { parseRAck, parseRSeq, type RAck } from "./headers/reliable.js";
export {
  parseCallId,
  parseContentLength,
  parseCSeq,
  parseDeltaSeconds,
  parseMaxForwards,
} from "./headers/scalars.js";
export { parseMinSE, parseSessionExpires, type SessionExpires } from "./headers/session-timer.js";
export { MAGIC_COOKIE, parseViaParm, parseViaValue } from "./headers/via.js";
export * from "./message.js";
export * from "./methods.js";
export * from "./parser.js";
export * from "./serializer.js";
export * from "./stream-framer.js";
export * from "./tokens.js";
export * from "./uri.js";
