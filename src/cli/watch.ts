/**
 * `serve --watch`: reload the scenario files whenever one changes. An
 * invalid change is reported and the previous scenario keeps answering.
 *
 * The directories are watched, not the files: an atomic save (write a
 * temporary file, rename it over the scenario: sed -i, mv, most editors)
 * replaces the file's inode, and a watch on the old inode would never fire
 * again. Names are compared after a short settle, so a delete followed by a
 * re-create, or an editor's several writes, make one reload.
 */
import { readFileSync, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Logger } from "../control/logger.js";
import type { SipMock } from "../control/sipmock.js";
import { describeLoadError } from "../scenario/builtin.js";
import { resolveScenarioPath } from "../scenario/bundled.js";
import { ScenarioLoadError } from "../scenario/load.js";

const SETTLE_MS = 100;

export function watchScenarios(mock: SipMock, files: string[], logger: Logger): { close(): void } {
  const watched = files.map((f) => resolve(resolveScenarioPath(f)));
  /** The text of every file at the last reload (or start): a save that changes nothing reloads nothing. */
  let last = snapshot(watched);
  let missingReported = false;
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    const now = snapshot(watched);
    const missing = files.filter((_, i) => now[i] === undefined);
    if (missing.length > 0) {
      // Mid-way through a delete and re-create, or a rename away: wait for it to come back.
      if (!missingReported)
        logger.warn(
          `sipmock: ${missing.join(", ")} is gone; still serving the previous scenario until it is back`,
        );
      missingReported = true;
      return;
    }
    missingReported = false;
    if (now.every((t, i) => t === last[i])) return;
    last = now;
    try {
      mock.setScenario(files);
      logger.warn(`sipmock: scenario reloaded (${files.join(", ")})`);
    } catch (e) {
      const why = e instanceof ScenarioLoadError ? describeLoadError(e) : `sipmock: ${(e as Error).message}`;
      logger.error(`${why}\nsipmock: reload refused; still serving the previous scenario`);
    }
  };
  const names = new Set(watched.map((f) => basename(f)));
  const onEvent = (_event: string, name: string | Buffer | null) => {
    // Some platforms do not say which file changed: then any change counts.
    if (name !== null && !names.has(name.toString())) return;
    clearTimeout(timer);
    timer = setTimeout(reload, SETTLE_MS);
  };
  const watchers = [...new Set(watched.map((f) => dirname(f)))].map((dir) => watch(dir, onEvent));
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

function snapshot(files: readonly string[]): Array<string | undefined> {
  return files.map((f) => {
    try {
      return readFileSync(f, "utf8");
    } catch {
      return undefined;
    }
  });
}
