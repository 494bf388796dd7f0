/**
 * What the control panel sends: the same admin API requests `sipmock ctl`
 * sends (src/cli/ctl.ts), built here as plain data so they can be tested.
 */
import { headerValues } from "./endpoints.js";
import type { CallGroup } from "./model.js";

export interface ApiRequest {
  readonly method: "GET" | "POST" | "DELETE";
  /** Path under the admin API base, e.g. "/overrides". */
  readonly path: string;
  readonly body?: unknown;
}

export interface RespondForm {
  readonly code: string;
  readonly method: string;
  /** Request-URI user (a regular expression, as in a scenario's match). */
  readonly user?: string;
  readonly reason?: string;
  readonly times?: string;
}

/** `ctl respond CODE --method M [--times N] [--reason R]`: POST /overrides. Throws on bad input. */
export function respondRequest(f: RespondForm): ApiRequest {
  const code = f.code.trim();
  if (!/^[1-6]\d\d$/.test(code)) throw new Error("the status code must be 100 to 699");
  const methods = f.method
    .split(/[\s,]+/)
    .map((m) => m.trim().toUpperCase())
    .filter(Boolean);
  if (methods.length === 0) throw new Error("give a method, e.g. INVITE");
  if (!methods.every((m) => /^[A-Za-z0-9.!%*_+`'~-]+$/.test(m))) throw new Error("not a SIP method token");
  const times = f.times?.trim();
  if (times && !/^[1-9]\d*$/.test(times)) throw new Error("times must be a positive whole number");
  const user = f.user?.trim();
  const reason = f.reason?.trim();
  return {
    method: "POST",
    path: "/overrides",
    body: {
      match: {
        method: methods.length === 1 ? methods[0] : methods,
        ...(user ? { requestUri: { user } } : {}),
      },
      respond: Number(code),
      ...(reason ? { reason } : {}),
      ...(times ? { times: Number(times) } : {}),
    },
  };
}

export type CallAction = "bye" | "hold" | "resume" | "reinvite" | "notify";

/** The phone of a call: the URI in the From of the first request it sent, or the To of the mock's. */
export function phoneOfCall(g: CallGroup): string | undefined {
  const first = g.entries.find((e) => e.kind === "request" && e.method !== "ACK");
  if (!first) return undefined;
  const header = first.direction === "in" ? ["from", "f"] : ["to", "t"];
  const value = headerValues(first.raw, header)[0] ?? "";
  const uri = /<([^>]*)>/.exec(value)?.[1] ?? value.split(";")[0]?.trim();
  return uri && /^sips?:/i.test(uri) ? uri : undefined;
}

/** The admin API request for a button on a live call (`ctl bye|hold|resume|reinvite|mwi`). */
export function callActionRequest(action: CallAction, g: CallGroup): ApiRequest {
  const id = encodeURIComponent(g.callId);
  switch (action) {
    case "bye":
      return { method: "POST", path: `/calls/${id}/bye`, body: {} };
    case "hold":
      return { method: "POST", path: `/calls/${id}/reinvite`, body: { direction: "sendonly" } };
    case "resume":
    case "reinvite":
      return { method: "POST", path: `/calls/${id}/reinvite`, body: { direction: "sendrecv" } };
    case "notify": {
      const phone = phoneOfCall(g);
      if (!phone) throw new Error("no phone address (From/To URI) found in this call");
      return {
        method: "POST",
        path: `/registrations/${encodeURIComponent(phone)}/notify`,
        body: { waiting: true, new: 1 },
      };
    }
  }
}

/** "call this phone": POST /registrations/{aor}/call. */
export function callPhoneRequest(aor: string): ApiRequest {
  return { method: "POST", path: `/registrations/${encodeURIComponent(aor)}/call`, body: {} };
}

/** A short line for what the API answered (outcomes, problem details). */
export function describeResult(status: number, body: unknown): string {
  if (status >= 400) {
    const p = body as { title?: string; detail?: string } | null;
    return `${status} ${p?.title ?? "error"}${p?.detail ? `: ${p.detail}` : ""}`;
  }
  const one = (o: unknown) => {
    const x = o as { status?: number; reason?: string; timedOut?: boolean; transportError?: string };
    if (typeof x?.status !== "number") return JSON.stringify(o);
    return `${x.status} ${x.reason ?? ""}${x.timedOut ? " (no answer)" : ""}${x.transportError ? ` (${x.transportError})` : ""}`;
  };
  if (Array.isArray(body)) return body.length === 0 ? "done" : body.map(one).join(", ");
  if (body && typeof body === "object") {
    const b = body as { id?: string; byes?: number; callId?: string };
    if (b.id !== undefined) return `override ${b.id} set`;
    if (b.byes !== undefined) return `BYE sent in ${b.byes} dialog(s)`;
    if (b.callId !== undefined) return `${one(body)} (Call-ID ${b.callId})`;
  }
  return status === 204 ? "done" : one(body);
}
