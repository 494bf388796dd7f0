/** Draws a call's ladder (ladder.ts layout) as SVG, text in text nodes only. */
import { h, s } from "./dom.js";
import { visible } from "./headers.js";
import {
  type Arrow,
  formatDelta,
  HEADER_HEIGHT,
  type LadderLayout,
  type Lane,
  layoutLadder,
} from "./ladder.js";
import { noteText } from "./model.js";
import type { DtmfRecord, JournalEntry, MediaRecord } from "./types.js";

export const PAGE = 500;

const ROLE_NAME: Record<Lane["role"], string> = {
  client: "client (Via)",
  proxy: "proxy",
  peer: "peer",
  mock: "sipmock",
};

function laneHeader(l: Lane, height: number): SVGGElement {
  return s(
    "g",
    { "data-testid": "lane", "data-endpoint": l.endpoint, "data-role": l.role, class: `lane ${l.role}` },
    s("line", { x1: l.x, y1: HEADER_HEIGHT - 8, x2: l.x, y2: height, class: "lifeline" }),
    s("text", { x: l.x, y: 18, class: "lane-role", "text-anchor": "middle" }, ROLE_NAME[l.role]),
    s("text", { x: l.x, y: 36, class: "lane-name", "text-anchor": "middle" }, l.endpoint),
  );
}

function arrowGroup(
  a: Arrow,
  lanes: Map<string, Lane>,
  selectedId: number | undefined,
  width: number,
): SVGGElement {
  const x1 = lanes.get(a.from)?.x ?? 0;
  const x2 = lanes.get(a.to)?.x ?? 0;
  const dir = x2 >= x1 ? 1 : -1;
  const self = x1 === x2;
  const tip = self ? x1 + 30 : x2;
  const classes = ["arrow", a.entry.direction];
  if (a.retransmission) classes.push("retransmission");
  if (a.fault) classes.push("fault");
  if (a.entry.id === selectedId) classes.push("selected");
  const labelX = self ? x1 + 36 : (x1 + x2) / 2;
  const title = [
    a.label,
    a.retransmission ? "retransmission" : "",
    a.fault ? `fault: ${a.fault}` : "",
    a.rule ? `rule: ${a.rule}` : "",
  ]
    .filter(Boolean)
    .join("; ");
  const notes = [a.retransmission ? "retransmission" : "", a.rule ? `rule ${a.rule}` : ""].filter(Boolean);
  return s(
    "g",
    {
      "data-testid": "arrow",
      "data-entry-id": a.entry.id,
      "data-label": a.label,
      "data-from": a.from,
      "data-to": a.to,
      "data-retransmission": String(a.retransmission),
      "data-fault": a.fault,
      "data-rule": a.rule,
      class: classes.join(" "),
      tabindex: 0,
      role: "button",
      "aria-label": visible(title),
    },
    s("title", {}, visible(title)),
    // The whole row is the click target, not only the thin arrow.
    s("rect", { x: 0, y: a.y - 22, width, height: 34, class: "hit" }),
    s("text", { x: 8, y: a.y + 4, class: "delta" }, formatDelta(a.deltaMs)),
    self
      ? s("path", { d: `M${x1} ${a.y - 8} h30 v12 h-30`, class: "shaft" })
      : s("line", { x1, y1: a.y, x2: tip - dir * 8, y2: a.y, class: "shaft" }),
    s("polygon", {
      points: self
        ? `${x1} ${a.y + 4} ${x1 + 8} ${a.y} ${x1 + 8} ${a.y + 8}`
        : `${tip} ${a.y} ${tip - dir * 10} ${a.y - 5} ${tip - dir * 10} ${a.y + 5}`,
      class: "head",
    }),
    s(
      "text",
      { x: labelX, y: a.y - 6, class: "label", "text-anchor": self ? "start" : "middle" },
      visible(a.label),
    ),
    a.fault
      ? s(
          "text",
          { x: labelX, y: a.y + 16, class: "fault-label", "text-anchor": self ? "start" : "middle" },
          `\u26a1 fault: ${visible(a.fault)}`,
        )
      : null,
    notes.length
      ? s(
          "text",
          { x: Math.max(x1, tip) + 10, y: a.y + 4, class: "note", "text-anchor": "start" },
          visible(notes.join(" \u00b7 ")),
        )
      : null,
  );
}

export interface LadderOptions {
  readonly offset: number;
  readonly selectedId?: number;
  readonly onSelect: (e: JournalEntry) => void;
  readonly onPage: (offset: number) => void;
}

/** The SVG ladder of a call plus paging buttons when it has more than PAGE messages. */
export function ladderView(entries: readonly JournalEntry[], o: LadderOptions): HTMLElement {
  const layout: LadderLayout = layoutLadder(entries, o.offset, PAGE);
  const lanes = new Map(layout.lanes.map((l) => [l.endpoint, l]));
  const svg = s(
    "svg",
    {
      "data-testid": "ladder",
      class: "ladder",
      width: layout.width,
      height: layout.height,
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: "img",
      "aria-label": `ladder diagram, ${layout.total} messages`,
    },
    ...layout.lanes.map((l) => laneHeader(l, layout.height)),
    ...layout.arrows.map((a) => arrowGroup(a, lanes, o.selectedId, layout.width)),
  );
  const byId = new Map(layout.arrows.map((a) => [String(a.entry.id), a.entry]));
  const pick = (ev: Event) => {
    const g = (ev.target as Element).closest?.("[data-testid=arrow]");
    const entry = g ? byId.get(g.getAttribute("data-entry-id") ?? "") : undefined;
    if (entry) o.onSelect(entry);
  };
  svg.addEventListener("click", pick);
  svg.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      pick(ev);
    }
  });
  const paging =
    layout.total > PAGE
      ? h(
          "div",
          { class: "paging" },
          h(
            "button",
            { type: "button", "data-testid": "ladder-prev", disabled: layout.offset === 0 },
            "\u2190 earlier",
          ),
          ` messages ${layout.offset + 1}\u2013${layout.offset + layout.arrows.length} of ${layout.total} `,
          h(
            "button",
            { type: "button", "data-testid": "ladder-next", disabled: layout.offset + PAGE >= layout.total },
            "later \u2192",
          ),
        )
      : null;
  if (paging) {
    const [prev, next] = paging.querySelectorAll("button");
    prev?.addEventListener("click", () => o.onPage(Math.max(0, layout.offset - PAGE)));
    next?.addEventListener("click", () => o.onPage(layout.offset + PAGE));
  }
  return h("div", { class: "ladder-wrap" }, paging, h("div", { class: "ladder-scroll" }, svg));
}

/** The call's DTMF digits and RTP statistics under its ladder (absent when it had none). */
export function mediaNotes(notes: ReadonlyArray<DtmfRecord | MediaRecord>): HTMLElement | null {
  if (notes.length === 0) return null;
  const digits = notes.flatMap((n) => (n.kind === "dtmf" ? [n.digit] : [])).join("");
  return h(
    "div",
    { class: "media-notes", "data-testid": "media-notes" },
    digits ? h("p", { "data-testid": "dtmf-digits" }, `DTMF received: ${visible(digits)}`) : null,
    h(
      "ul",
      {},
      ...notes.map((n) =>
        h("li", { "data-testid": `note-${n.kind}`, "data-entry-id": n.id }, visible(noteText(n))),
      ),
    ),
  );
}
