/**
 * Reading a scenario's YAML: size bounds first, then the syntax (its first
 * error only), the environment variables, and plain data with the source
 * position of every path kept for messages.
 */
import { LineCounter, type Node, parseDocument } from "yaml";
import { checkBounds, MAX_ALIAS_COUNT, type ScenarioLimits } from "../bounds.js";
import { type At, expandEnvironment } from "./environment.js";
import { Positions } from "./positions.js";

export type { At } from "./environment.js";

/** A scenario document read: its data and where each path of it was written. */
export interface YamlScenario {
  readonly data: unknown;
  readonly positions: Positions;
}

/** The document of `text`, or undefined when a problem was reported with `at`. */
export function readYaml(
  text: string,
  env: NodeJS.ProcessEnv,
  limits: ScenarioLimits,
  at: At,
): YamlScenario | undefined {
  const bounded = checkBounds(text, limits);
  if (bounded) {
    at(bounded.pos, bounded.message, bounded.hint);
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  // Only the first syntax error: the parser's later ones follow from it.
  const syntax = doc.errors[0];
  if (syntax) {
    const p = syntax.linePos?.[0] ?? lines.linePos(syntax.pos[0]);
    const hint = /flow-map-start|flow-seq-start/.test(syntax.message)
      ? `quote a value that holds { or [, e.g. "$\{VAR:-2}"`
      : "check indentation, quotes and colons";
    at(p, `YAML: ${syntax.message.split("\n")[0]}`, hint);
    return undefined;
  }
  if (!expandEnvironment(doc, lines, env, at)) return undefined;
  const positions = new Positions(doc.contents as Node | null, lines);
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {}, positions };
  } catch (e) {
    // The yaml library refuses an alias that expands too much ("billion laughs").
    at(
      { line: 1, col: 1 },
      `YAML: ${(e as Error).message}`,
      "use fewer aliases (*name), or write the values out",
    );
    return undefined;
  }
}
