/**
 * The interface between the engine and a durable store. The engine decides
 * what to write and when (group commits, the durability point), and turns
 * specs, results and errors into the plain values of a row; a store keeps
 * rows and applies each batch atomically. `SqliteStore` (`taskchart/sqlite`)
 * is the store that ships; the in-memory engine has none.
 *
 * A store is synchronous on purpose: the engine commits a batch before it
 * lets a terminal status be seen and before it runs an attempt, within the
 * same turn of the event loop.
 */
import type { TaskState } from '../machines/task.machine.js';

/** What changes about a task after it is registered. Times are ms since the epoch (`now()`). */
export interface TaskStateRow {
  readonly id: string;
  /** The machine's top-level state; `running` on disk after a crash means the attempt was interrupted. */
  readonly state: TaskState;
  /** Attempts started (and counted) so far. */
  readonly attempts: number;
  readonly progress: number;
  readonly message: string | null;
  /** Start order (0 while never started); orders FIFO within a priority level after a restore. */
  readonly startSeq: number;
  readonly submittedAt: number | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  /** When the running attempt started (meaningful in `running`). */
  readonly attemptStartedAt: number | null;
  /** The backoff's end (in `retrying`) or the running attempt's timeout (in `running`); null when none. */
  readonly deadline: number | null;
  /** `v8.serialize` of the result (COMPLETED), else null. */
  readonly result: Uint8Array | null;
  /** JSON of the error (name, message, code, stack, cause, props) when FAILED, CANCELLED or retrying; else null. */
  readonly error: string | null;
  /**
   * `v8.serialize` of how the task's dependencies that were forgotten while it was live ended (id, name, status,
   * result, serialized error); null or absent when none was. A store that does not keep it restores such a
   * dependency as COMPLETED without a result.
   */
  readonly forgottenDependencies?: Uint8Array | null;
  /** Of `attempts`, those that do not count against `maxRetries` (rate limited, re-run free). Absent: 0. */
  readonly freeAttempts?: number;
  /** `v8.serialize` of the last heartbeat's details (the checkpoint for the next attempt); null or absent when none. */
  readonly checkpoint?: Uint8Array | null;
  readonly lastHeartbeatAt?: number | null;
  /** Attempts interrupted by a process death, and remote attempts whose worker process died. Absent: 0. */
  readonly interruptions?: number;
  readonly crashes?: number;
  /** Completed from the results cache. Absent: false. */
  readonly cached?: boolean;
  /** When its `deadline` passed (the alert went out); null or absent when it did not. */
  readonly deadlineMissedAt?: number | null;
}

/** A result kept by the results cache: `v8.serialize` of a COMPLETED result under its cache key. */
export interface CacheRow {
  readonly key: string;
  readonly result: Uint8Array;
  readonly createdAt: number;
  /** When it stops being fresh (ms since the epoch); null for never. */
  readonly expiresAt: number | null;
}

/** A whole task: what is fixed at registration, and its state. */
export interface TaskRow extends TaskStateRow {
  readonly name: string;
  /** Registration order, increasing; restore returns rows in this order. */
  readonly seq: number;
  /** `v8.serialize` of the durable part of the resolved spec (no closures). */
  readonly spec: Uint8Array;
  readonly createdAt: number;
}

/**
 * The writes of one group commit, applied in one transaction: deletes, then inserts, then updates
 * (an id forgotten and registered again in one tick is deleted, then inserted anew).
 */
export interface StoreBatch {
  readonly deletes: readonly string[];
  readonly inserts: readonly TaskRow[];
  readonly updates: readonly TaskStateRow[];
  /** Results cache entries to write (insert or replace), with the tasks that completed them. */
  readonly cacheWrites?: readonly CacheRow[];
}

/**
 * A durable store for one engine at a time.
 *
 * @example
 * new TaskEngine({ store: new SqliteStore({ path: 'tasks.db' }) })
 */
export interface TaskStore {
  /**
   * Opens the store for this engine: takes the single-writer lock, checks the
   * format and schema version (before writing anything), migrates an older
   * schema. Called once, by the engine's constructor.
   * @returns how many tasks it holds (0 for a new store).
   * @throws StoreError (ERR_STORE) when the store cannot be used.
   */
  open(): { readonly tasks: number };
  /** Every task, in registration order (`seq`). */
  load(): Iterable<TaskRow>;
  /**
   * Applies the batch atomically and durably (as far as the store's sync setting goes).
   * @throws StoreError when it cannot (disk full, read-only file, I/O error); nothing of the batch is applied then.
   */
  commit(batch: StoreBatch): void;
  /**
   * The results cache (`cache` on a task spec): the fresh result stored under `key` at `now`, if any. A store
   * without these methods leaves a durable engine's cache in memory.
   * @throws StoreError when it cannot read.
   */
  cacheGet?(key: string, now: number): Uint8Array | undefined;
  /** Empties the results cache (`engine.clearCache()`). */
  cacheClear?(): void;
  /** Releases the lock and the file. Idempotent. */
  close(): void;
}
