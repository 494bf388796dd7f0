/**
 * Transaction key -> the rule that answered it, for the journal: the last
 * `max` keys ruled, as a BoundedMap of `max` holds them (oldest dropped
 * first). Most messages look up the key ruled last (a response sent at
 * once, the ACK right after it): no map. Rulings wait in two arrays (no
 * hashing) until a message looks up another key, and are put in the map
 * then; when more wait than the map holds, the older ones would be evicted
 * by the newer, so they are dropped unhashed. A flow whose
 * messages always follow their ruling (OPTIONS, REGISTER) never hashes a
 * key (issue 12: a Map set and eviction per request, about 1 µs at 10,000
 * keys with a cold cache).
 *
 * One difference from the map: a key ruled again while more than `max`
 * wait counts twice, so a key ruled between them may be forgotten early
 * (the same request decided again after its transaction ended).
 */
import { BoundedMap } from "../sip/bounded-map.js";

export class RuleMemory {
  private readonly map: BoundedMap<string, string>;
  /** Rulings not in the map yet, oldest first. */
  private keys: string[] = [];
  private rules: string[] = [];
  private lastKey: string | undefined;
  private lastRule: string | undefined;

  constructor(readonly max: number) {
    this.map = new BoundedMap(max);
  }

  set(key: string, rule: string): void {
    if (this.max < 1) return;
    this.keys.push(key);
    this.rules.push(rule);
    this.lastKey = key;
    this.lastRule = rule;
    if (this.keys.length >= 2 * this.max) this.dropOlder();
  }

  get(key: string): string | undefined {
    if (key === this.lastKey) return this.lastRule;
    if (this.keys.length > 0) this.store();
    return this.map.get(key);
  }

  clear(): void {
    this.map.clear();
    this.keys = [];
    this.rules = [];
    this.lastKey = this.lastRule = undefined;
  }

  /** Puts the waiting rulings in the map, in order. */
  private store(): void {
    if (this.keys.length > this.max) this.dropOlder();
    const { keys, rules } = this;
    for (let i = 0; i < keys.length; i++) this.map.set(keys[i]!, rules[i]!);
    keys.length = 0;
    rules.length = 0;
  }

  /** Keeps the newest `max` waiting: putting them in the map evicts the older ones and all it holds. */
  private dropOlder(): void {
    const n = this.keys.length - this.max;
    this.keys.splice(0, n);
    this.rules.splice(0, n);
  }
}
