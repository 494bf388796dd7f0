/** `sipmock ctl ...`: talks to a running server's admin API. */
import { readFileSync } from "node:fs";
import type { JournalRecord } from "../control/journal.js";
import { printable } from "../control/logger.js";
import { resolveScenarioPath } from "../scenario/bundled.js";
import { formatProblem, type ScenarioProblem, unreadableFile } from "../scenario/load.js";

export interface CtlFlags {
  admin: string;
  token?: string;
}

export class CtlError extends Error {
  /** A refused scenario's problems, positions in the text sent. */
  constructor(
    message: string,
    readonly problems?: readonly ScenarioProblem[],
  ) {
    super(message);
  }
}

async function call(flags: CtlFlags, method: string, path: string, body?: string, type = "application/json") {
  let res: Response;
  try {
    res = await fetch(new URL(path, flags.admin), {
      method,
      headers: {
        ...(flags.token ? { authorization: `Bearer ${flags.token}` } : {}),
        ...(body !== undefined ? { "content-type": type } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new CtlError(
      `cannot reach the admin API at ${flags.admin} (${cause}); start the server with --admin PORT`,
    );
  }
  const text = await res.text();
  if (res.status === 401) {
    throw new CtlError(
      `${method} ${path}: Unauthorized: the server wants its admin token; fix: ctl --token TOKEN, or SIPMOCK_ADMIN_TOKEN=TOKEN`,
    );
  }
  if (!res.ok) {
    let detail = text;
    let problems: ScenarioProblem[] | undefined;
    try {
      const p = JSON.parse(text) as { title?: string; detail?: string; problems?: ScenarioProblem[] };
      detail = `${p.title ?? res.status}: ${p.detail ?? ""}`;
      problems = p.problems;
    } catch {}
    throw new CtlError(`${method} ${path}: ${detail.trim()}`, problems);
  }
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

export async function ctlRespond(
  flags: CtlFlags,
  code: number,
  o: { times?: number; method: string[]; reason?: string; header?: Array<[string, string]> },
): Promise<void> {
  const body = {
    match: { method: o.method.length === 1 ? o.method[0] : o.method },
    respond: code,
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.header?.length ? { headers: Object.fromEntries(o.header) } : {}),
    ...(o.times !== undefined ? { times: o.times } : {}),
  };
  const r = (await call(flags, "POST", "/__admin/overrides", JSON.stringify(body))) as { id: string };
  process.stdout.write(
    `override ${r.id}: ${o.method.join(",")} -> ${code}${o.times !== undefined ? ` (${o.times} time${o.times === 1 ? "" : "s"})` : ""}\n`,
  );
}

export async function ctlReset(flags: CtlFlags): Promise<void> {
  await call(flags, "POST", "/__admin/reset");
  process.stdout.write("journal cleared, overrides removed, scenario reset\n");
}

export async function ctlScenario(flags: CtlFlags, file: string): Promise<void> {
  let text: string;
  try {
    text = readFileSync(resolveScenarioPath(file), "utf8");
  } catch (e) {
    throw new CtlError(formatProblem(unreadableFile(file, e)));
  }
  try {
    const r = (await call(flags, "PUT", "/__admin/scenario", text, "application/yaml")) as { name: string };
    process.stdout.write(`scenario now: ${r.name}\n`);
  } catch (e) {
    // The server names what it was sent "inline"; the person knows it by its file name.
    if (!(e instanceof CtlError) || !e.problems) throw e;
    throw new CtlError(
      [
        `${file} refused; the running scenario stays`,
        ...e.problems.map((p) => formatProblem({ ...p, file })),
      ].join("\n"),
    );
  }
}

export async function ctlOverrides(flags: CtlFlags, clear: boolean): Promise<void> {
  if (clear) {
    await call(flags, "DELETE", "/__admin/overrides");
    process.stdout.write("overrides removed\n");
    return;
  }
  const list = (await call(flags, "GET", "/__admin/overrides")) as Array<{
    id: string;
    rule: unknown;
    applied: number;
    remaining?: number;
  }>;
  if (list.length === 0) process.stdout.write("no overrides\n");
  for (const o of list) {
    process.stdout.write(
      `${o.id} applied ${o.applied}${o.remaining !== undefined ? `, ${o.remaining} left` : ""}: ${JSON.stringify(o.rule)}\n`,
    );
  }
}

function line(r: JournalRecord): string {
  if (r.kind === "dtmf") {
    const from = r.remote ? ` ${r.transport}:${r.remote.address}:${r.remote.port}` : "";
    return `${r.time} <-${from} DTMF ${printable(r.digit)} (${r.via}, ${r.durationMs} ms) ${printable(r.callId)}`;
  }
  if (r.kind === "media") {
    const s = r.sent;
    const v = r.received;
    return `${r.time} media ${printable(r.callId)}: sent ${s.packets} packets, received ${v.packets} (lost ${v.lost}, jitter ${v.jitterMs.toFixed(1)} ms)`;
  }
  const e = r;
  const what = e.kind === "response" ? `${e.status} ${e.reason}` : (e.method ?? "(unparsable)");
  const arrow = e.direction === "in" ? "<-" : "->";
  // What a peer sent is escaped: control characters never reach the terminal.
  return `${e.time} ${arrow} ${e.transport}:${e.remote.address}:${e.remote.port} ${printable(`${what}${e.callId ? ` ${e.callId}` : ""}`)}${e.rule ? ` [${e.rule}]` : ""}${e.retransmission ? " (retransmission)" : ""}`;
}

export async function ctlJournal(
  flags: CtlFlags,
  o: { follow?: boolean; method?: string; callId?: string; json?: boolean; interval?: number },
): Promise<void> {
  let sinceId = 0;
  const query = () => {
    const q = new URLSearchParams();
    if (o.method) q.set("method", o.method);
    if (o.callId) q.set("callId", o.callId);
    if (sinceId > 0) q.set("sinceId", String(sinceId));
    const s = q.toString();
    return `/__admin/journal${s ? `?${s}` : ""}`;
  };
  const print = async () => {
    const entries = (await call(flags, "GET", query())) as JournalRecord[];
    for (const e of entries) {
      process.stdout.write(`${o.json ? JSON.stringify(e) : line(e)}\n`);
      sinceId = Math.max(sinceId, e.id);
    }
  };
  await print();
  if (!o.follow) return;
  for (;;) {
    await new Promise((r) => setTimeout(r, o.interval ?? 500));
    await print();
  }
}

interface OutcomeJson {
  status: number;
  reason: string;
  contact?: string;
  timedOut?: boolean;
  transportError?: string;
}

function outcomeLine(o: OutcomeJson): string {
  const why = o.timedOut
    ? " (no answer: the mock gave up)"
    : o.transportError
      ? ` (not sent: ${o.transportError})`
      : "";
  return `${o.status} ${o.reason}${why}${o.contact ? ` from ${o.contact}` : ""}`;
}

/** Requests the mock sends: `ctl bye|reinvite|update CALL-ID`, `ctl call|mwi|ping AOR`. */
export async function ctlSend(
  flags: CtlFlags,
  what: "bye" | "reinvite" | "update" | "dtmf" | "call" | "notify" | "options",
  target: string,
  body: Record<string, unknown> = {},
): Promise<void> {
  const inCall = what === "bye" || what === "reinvite" || what === "update" || what === "dtmf";
  const path = `/__admin/${inCall ? "calls" : "registrations"}/${encodeURIComponent(target)}/${what}`;
  const r = await call(flags, "POST", path, JSON.stringify(body));
  if (what === "bye") {
    process.stdout.write(`BYE sent in ${(r as { byes: number }).byes} dialog(s) of ${target}\n`);
    return;
  }
  if (what === "dtmf") {
    process.stdout.write(`DTMF ${(r as { sent: string }).sent} sent in ${target} (RFC 4733)\n`);
    return;
  }
  if (what === "call") {
    const c = r as OutcomeJson & { callId: string; provisional: number[] };
    process.stdout.write(
      `${target}: ${c.provisional.length ? `${c.provisional.join(", ")}, ` : ""}${outcomeLine(c)} (Call-ID ${c.callId})\n`,
    );
    return;
  }
  for (const o of r as OutcomeJson[]) process.stdout.write(`${what.toUpperCase()}: ${outcomeLine(o)}\n`);
}

/** `ctl dialogs`: the calls a person can hold, resume or hang up, one line each. */
export async function ctlDialogs(flags: CtlFlags): Promise<void> {
  const list = (await call(flags, "GET", "/__admin/dialogs")) as Array<{
    callId: string;
    localTag: string;
    remoteTag: string;
    confirmed: boolean;
  }>;
  if (list.length === 0) process.stdout.write("no dialogs\n");
  for (const d of list) {
    process.stdout.write(
      `${d.callId} local-tag=${d.localTag} remote-tag=${d.remoteTag}${d.confirmed ? "" : " (2xx not acknowledged yet)"}\n`,
    );
  }
}

/** `ctl registrations`: every address-of-record with its contacts and seconds left. */
export async function ctlRegistrations(flags: CtlFlags): Promise<void> {
  const list = (await call(flags, "GET", "/__admin/registrations")) as Array<{
    aor: string;
    contacts: Array<{ uri: string; expires: number }>;
  }>;
  if (list.length === 0) process.stdout.write("no registrations\n");
  for (const r of list) {
    process.stdout.write(`${r.aor} ${r.contacts.map((c) => `${c.uri} (${c.expires} s)`).join(", ")}\n`);
  }
}

/** `ctl media [CALL-ID]`: digits received and RTP packets each way, one line per call. */
export async function ctlMedia(flags: CtlFlags, callId?: string): Promise<void> {
  type Media = {
    callId: string;
    dtmf: string;
    stats?: { sent: { packets: number }; received: { packets: number; lost: number; jitterMs: number } };
  };
  const list = callId
    ? [(await call(flags, "GET", `/__admin/calls/${encodeURIComponent(callId)}/media`)) as Media]
    : ((await call(flags, "GET", "/__admin/media")) as Media[]);
  if (list.length === 0) process.stdout.write("no calls with media\n");
  for (const m of list) {
    const s = m.stats;
    const rtp = s
      ? ` sent ${s.sent.packets} received ${s.received.packets} lost ${s.received.lost} jitter ${s.received.jitterMs.toFixed(1)} ms`
      : "";
    process.stdout.write(`${m.callId} dtmf="${m.dtmf}"${rtp}\n`);
  }
}
