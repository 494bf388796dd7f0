/** Entry point: reads the page data and starts the live UI or the report. */
import { App } from "./app.js";
import { AdminClient } from "./live.js";
import { parsePageData } from "./types.js";

function start(): void {
  const root = document.getElementById("app");
  if (!root) return;
  let data: ReturnType<typeof parsePageData>;
  try {
    data = parsePageData(document.getElementById("sipmock-data")?.textContent);
  } catch (e) {
    root.textContent = (e as Error).message;
    return;
  }
  if (data.mode === "report") {
    new App(data, undefined).mount(root);
    return;
  }
  const client = new AdminClient(data.api.replace(/\/+$/, ""), data.token);
  const app = new App(data, client);
  app.mount(root);
  forgetToken();
  let lastId = 0;
  let broken = false;
  const load = async () => {
    try {
      const entries = await client.journal(lastId);
      for (const e of entries) {
        lastId = Math.max(lastId, e.id);
        app.add(e);
      }
    } catch (e) {
      app.status.textContent = (e as Error).message;
    }
  };
  // The stream first, then the journal: nothing falls between the two (entries are kept once by id).
  client.events({
    entry: (e) => {
      lastId = Math.max(lastId, e.id);
      app.add(e);
      const m = e.kind === "request" ? e.method : undefined;
      if (m === "REGISTER" || m === "INVITE" || m === "BYE" || e.kind === "response" || e.kind === "media")
        void app.refreshSide();
    },
    reset: () => {
      app.reset();
      void app.refreshSide();
    },
    open: () => {
      // After a reconnection, what the stream missed comes from the journal.
      if (broken) void load();
      broken = false;
    },
    error: () => {
      broken = true;
      app.status.textContent = "live updates interrupted; reconnecting\u2026";
    },
  });
  void load();
  void app.refreshSide();
  setInterval(() => void app.refreshSide(), 5000);
}

/** The page has its token (in the page data): ?token= leaves the address bar and the history. */
function forgetToken(): void {
  const url = new URL(location.href);
  if (!url.searchParams.has("token")) return;
  url.searchParams.delete("token");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

start();
