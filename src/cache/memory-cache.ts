/**
 * The in-memory store of cached results: at most `maxEntries` of them, the least recently used (set or hit) evicted
 * first; an entry past its `expiresAt` is dropped when it is next looked up, or evicted as it ages. Time is the
 * caller's: `get` is given `now` (the engine's clock, a fake one in tests), and nothing here reads a clock.
 *
 * Built on lru-cache (`max` only; its own `ttl` is not used, since it reads `performance.now()`): its recency list is
 * kept in typed arrays indexed by slot, so a hit and an eviction are O(1) with no allocation. A Map-based LRU
 * (delete and re-set on a hit, evict `keys().next()`) measured over 10,000 entries about as fast on hits but ~10 µs
 * per eviction, since V8 leaves a Map's deleted entries as holes that each `keys().next()` walks past until a
 * rehash; lru-cache measured ~0.4 µs. The price: lru-cache allocates its slots for `maxEntries` up front (~28 bytes
 * an entry, ~60 MB and 150 ms for a million), so `maxEntries` should be what the engine means to hold, not a
 * "no limit" stand-in.
 */
import { LRUCache } from 'lru-cache';
import { invalid } from '../validate.js';

/** One stored result, and when it stops being fresh (undefined: never). */
interface Entry {
  readonly result: unknown;
  readonly expiresAt: number | undefined;
}

/**
 * A bounded least-recently-used store of task results by cache key, with expiry by the caller's clock.
 *
 * @example
 * const cache = new MemoryResultCache(1000);
 * cache.set(key, result, now() + 60_000);
 * const hit = cache.get(key, now()); // { result } while fresh, undefined from expiresAt on
 */
export class MemoryResultCache {
  readonly #entries: LRUCache<string, Entry>;

  /**
   * @param maxEntries The most results kept, an integer >= 1; storing one more evicts the least recently used.
   * @throws {InvalidOptionError} for any other `maxEntries`.
   */
  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw invalid('maxEntries', 'an integer from 1 and up', maxEntries);
    }
    this.#entries = new LRUCache<string, Entry>({ max: maxEntries });
  }

  /** The result stored under `key` if still fresh at `now` (expiresAt > now), made the most recently used; an expired entry is deleted. */
  get(key: string, now: number): { readonly result: unknown } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stores `result` under `key` as the most recently used, fresh until `expiresAt` (undefined: until evicted or deleted). */
  set(key: string, result: unknown, expiresAt: number | undefined): void {
    this.#entries.set(key, { result, expiresAt });
  }

  /** Forgets `key`; whether it was stored (fresh or not). */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.clear();
  }

  /** Entries stored, expired ones not yet looked up included. */
  get size(): number {
    return this.#entries.size;
  }
}
