/**
 * A Map whose table V8 does not reallocate each time it empties (issue 12).
 * V8 shrinks a Map's table (a runtime call and a new table) when a delete
 * leaves fewer entries than half its buckets, so a map that goes from 0 to
 * 1 entry and back once per request (a transaction's, its context's)
 * allocated a table every time: with the smallest table, only an empty map
 * shrinks. One hidden entry, never deleted, keeps it from emptying; size and
 * iteration leave it out.
 */
const PIN = Symbol("steady-map pin");

export class SteadyMap<K, V> extends Map<K, V> {
  constructor() {
    super();
    super.set(PIN as K, undefined as V);
  }

  override get size(): number {
    return super.size - 1;
  }

  override clear(): void {
    super.clear();
    super.set(PIN as K, undefined as V);
  }

  override *entries(): MapIterator<[K, V]> {
    for (const e of super.entries()) if (e[0] !== PIN) yield e;
  }

  override *keys(): MapIterator<K> {
    for (const k of super.keys()) if (k !== PIN) yield k;
  }

  override *values(): MapIterator<V> {
    for (const [k, v] of super.entries()) if (k !== PIN) yield v;
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  override forEach(fn: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}
