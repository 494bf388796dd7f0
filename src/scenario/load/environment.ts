/** `${VAR}` and `${VAR:-default}` in the values of a scenario, expanded from the environment. */
import { type Document, type LineCounter, type Scalar, visit } from "yaml";
import type { Position } from "./positions.js";

/** ${NAME} or ${NAME:-default}; a default may hold {{template}} variables. */
const ENV = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:\{\{[^{}]*\}\}|[^{}])*))?\}/g;

/** Records a problem at a position. */
export type At = (pos: Position, message: string, hint?: string) => void;

/**
 * Expands every variable of every scalar of `doc` in place (issue:
 * composition with the environment); false when one is not set and has no
 * default (each reported).
 */
export function expandEnvironment(
  doc: Document,
  lines: LineCounter,
  env: NodeJS.ProcessEnv,
  at: At,
): boolean {
  let ok = true;
  visit(doc, {
    Scalar(_key, node: Scalar) {
      if (typeof node.value !== "string" || !node.value.includes("${")) return;
      const raw = node.value;
      let missing: string | undefined;
      const expanded = raw.replace(ENV, (_m, name: string, fallback: string | undefined) => {
        const v = env[name];
        if (v !== undefined && v !== "") return v;
        if (fallback !== undefined) return fallback;
        missing ??= name;
        return "";
      });
      if (missing !== undefined) {
        const pos = lines.linePos(node.range?.[0] ?? 0);
        at(
          pos,
          `environment variable ${missing} is not set`,
          `set it, or give a default: \${${missing}:-value}`,
        );
        ok = false;
        return;
      }
      // A value that is only a variable and looks like a number is a number (respond: ${CODE:-486}).
      const onlyVariable = raw.replace(ENV, "") === "" && (raw.match(ENV)?.length ?? 0) === 1;
      node.value = onlyVariable && /^-?\d+(\.\d+)?$/.test(expanded) ? Number(expanded) : expanded;
    },
  });
  return ok;
}
