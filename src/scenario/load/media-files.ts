/** A rule's `media:`: the WAV files it plays exist (relative to the scenario file); no files in inline scenarios. */
import { existsSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import type { MediaT, RuleT } from "../schema.js";
import type { Path, Report } from "./problems.js";

/** Checks each rule's media files, and records each one's absolute path in `mediaFiles`. */
export function checkMedia(
  rules: ReadonlyArray<RuleT | undefined>,
  file: string,
  report: Report,
  mediaFiles: Map<string, string>,
  allowFiles: boolean,
): void {
  const baseDir = dirname(resolve(file));
  rules.forEach((rule, i) => {
    const m = rule?.media;
    if (m === undefined || typeof m === "string") return;
    const here: Path = ["rules", i, "media"];
    const plays = playedFiles(m, here);
    const record = "play" in m || "tone" in m ? undefined : m.record;
    if (!allowFiles && (plays.length > 0 || record !== undefined)) {
      report(
        plays[0]?.[0] ?? [...here, "record"],
        "media files (play:, record:) can only be used by scenarios loaded from a file",
        "load the scenario from a file (--scenario), or use echo, silence or tone",
      );
      return;
    }
    for (const [path, name] of plays) {
      const full = resolve(baseDir, name);
      if (!existsSync(full) || !statSync(full).isFile())
        report(
          path,
          `WAV file ${name} does not exist (looked at ${relative(process.cwd(), full) || full})`,
          "paths are relative to the scenario file",
        );
      else mediaFiles.set(name, full);
    }
    if (record !== undefined) mediaFiles.set(record, resolve(baseDir, record));
  });
}

/** The `play:` files of a media section, with where each is written. */
function playedFiles(m: Exclude<MediaT, string>, here: Path): Array<[Path, string]> {
  const plays: Array<[Path, string]> = [];
  if ("play" in m) plays.push([[...here, "play"], m.play]);
  for (const k of ["early", "answered"] as const) {
    const a = "play" in m || "tone" in m ? undefined : m[k];
    if (a && typeof a === "object" && "play" in a) plays.push([[...here, k, "play"], a.play]);
  }
  return plays;
}
