/** The raw message panel: every line as text, header names marked with their RFC. */
import { h } from "./dom.js";
import { type CodeLookup, tokenizeMessage, visible, wireText } from "./headers.js";
import { faultOf } from "./ladder.js";
import { entryLabel } from "./model.js";
import type { JournalEntry } from "./types.js";

export function messageView(e: JournalEntry, lookup: CodeLookup): HTMLElement {
  const lines = tokenizeMessage(wireText(e.raw), lookup).map((l) => {
    if (l.kind === "start") return h("div", { class: "line start", title: l.title }, visible(l.text));
    if (l.kind === "header")
      return h(
        "div",
        { class: "line" },
        h("span", { class: "hname", title: l.title, "aria-label": l.title }, visible(l.name)),
        h("span", { class: "hsep" }, l.sep),
        h("span", { class: "hvalue" }, visible(l.value)),
      );
    return h("div", { class: "line" }, visible(l.text) || "\u00a0");
  });
  const fault = faultOf(e);
  const arrow = e.direction === "in" ? "received from" : "sent to";
  return h(
    "section",
    { class: "message", "data-testid": "message", "data-entry-id": e.id },
    h(
      "header",
      { class: "message-meta" },
      h("strong", {}, visible(entryLabel(e))),
      ` #${e.id} ${e.time} ${arrow} ${e.transport}:${e.remote.address}:${e.remote.port}`,
      e.retransmission ? h("span", { class: "tag retrans" }, "retransmission") : null,
      e.rule ? h("span", { class: "tag rule" }, "rule: ", visible(e.rule)) : null,
      fault ? h("span", { class: "tag fault" }, "fault: ", visible(fault)) : null,
    ),
    h("pre", { class: "raw", "data-testid": "message-raw" }, ...lines),
  );
}
