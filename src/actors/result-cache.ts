/**
 * The results cache of tasks with `cache` in their spec (docs/long-running.md): a task whose key has a fresh
 * COMPLETED result completes with it, without an attempt (the statechart's CACHE_HIT, from `queued`). The key is
 * the spec's `cache.key`, or the default hash of what runs, its args and its dependencies' results
 * (src/cache/cache-key.ts), computed once per task. A durable task's results live in the store (written in the
 * transaction of the task that completed them, so a pipeline run again after a crash finds them); other tasks'
 * in a bounded in-memory LRU (`cacheSize`), made on first use.
 */
import { deserialize } from 'node:v8';
import { CacheKeyError, defaultCacheKey } from '../cache/cache-key.js';
import { MemoryResultCache } from '../cache/memory-cache.js';
import { StoreError } from '../errors.js';
import { encodeResult } from '../store/codec.js';
import type { Durability } from '../store/durability.js';
import type { ResolvedTaskSpec } from '../task-spec.js';
import type { DependencyOutcome } from '../wire/dependencies.js';
import type { TaskRecord } from './task-record.js';

/** What the cache needs from the supervisor. */
export interface CacheHost {
  now(): number;
  /** The task's dependencies as they ended (for the default key). */
  outcomes(record: TaskRecord): readonly DependencyOutcome[];
  /** The task runs uncached: its key or its result cannot be kept (a `cache-skipped` event). */
  skipped(record: TaskRecord, error: Error): void;
  /** The store failed (the engine halts). */
  storeFailed(error: StoreError): void;
}

/** A fresh result found, and, for a durable task, its stored bytes (its row keeps them). */
export interface CacheHit {
  readonly result: unknown;
  readonly stored: Uint8Array | undefined;
}

export class ResultCache {
  readonly #size: number;
  readonly #host: CacheHost;
  readonly #durability: Durability | undefined;
  #memory: MemoryResultCache | undefined;

  constructor(size: number, host: CacheHost, durability: Durability | undefined) {
    this.#size = size;
    this.#host = host;
    this.#durability = durability;
  }

  /** The fresh result for the task's key, if the cache holds one; undefined when it does not or the task has no key. */
  lookup(record: TaskRecord): CacheHit | undefined {
    const key = this.#keyOf(record);
    if (key === null) return undefined;
    const now = this.#host.now();
    if (!this.#inStore(record)) {
      const hit = this.#memory?.get(key, now);
      return hit === undefined ? undefined : { result: hit.result, stored: undefined };
    }
    const durability = this.#durability as Durability;
    const pending = durability.pendingCache(key);
    let bytes: Uint8Array | undefined;
    if (pending !== undefined) bytes = pending.expiresAt === null || pending.expiresAt > now ? pending.result : undefined;
    else {
      try {
        bytes = durability.store.cacheGet?.(key, now);
      } catch (error) {
        this.#host.storeFailed(error instanceof StoreError ? error : new StoreError(String(error), { cause: error }));
        return undefined;
      }
    }
    return bytes === undefined ? undefined : { result: deserialize(bytes), stored: bytes };
  }

  /** A task with a key completed (not from the cache): its result is kept under its key. */
  remember(record: TaskRecord, result: unknown): void {
    const key = record.long?.cacheKey;
    if (key === undefined || key === null) return;
    const now = this.#host.now();
    const ttl = record.spec.cache?.ttl;
    const expiresAt = ttl === undefined ? undefined : now + ttl;
    if (!this.#inStore(record)) {
      (this.#memory ??= new MemoryResultCache(this.#size)).set(key, result, expiresAt);
      return;
    }
    let bytes = record.storedResult;
    if (bytes === undefined) {
      try {
        bytes = encodeResult(result);
      } catch (error) {
        this.#host.skipped(
          record,
          new Error(`Cannot keep the result in the results cache: ${(error as Error)?.message}`, { cause: error }),
        );
        return;
      }
    }
    (this.#durability as Durability).cached({ key, result: bytes, createdAt: now, expiresAt: expiresAt ?? null });
  }

  /** Empties the cache: memory, the store's, and entries not yet committed. */
  clear(): void {
    this.#memory?.clear();
    const durability = this.#durability;
    if (durability === undefined) return;
    durability.clearPendingCache();
    durability.store.cacheClear?.();
  }

  /** Whether the task's results go to the store: a durable task, with a store that keeps a cache. */
  #inStore(record: TaskRecord): boolean {
    return record.durable && this.#durability?.store.cacheGet !== undefined;
  }

  /** The task's key, computed once; null when it cannot be computed (the task runs uncached, with a warning). */
  #keyOf(record: TaskRecord): string | null {
    const long = record.longState;
    if (long.cacheKey !== undefined) return long.cacheKey;
    const spec = record.spec;
    const given = spec.cache?.key;
    if (given !== undefined) return (long.cacheKey = given);
    try {
      const dependencies = this.#host.outcomes(record).map((outcome) => ({ status: outcome.status, result: outcome.result }));
      long.cacheKey = defaultCacheKey({ what: whatRuns(spec), args: spec.args, dependencies });
    } catch (error) {
      if (!(error instanceof CacheKeyError)) throw error;
      long.cacheKey = null;
      this.#host.skipped(record, error);
    }
    return long.cacheKey;
  }
}

/** What runs, for the default key: the handler, the module and export, or (an inline `fn`) the task's name. */
function whatRuns(spec: ResolvedTaskSpec): string {
  if (spec.kind === 'handler') return `handler:${spec.handler}`;
  if (spec.kind === 'module') return `module:${spec.module}#${spec.exportName}`;
  return `fn:${spec.name}`;
}
