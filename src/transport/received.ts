/**
 * Server side of RFC 3261 18.2.1 and RFC 3581 section 4: the top Via gets
 * "received" when its sent-by host is not the packet's source address, and a
 * valueless "rport" gets the source port (and then always a "received").
 */
import { fillAndDropParams } from "../sip/headers/params.js";
import { parseViaParm } from "../sip/headers/via.js";
import type { Headers, Via } from "../sip/message.js";
import { splitTopLevel, trimmedSlice } from "../sip/tokens.js";
import { type Endpoint, formatHost } from "./types.js";

/**
 * `top`: the top via-parm as the parser read it (core.via[0]), when the
 * caller has it: the Via is then not read again, and a request that needs
 * no annotation (the usual case) costs no allocation.
 */
export function annotateTopVia(headers: Headers, source: Endpoint, top?: Via): void {
  const via = top ?? topViaOf(headers);
  if (via === undefined) return;
  const wantsRport = via.params.has("rport") && via.params.get("rport") === null;
  const differs = !sameHost(via.host, source.address);
  if (!differs && !wantsRport) return;
  const firstRow = headers.get("Via");
  if (firstRow === undefined) return;
  // One via-parm in the row (the usual case): the row, trimmed as splitTopLevel trims.
  const single = firstRow.indexOf(",") < 0;
  if (single && wantsRport && !via.params.has("received")) {
    // The usual case (SIPp, most softphones): one via-parm, its last
    // parameter a valueless ";rport", no received: both appended. Only when
    // it is the row's one "rport" in any case (else the first is filled).
    const row = trimmedSlice(firstRow, 0, firstRow.length);
    if (row.endsWith(";rport") && row.search(ANY_RPORT) === row.length - 5) {
      headers.setRow("Via", 0, `${row}=${source.port};received=${source.address}`);
      return;
    }
  }
  const values = single ? undefined : splitTopLevel(firstRow, ",");
  // RFC 3581 4: rport gets the source port, and with rport "received" is
  // added even when sent-by is the source address. 18.2.1: the server adds
  // received with the source address; one the client put there itself
  // (stale or spoofed) is replaced.
  const annotated = `${fillAndDropParams(
    values ? values[0]! : trimmedSlice(firstRow, 0, firstRow.length),
    "rport",
    wantsRport ? String(source.port) : undefined,
    "received",
  )};received=${source.address}`;
  if (values) values[0] = annotated;
  headers.setRow("Via", 0, values ? values.join(", ") : annotated);
}

const ANY_RPORT = /rport/i;

/** The first via-parm of the first Via row, parsed; undefined when there is none or it is malformed. */
function topViaOf(headers: Headers): Via | undefined {
  const firstRow = headers.get("Via");
  if (firstRow === undefined) return undefined;
  const top = splitTopLevel(firstRow, ",")[0]!;
  try {
    return parseViaParm(top);
  } catch {
    return undefined;
  }
}

/** Whether the sent-by host names the source address (case-insensitively, an IPv6 one in brackets). */
function sameHost(host: string, address: string): boolean {
  if (host === address) return true;
  const sourceHost = formatHost(address);
  return host === sourceHost || host.toLowerCase() === sourceHost.toLowerCase();
}
