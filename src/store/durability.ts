/**
 * The engine's side of a durable store: which tasks changed since the last
 * commit, and the batch that writes them. Rows are built from the tasks at
 * commit time, so a task that changed five times in a tick is written once,
 * as it stands. What a task's row says is the supervisor's to decide (the
 * {@link TaskRows} it gives, src/actors/task-rows.ts); when to commit, and
 * what waits for it, is decided in actors/commits.ts.
 */
import { StoreError } from '../errors.js';
import type { ResolvedTaskSpec } from '../task-spec.js';
import { encodeSpec } from './codec.js';
import type { CacheRow, StoreBatch, TaskRow, TaskStateRow, TaskStore } from './task-store.js';

/** How the engine's task objects (`T`, opaque here) become rows. */
export interface TaskRows<T> {
  id(task: T): string;
  /** What is fixed at registration. */
  fixed(task: T): { readonly name: string; readonly createdAt: number; readonly spec: ResolvedTaskSpec };
  /** The task's state row as it stands now. */
  state(task: T): TaskStateRow;
  /** The task's row is on disk (after a successful commit). */
  written(task: T): void;
}

interface Insert<T> {
  readonly task: T;
  readonly name: string;
  readonly createdAt: number;
  readonly spec: Uint8Array;
  readonly seq: number;
}

export class Durability<T = unknown> {
  readonly store: TaskStore;
  readonly #rows: TaskRows<T>;
  /** Registered since the last commit, with their encoded specs; written whole. */
  #inserts = new Map<string, Insert<T>>();
  /** Changed since the last commit (not newly registered). */
  #updates = new Map<string, T>();
  #deletes = new Set<string>();
  /** Results cache entries written with the next commit, by key (the latest wins). */
  #cacheWrites = new Map<string, CacheRow>();
  #seq: number;
  #closed = false;

  constructor(store: TaskStore, lastSeq: number, rows: TaskRows<T>) {
    this.store = store;
    this.#seq = lastSeq;
    this.#rows = rows;
  }

  /** Registration order continues after the last stored task's. */
  continueAfter(seq: number): void {
    if (seq > this.#seq) this.#seq = seq;
  }

  get hasPending(): boolean {
    return this.#inserts.size > 0 || this.#updates.size > 0 || this.#deletes.size > 0 || this.#cacheWrites.size > 0;
  }

  /** A results cache entry to write with the next commit (in the transaction of the task that completed it). */
  cached(entry: CacheRow): void {
    this.#cacheWrites.set(entry.key, entry);
  }

  /** A cache entry not yet committed, for a lookup that must see it. */
  pendingCache(key: string): CacheRow | undefined {
    return this.#cacheWrites.get(key);
  }

  /** Forgets the cache entries not yet committed (`clearCache`). */
  clearPendingCache(): void {
    this.#cacheWrites = new Map();
  }

  registered(task: T): void {
    const { name, createdAt, spec } = this.#rows.fixed(task);
    // A pending delete of an earlier task with this id stays: the store applies deletes first.
    this.#inserts.set(this.#rows.id(task), { task, name, createdAt, spec: encodeSpec(spec), seq: ++this.#seq });
  }

  /** The task changed (its state, or only its progress). */
  changed(task: T): void {
    const id = this.#rows.id(task);
    if (!this.#inserts.has(id)) this.#updates.set(id, task);
  }

  forgotten(task: T): void {
    const id = this.#rows.id(task);
    this.#inserts.delete(id);
    this.#updates.delete(id);
    this.#deletes.add(id); // a no-op in the store if the row was never written
  }

  /**
   * Writes everything pending in one transaction; `adjust` rewrites state rows on their way out.
   * @throws StoreError when the store cannot; what was pending stays pending.
   */
  commit(adjust?: (row: TaskStateRow) => TaskStateRow): void {
    if (!this.hasPending || this.#closed) return;
    const rows = this.#rows;
    const state = adjust === undefined ? (task: T) => rows.state(task) : (task: T) => adjust(rows.state(task));
    const batch: StoreBatch = {
      deletes: [...this.#deletes],
      inserts: [...this.#inserts.values()].map(
        ({ task, name, createdAt, spec, seq }) => ({ ...state(task), name, seq, spec, createdAt }) satisfies TaskRow,
      ),
      updates: [...this.#updates.values()].map(state),
      ...(this.#cacheWrites.size > 0 && { cacheWrites: [...this.#cacheWrites.values()] }),
    };
    try {
      this.store.commit(batch);
    } catch (error) {
      throw error instanceof StoreError
        ? error
        : new StoreError(`The store could not save ${describeBatch(batch)}: ${(error as Error)?.message ?? String(error)}`, {
            cause: error,
          });
    }
    for (const { task } of this.#inserts.values()) rows.written(task);
    for (const task of this.#updates.values()) rows.written(task);
    this.#inserts = new Map();
    this.#updates = new Map();
    this.#deletes = new Set();
    if (this.#cacheWrites.size > 0) this.#cacheWrites = new Map();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.store.close();
  }
}

function describeBatch(batch: StoreBatch): string {
  const parts = [
    batch.inserts.length > 0 && `${batch.inserts.length} new task(s)`,
    batch.updates.length > 0 && `${batch.updates.length} change(s)`,
    batch.deletes.length > 0 && `${batch.deletes.length} deletion(s)`,
  ].filter(Boolean);
  const first = batch.inserts[0]?.id ?? batch.updates[0]?.id ?? batch.deletes[0];
  return `${parts.join(', ')} (first: task \`${first}\`)`;
}
