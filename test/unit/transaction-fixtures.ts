/**
 * What the stored-transaction tests share: RFC 3261 timers scaled as the
 * defaults (T1 500 ms, so Timer J is 32 s), a UDP flow from a peer, and SIP
 * text written with \n turned into the wire's CRLF.
 */
import type { Flow } from "../../src/transport/types.js";

export const T = { t1: 500, t2: 4000, t4: 5000 };
/** Timer J (and L): 64*T1 (RFC 3261 17.2.2). */
export const J = 64 * T.t1;

export const udp: Flow = {
  transport: "udp",
  local: { address: "127.0.0.1", port: 5060 },
  remote: { address: "10.0.0.1", port: 5062 },
};

export const crlf = (s: string) => Buffer.from(s.replace(/\n/g, "\r\n"), "latin1");
