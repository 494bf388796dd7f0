/** Endpoint keys (transport:ip:port) and the proxies a message's Via headers name. */
import type { Endpoint, JournalEntry } from "./types.js";

/** "udp:127.0.0.1:5060", IPv6 in brackets: "udp:[::1]:5060". */
export function endpointKey(transport: string, e: Endpoint): string {
  return `${transport.toLowerCase()}:${hostPart(e.address)}:${e.port}`;
}

function hostPart(address: string): string {
  return address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
}

export function peerKey(e: JournalEntry): string {
  return endpointKey(e.transport, e.remote);
}

export function mockKey(e: JournalEntry): string {
  return endpointKey(e.transport, e.local);
}

/** The values of every header named `names` (long or compact form), in order, split at top-level commas. */
export function headerValues(raw: string, names: readonly string[]): string[] {
  const end = raw.indexOf("\r\n\r\n");
  const head = end < 0 ? raw : raw.slice(0, end);
  const lines = unfold(head).split(/\r?\n/).slice(1);
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    if (!wanted.has(line.slice(0, colon).trim().toLowerCase())) continue;
    out.push(...splitTopLevel(line.slice(colon + 1)));
  }
  return out;
}

/** RFC 3261 7.3.1: a line starting with whitespace continues the previous one. */
function unfold(head: string): string {
  return head.replace(/\r?\n[ \t]+/g, " ");
}

/** Splits at commas outside quotes and angle brackets. */
function splitTopLevel(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === "<") depth++;
    else if (!quoted && c === ">") depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && c === ",") {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((p) => p !== "");
}

/** RFC 3261 20.42: "SIP/2.0/UDP host:port;params" as an endpoint key, or undefined when unreadable. */
export function viaEndpoint(via: string): string | undefined {
  const m =
    /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9-]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s;:]+)(?:\s*:\s*(\d{1,5}))?/i.exec(
      via.trim(),
    );
  if (!m) return undefined;
  const transport = m[1]!.toLowerCase();
  const host = m[2]!;
  const port = m[3] ? Number(m[3]) : transport === "tls" || transport === "wss" ? 5061 : 5060;
  return `${transport}:${host}:${port}`;
}

/**
 * The hops a request came through before reaching the mock, origin first:
 * every Via but the top one (the top one is the peer the mock sees itself).
 */
export function viaPath(e: JournalEntry): string[] {
  if (e.kind !== "request" || e.direction !== "in") return [];
  const vias = headerValues(e.raw, ["via", "v"]);
  const hops: string[] = [];
  for (const v of vias.slice(1).reverse()) {
    const key = viaEndpoint(v);
    if (key && !hops.includes(key)) hops.push(key);
  }
  return hops;
}
