/** The live mode's link to the admin API: fetch with the bearer token, and the events stream. */
import type { ApiRequest } from "./api.js";
import type { JournalRecord } from "./types.js";

export interface ApiResult {
  readonly status: number;
  readonly body: unknown;
}

export interface DialogInfo {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly confirmed: boolean;
}

export interface OverrideInfo {
  readonly id: string;
  readonly rule: unknown;
  readonly applied: number;
  readonly remaining?: number;
}

export interface Registration {
  readonly aor: string;
  readonly contacts: ReadonlyArray<{ readonly uri: string; readonly expires: number }>;
}

export class AdminClient {
  constructor(
    readonly base: string,
    readonly token: string | null,
  ) {}

  async send(req: ApiRequest): Promise<ApiResult> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (req.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(this.base + req.path, {
      method: req.method,
      headers,
      credentials: "same-origin",
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body };
  }

  async get<T>(path: string): Promise<T> {
    const r = await this.send({ method: "GET", path });
    if (r.status >= 400) {
      const p = r.body as { title?: string; detail?: string } | undefined;
      throw new Error(`GET ${path}: ${r.status} ${p?.title ?? ""} ${p?.detail ?? ""}`.trim());
    }
    return r.body as T;
  }

  journal(sinceId = 0): Promise<JournalRecord[]> {
    return this.get<JournalRecord[]>(`/journal${sinceId > 0 ? `?sinceId=${sinceId}` : ""}`);
  }

  /** The events stream: one `entry` per journal message, `reset` when the journal is cleared. */
  events(handlers: {
    entry: (e: JournalRecord) => void;
    reset: () => void;
    open: () => void;
    error: () => void;
  }): EventSource {
    const url = `${this.base}/events${this.token ? `?token=${encodeURIComponent(this.token)}` : ""}`;
    const es = new EventSource(url);
    es.addEventListener("entry", (ev) => {
      try {
        handlers.entry(JSON.parse((ev as MessageEvent<string>).data) as JournalRecord);
      } catch {
        // a malformed event is skipped; the next journal fetch fills the gap
      }
    });
    es.addEventListener("reset", () => handlers.reset());
    es.addEventListener("open", () => handlers.open());
    es.addEventListener("error", () => handlers.error());
    return es;
  }
}
