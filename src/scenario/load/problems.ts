/**
 * What loading a scenario produces: the problems (each one line,
 * `file:line:col: message; fix: hint`) or the validated source.
 */
import type { ScenarioFileT } from "../schema.js";

export interface ScenarioProblem {
  readonly file: string;
  /** 1-based; 0 when the problem has no position (an unreadable file, a flag). */
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly hint?: string;
}

export function formatProblem(p: ScenarioProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file;
  return `${where}: ${p.message}${p.hint ? `; fix: ${p.hint}` : ""}`;
}

export class ScenarioLoadError extends Error {
  constructor(readonly problems: readonly ScenarioProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ScenarioLoadError";
  }
}

/** A validated scenario file, with what the engine needs resolved (bodies read, env expanded). */
export interface ScenarioSource {
  readonly file: string;
  readonly definition: ScenarioFileT;
  /** Bodies given as `file:`, read at load time, by the path as written. */
  readonly files: ReadonlyMap<string, string>;
  /** `media: { play: FILE }` and `record: FILE`: the path as written -> the absolute path (relative to the scenario file). */
  readonly mediaFiles?: ReadonlyMap<string, string>;
}

/** The outcome of loading one scenario: its source, or every problem found. */
export type LoadResult = { ok: true; source: ScenarioSource } | { ok: false; problems: ScenarioProblem[] };

/** A place in the scenario document: keys and list indexes from the root. */
export type Path = ReadonlyArray<string | number>;

/** Records a problem at a place of the document (`key`: at the key itself, not its value). */
export type Report = (path: Path, message: string, hint?: string, key?: boolean) => void;
