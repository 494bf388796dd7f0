/**
 * Server side of RFC 3261 18.2.1 and RFC 3581 section 4: the top Via gets
 * "received" when its sent-by host is not the packet's source address, and a
 * valueless "rport" gets the source port (and then always a "received").
 */
import { fillValuelessParam, withoutHeaderParam } from "../sip/headers/params.js";
import { parseViaParm } from "../sip/headers/via.js";
import type { Headers } from "../sip/message.js";
import { splitTopLevel } from "../sip/tokens.js";
import { type Endpoint, formatHost } from "./types.js";

export function annotateTopVia(headers: Headers, source: Endpoint): void {
  const rows = headers.getRows("Via");
  const firstRow = rows[0];
  if (firstRow === undefined) return;
  const values = splitTopLevel(firstRow, ",");
  const top = values[0];
  if (top === undefined) return;
  let via: ReturnType<typeof parseViaParm>;
  try {
    via = parseViaParm(top);
  } catch {
    return;
  }
  const sourceHost = formatHost(source.address);
  const wantsRport = via.params.has("rport") && via.params.get("rport") === null;
  const differs = via.host.toLowerCase() !== sourceHost.toLowerCase();
  if (!differs && !wantsRport) return;
  let annotated = top;
  if (wantsRport) annotated = fillValuelessParam(annotated, "rport", String(source.port));
  // RFC 3581 4: with rport, "received" is added even when sent-by is the source address.
  if (differs || wantsRport) {
    // 18.2.1: the server adds received with the source address; one the
    // client put there itself (stale or spoofed) is replaced.
    annotated = withoutHeaderParam(annotated, "received");
    annotated += `;received=${source.address}`;
  }
  values[0] = annotated;
  headers.setRow("Via", 0, values.join(", "));
}
