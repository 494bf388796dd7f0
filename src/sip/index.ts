export * from "./header-names.js";
export { HeaderParseError } from "./headers/errors.js";
export { parseNameAddr } from "./headers/name-addr.js";
export {
  parseCallId,
  parseContentLength,
  parseCSeq,
  parseDeltaSeconds,
  parseMaxForwards,
} from "./headers/scalars.js";
export { MAGIC_COOKIE, parseViaParm, parseViaValue } from "./headers/via.js";
export * from "./message.js";
export * from "./parser.js";
export * from "./serializer.js";
export * from "./stream-framer.js";
export * from "./tokens.js";
export * from "./uri.js";
