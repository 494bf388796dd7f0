/** The live control panel: next answer, buttons for the selected call, dialogs and registrations. */
import { callPhoneRequest, respondRequest } from "./api.js";
import type { App } from "./app.js";
import { h } from "./dom.js";
import { visible } from "./headers.js";

export function controlPanel(app: App): HTMLElement {
  const code = h("input", {
    type: "text",
    inputmode: "numeric",
    "data-testid": "respond-code",
    placeholder: "486",
    size: 5,
  });
  const method = h("input", { type: "text", "data-testid": "respond-method", value: "INVITE", size: 10 });
  const user = h("input", {
    type: "text",
    "data-testid": "respond-user",
    placeholder: "any (regex)",
    size: 10,
  });
  const reason = h("input", {
    type: "text",
    "data-testid": "respond-reason",
    placeholder: "catalogue's",
    size: 12,
  });
  // The next request only, by default; empty: every matching request.
  const times = h("input", {
    type: "text",
    inputmode: "numeric",
    "data-testid": "respond-times",
    placeholder: "always",
    value: "1",
    size: 5,
  });
  const apply = h("button", { type: "submit", "data-testid": "respond-apply" }, "Set answer");
  const clear = h("button", { type: "button", "data-testid": "respond-clear" }, "Clear overrides");
  const form = h(
    "form",
    { class: "respond", "data-testid": "respond-form" },
    h("label", {}, "Answer ", code),
    h("label", {}, " to ", method),
    h("label", {}, " for user ", user),
    h("label", {}, " reason ", reason),
    h("label", {}, " times ", times),
    " ",
    apply,
    " ",
    clear,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void app.run("respond", () =>
      respondRequest({
        code: code.value,
        method: method.value,
        user: user.value,
        reason: reason.value,
        times: times.value,
      }),
    );
  });
  clear.addEventListener(
    "click",
    () => void app.run("clear overrides", () => ({ method: "DELETE", path: "/overrides" })),
  );
  const button = (id: string, text: string, action: Parameters<App["callAction"]>[0]) => {
    const b = h("button", { type: "button", "data-testid": `call-${id}` }, text);
    b.addEventListener("click", () => app.callAction(action));
    return b;
  };
  return h(
    "section",
    { class: "controls", "data-testid": "control-panel" },
    h("h2", {}, "Control"),
    form,
    h(
      "div",
      { class: "call-actions" },
      "Selected call: ",
      button("bye", "Hang up (BYE)", "bye"),
      button("hold", "Hold", "hold"),
      button("reinvite", "Resume / re-INVITE", "reinvite"),
      button("notify", "NOTIFY (message waiting)", "notify"),
    ),
    app.controlResult,
  );
}

export function overridesView(app: App): HTMLElement {
  const rows = app.overrides.map((o) => {
    const remove = h("button", { type: "button", "data-testid": "override-remove" }, "Remove");
    remove.addEventListener(
      "click",
      () =>
        void app.run(`remove ${o.id}`, () => ({
          method: "DELETE",
          path: `/overrides/${encodeURIComponent(o.id)}`,
        })),
    );
    const left = o.remaining !== undefined ? `, ${o.remaining} left` : "";
    return h(
      "li",
      { "data-testid": "override-row", "data-id": o.id },
      h("code", {}, visible(`${o.id}: ${JSON.stringify(o.rule)}`)),
      ` applied ${o.applied}${left} `,
      remove,
    );
  });
  return h(
    "section",
    { class: "overrides" },
    h("h2", {}, `Overrides (${rows.length})`),
    h("ul", {}, ...rows),
  );
}

export function dialogsView(app: App): HTMLElement {
  const rows = app.dialogs.map((d) => {
    const row = h(
      "li",
      { "data-testid": "dialog-row", "data-call-id": d.callId, tabindex: 0 },
      visible(d.callId),
      d.confirmed ? "" : " (not acknowledged yet)",
    );
    row.addEventListener("click", () => app.select(d.callId));
    return row;
  });
  return h("section", { class: "dialogs" }, h("h2", {}, `Dialogs (${rows.length})`), h("ul", {}, ...rows));
}

export function registrationsView(app: App): HTMLElement {
  const rows = app.registrations.map((r) => {
    const call = h("button", { type: "button", "data-testid": "call-phone" }, "Call this phone");
    call.addEventListener("click", () => void app.run(`call ${r.aor}`, () => callPhoneRequest(r.aor)));
    return h(
      "li",
      { "data-testid": "registration-row", "data-aor": r.aor },
      h("span", { class: "aor" }, visible(r.aor)),
      " ",
      h(
        "span",
        { class: "contacts" },
        visible(r.contacts.map((c) => `${c.uri} (${c.expires} s)`).join(", ")),
      ),
      " ",
      call,
    );
  });
  return h(
    "section",
    { class: "registrations" },
    h("h2", {}, `Registrations (${rows.length})`),
    h("ul", {}, ...rows),
  );
}
