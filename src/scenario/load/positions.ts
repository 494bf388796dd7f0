/** Source positions of a YAML document, by path, for `file:line:col` messages. */
import { isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";
import type { Path } from "./problems.js";

/** A line and column, 1-based. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** Where a path of the document starts; the nearest existing ancestor when the path does not exist. */
export class Positions {
  constructor(
    private readonly root: Node | null,
    private readonly lines: LineCounter,
  ) {}

  at(path: Path, key = false): Position {
    let node: unknown = this.root;
    let best: { range?: [number, number, number] | null } | undefined = this.root ?? undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && key && pair.key && isScalar(pair.key)) {
          best = pair.key;
          break;
        }
        node = pair.value;
        best = (pair.value as Node | null) ?? (pair.key as Node);
      } else if (isSeq(node) && typeof seg === "number") {
        node = node.items[seg];
        if (!node) break;
        best = node as Node;
      } else break;
    }
    const offset = best?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { line: pos.line, col: pos.col };
  }
}
