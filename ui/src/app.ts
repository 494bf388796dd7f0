/** The page: filters and call list on the left, ladder and raw message on the right. */
import { lookupCode } from "../../src/catalog/index.js";
import { type ApiRequest, type CallAction, callActionRequest, describeResult } from "./api.js";
import { controlPanel, dialogsView, overridesView, registrationsView } from "./controls.js";
import { h, replace } from "./dom.js";
import { type CodeLookup, visible } from "./headers.js";
import { ladderView, mediaNotes } from "./ladder-view.js";
import type { AdminClient, DialogInfo, OverrideInfo, Registration } from "./live.js";
import { messageView } from "./message-view.js";
import { type CallGroup, CallStore, callSummary, type Filter, filterCalls, parseTimeInput } from "./model.js";
import type { CatalogCode, JournalRecord, PageData } from "./types.js";

/** Rows drawn in the call list at most (the filters narrow the rest down). */
export const LIST_LIMIT = 1000;

export class App {
  readonly store = new CallStore();
  filter: Filter = {};
  selectedCall: string | undefined;
  selectedEntry: number | undefined;
  ladderOffset = 0;
  dialogs: DialogInfo[] = [];
  registrations: Registration[] = [];
  overrides: OverrideInfo[] = [];
  private readonly lookup: CodeLookup;
  private pending = false;
  private drawnVersion = -1;
  private drawnCall: { id?: string; count: number; offset: number; entry?: number } = {
    count: -1,
    offset: 0,
  };

  readonly status = h("span", { class: "status", "data-testid": "status" });
  private readonly list = h("div", { class: "calls", "data-testid": "call-list", role: "listbox" });
  private readonly listNote = h("p", { class: "note" });
  private readonly ladder = h("div", { class: "ladder-pane" });
  private readonly message = h("div", { class: "message-pane" });
  private readonly side = h("div", { class: "side" });
  readonly controlResult = h("output", { class: "result", "data-testid": "control-result" });

  constructor(
    readonly data: PageData,
    readonly client: AdminClient | undefined,
  ) {
    const extra = new Map((data.catalog ?? []).map((c: CatalogCode) => [c.code, c]));
    this.lookup = (code) => extra.get(code) ?? lookupCode(code);
  }

  mount(root: HTMLElement): void {
    const report = this.data.mode === "report";
    replace(
      root,
      h("header", { class: "top" }, h("h1", {}, report ? "sipmock report" : "sipmock"), this.status),
      report ? this.verdicts() : null,
      h(
        "main",
        { class: "layout" },
        h("aside", { class: "left" }, this.filters(), this.listNote, this.list, this.side),
        h("section", { class: "right" }, this.client ? controlPanel(this) : null, this.ladder, this.message),
      ),
    );
    if (report && this.data.mode === "report") {
      this.store.addAll(this.data.entries);
      this.status.textContent = `${this.data.entries.length} messages, generated ${this.data.generatedAt}`;
    }
    this.schedule();
  }

  private verdicts(): HTMLElement | null {
    if (this.data.mode !== "report" || !this.data.expectations) return null;
    const rows = this.data.expectations.map((x) =>
      h(
        "li",
        { "data-testid": "verdict", "data-ok": String(x.ok), class: x.ok ? "ok" : "failed" },
        h("strong", {}, x.ok ? "\u2714 met" : "\u2718 not met"),
        " ",
        visible(x.description),
        x.detail ? h("div", { class: "detail" }, visible(x.detail)) : null,
      ),
    );
    return h(
      "section",
      { class: "verdicts" },
      h("h2", {}, "Expectations"),
      rows.length ? h("ul", {}, ...rows) : h("p", {}, "none"),
    );
  }

  private filters(): HTMLElement {
    const input = (id: string, label: string, placeholder: string, type = "text") =>
      h(
        "label",
        {},
        label,
        h("input", {
          type,
          "data-testid": `filter-${id}`,
          name: id,
          placeholder,
          autocomplete: "off",
          step: type === "datetime-local" ? 1 : undefined,
        }),
      );
    const transport = h(
      "select",
      { "data-testid": "filter-transport", name: "transport" },
      ...["", "udp", "tcp", "tls", "ws", "wss"].map((t) => h("option", { value: t }, t || "any")),
    );
    const form = h(
      "form",
      { class: "filters", "data-testid": "filters" },
      input("text", "Search", "text in any message"),
      input("method", "Method", "INVITE"),
      input("status", "Status", "486 or 4xx"),
      input("callid", "Call-ID", "part of a Call-ID"),
      input("peer", "Peer", "udp:127.0.0.1:5070"),
      h("label", {}, "Transport", transport),
      input("since", "Since", "", "datetime-local"),
      input("until", "Until", "", "datetime-local"),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = () => {
      const v = (id: string) => (form.querySelector(`[data-testid=filter-${id}]`) as HTMLInputElement).value;
      this.filter = {
        text: v("text"),
        method: v("method"),
        status: v("status"),
        callId: v("callid"),
        peer: v("peer"),
        transport: v("transport"),
        since: parseTimeInput(v("since")),
        until: parseTimeInput(v("until")),
      };
      this.drawnVersion = -1;
      this.schedule();
    };
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(update, 120);
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      update();
    });
    return form;
  }

  add(e: JournalRecord): void {
    if (this.store.add(e)) this.schedule();
    if (e.callId !== undefined && e.callId === this.selectedCall) this.refreshSelected();
  }

  private selectedTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Live: the selected call's entries again from the journal, a moment
   * after its last message, for what the journal added after streaming
   * them (the rule that answered, faults).
   */
  refreshSelected(): void {
    const client = this.client;
    const callId = this.selectedCall;
    if (!client || !callId) return;
    clearTimeout(this.selectedTimer);
    this.selectedTimer = setTimeout(async () => {
      try {
        const fresh = await client.get<JournalRecord[]>(`/journal?callId=${encodeURIComponent(callId)}`);
        let changed = false;
        for (const e of fresh) changed = this.store.upsert(e) || changed;
        if (changed) {
          this.drawnCall = { count: -1, offset: 0 };
          this.schedule();
        }
      } catch {
        // the stream keeps the view going; the next message retries
      }
    }, 250);
  }

  reset(): void {
    this.store.clear();
    this.selectedCall = undefined;
    this.selectedEntry = undefined;
    this.schedule();
  }

  /** Redraws at most once per frame, however many entries arrive. */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  select(callId: string): void {
    if (this.selectedCall !== callId) {
      this.selectedCall = callId;
      this.selectedEntry = undefined;
      this.ladderOffset = 0;
      this.refreshSelected();
    }
    this.drawnVersion = -1;
    this.schedule();
  }

  private listDrawnAt = 0;
  private listTimer: ReturnType<typeof setTimeout> | undefined;

  private draw(): void {
    if (this.drawnVersion !== this.store.version) {
      // A flood of messages redraws the list four times a second, not every frame.
      const wait = this.listDrawnAt + 250 - Date.now();
      if (wait <= 0 || this.drawnVersion === -1) {
        this.drawnVersion = this.store.version;
        this.listDrawnAt = Date.now();
        this.drawList();
      } else if (!this.listTimer) {
        this.listTimer = setTimeout(() => {
          this.listTimer = undefined;
          this.schedule();
        }, wait);
      }
    }
    this.drawLadder();
    replace(
      this.side,
      ...(this.client ? [overridesView(this), dialogsView(this), registrationsView(this)] : []),
    );
    if (this.data.mode === "live") {
      this.status.textContent = `${this.store.entryCount} messages, ${this.store.size} calls`;
    }
  }

  private drawList(): void {
    const calls = filterCalls(this.store.calls(), this.filter);
    const shown = calls.slice(-LIST_LIMIT).reverse();
    this.listNote.textContent =
      calls.length > shown.length
        ? `newest ${shown.length} of ${calls.length} calls shown; filter to narrow`
        : `${calls.length} call${calls.length === 1 ? "" : "s"}`;
    replace(this.list, ...shown.map((g) => this.row(g)));
  }

  private row(g: CallGroup): HTMLElement {
    const first = g.entries[0];
    const time = first ? first.time.slice(11, 23) : "";
    const row = h(
      "div",
      {
        class: `call${g.callId === this.selectedCall ? " selected" : ""}`,
        "data-testid": "call-row",
        "data-call-id": g.callId,
        role: "option",
        tabindex: 0,
        "aria-selected": String(g.callId === this.selectedCall),
      },
      h("span", { class: "time" }, time),
      h("span", { class: "summary" }, visible(callSummary(g))),
      h("span", { class: "count" }, `${g.entries.length} msg`),
      h("span", { class: "peer" }, [...g.peers].join(", ")),
      h("span", { class: "callid" }, visible(g.callId || "(no Call-ID)")),
    );
    row.addEventListener("click", () => this.select(g.callId));
    row.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") this.select(g.callId);
    });
    return row;
  }

  private drawLadder(): void {
    const g = this.selectedCall === undefined ? undefined : this.store.get(this.selectedCall);
    const key = {
      id: g?.callId,
      count: (g?.entries.length ?? 0) + (g?.notes.length ?? 0),
      offset: this.ladderOffset,
      entry: this.selectedEntry,
    };
    const d = this.drawnCall;
    if (d.id === key.id && d.count === key.count && d.offset === key.offset && d.entry === key.entry) return;
    this.drawnCall = key;
    if (!g) {
      replace(this.ladder, h("p", { class: "hint" }, "Select a call to see its ladder diagram."));
      replace(this.message);
      return;
    }
    replace(
      this.ladder,
      h("h2", {}, visible(callSummary(g)), " ", h("small", {}, visible(g.callId || "(no Call-ID)"))),
      ladderView(g.entries, {
        offset: this.ladderOffset,
        ...(this.selectedEntry !== undefined ? { selectedId: this.selectedEntry } : {}),
        onSelect: (e) => {
          this.selectedEntry = e.id;
          this.schedule();
        },
        onPage: (offset) => {
          this.ladderOffset = offset;
          this.schedule();
        },
      }),
      mediaNotes(g.notes),
    );
    const entry = g.entries.find((e) => e.id === this.selectedEntry);
    replace(
      this.message,
      entry ? messageView(entry, this.lookup) : h("p", { class: "hint" }, "Click an arrow for the message."),
    );
  }

  /** Runs an admin API request from a button and shows what came back. */
  async run(label: string, req: () => ApiRequest): Promise<void> {
    if (!this.client) return;
    let request: ApiRequest;
    try {
      request = req();
    } catch (e) {
      this.controlResult.textContent = `${label}: ${(e as Error).message}`;
      return;
    }
    this.controlResult.textContent = `${label}: sent\u2026`;
    try {
      const r = await this.client.send(request);
      this.controlResult.textContent = `${label}: ${describeResult(r.status, r.body)}`;
    } catch (e) {
      this.controlResult.textContent = `${label}: ${(e as Error).message}`;
    }
    void this.refreshSide();
  }

  callAction(action: CallAction): void {
    const g = this.selectedCall === undefined ? undefined : this.store.get(this.selectedCall);
    if (!g) {
      this.controlResult.textContent = "select a call first";
      return;
    }
    void this.run(action, () => callActionRequest(action, g));
  }

  private sideTimer: ReturnType<typeof setTimeout> | undefined;

  /** Dialogs and registrations, refetched at most twice a second. */
  async refreshSide(): Promise<void> {
    if (!this.client || this.sideTimer) return;
    this.sideTimer = setTimeout(() => {
      this.sideTimer = undefined;
    }, 500);
    try {
      const [dialogs, registrations, overrides] = await Promise.all([
        this.client.get<DialogInfo[]>("/dialogs"),
        this.client.get<Registration[]>("/registrations"),
        this.client.get<OverrideInfo[]>("/overrides"),
      ]);
      this.dialogs = dialogs;
      this.registrations = registrations;
      this.overrides = overrides;
      this.schedule();
    } catch (e) {
      this.status.textContent = (e as Error).message;
    }
  }
}
