/**
 * The SIP methods of RFC 3261 and its extensions (IANA "Session Initiation
 * Protocol (SIP) Parameters", Methods and Response Codes registry):
 * INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER (RFC 3261), PRACK (RFC 3262),
 * UPDATE (RFC 3311), INFO (RFC 6086), MESSAGE (RFC 3428), SUBSCRIBE and
 * NOTIFY (RFC 6665), PUBLISH (RFC 3903), REFER (RFC 3515). The order is the
 * one the mock's Allow header lists them in.
 */
export const SIP_METHODS = [
  "INVITE",
  "ACK",
  "CANCEL",
  "BYE",
  "OPTIONS",
  "REGISTER",
  "PRACK",
  "UPDATE",
  "INFO",
  "MESSAGE",
  "SUBSCRIBE",
  "NOTIFY",
  "PUBLISH",
  "REFER",
] as const;

export type SipMethod = (typeof SIP_METHODS)[number];

const REGISTERED: ReadonlySet<string> = new Set(SIP_METHODS);

/** Whether `method` is a registered method (case-sensitive, as methods are: RFC 3261 7.1). */
export function isRegisteredMethod(method: string): method is SipMethod {
  return REGISTERED.has(method);
}
