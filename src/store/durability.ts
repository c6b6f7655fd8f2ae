/**
 * The engine's side of a durable store: which tasks changed since the last
 * commit, and the batch that writes them. Rows are built from the records
 * at commit time, so a task that changed five times in a tick is written
 * once, as it stands. When to commit, and what waits for it, is decided
 * in actors/commits.ts.
 */
import type { TaskRecord } from '../actors/task-record.js';
import { StoreError } from '../errors.js';
import { encodeError, encodeSpec } from './codec.js';
import type { StoreBatch, TaskRow, TaskStateRow, TaskStore } from './task-store.js';

export class Durability {
  readonly store: TaskStore;
  /** Registered since the last commit, with their encoded specs; written whole. */
  #inserts = new Map<string, { readonly record: TaskRecord; readonly spec: Uint8Array; readonly seq: number }>();
  /** Changed since the last commit (not newly registered). */
  #updates = new Map<string, TaskRecord>();
  #deletes = new Set<string>();
  #seq: number;
  #closed = false;

  constructor(store: TaskStore, lastSeq: number) {
    this.store = store;
    this.#seq = lastSeq;
  }

  /** Registration order continues after the last stored task's. */
  continueAfter(seq: number): void {
    if (seq > this.#seq) this.#seq = seq;
  }

  get hasPending(): boolean {
    return this.#inserts.size > 0 || this.#updates.size > 0 || this.#deletes.size > 0;
  }

  registered(record: TaskRecord): void {
    // A pending delete of an earlier task with this id stays: the store applies deletes first.
    this.#inserts.set(record.id, { record, spec: encodeSpec(record.spec), seq: ++this.#seq });
  }

  /** The task changed (its state, or only its progress). */
  changed(record: TaskRecord): void {
    if (!this.#inserts.has(record.id)) this.#updates.set(record.id, record);
  }

  forgotten(record: TaskRecord): void {
    this.#inserts.delete(record.id);
    this.#updates.delete(record.id);
    this.#deletes.add(record.id); // a no-op in the store if the row was never written
  }

  /**
   * Writes everything pending in one transaction; `adjust` rewrites state rows on their way out.
   * @throws StoreError when the store cannot; what was pending stays pending.
   */
  commit(adjust?: (row: TaskStateRow) => TaskStateRow): void {
    if (!this.hasPending || this.#closed) return;
    const state = adjust === undefined ? stateRow : (record: TaskRecord) => adjust(stateRow(record));
    const batch: StoreBatch = {
      deletes: [...this.#deletes],
      inserts: [...this.#inserts.values()].map(({ record, spec, seq }) => ({ ...state(record), name: record.name, seq, spec, createdAt: record.createdAt }) satisfies TaskRow),
      updates: [...this.#updates.values()].map(state),
    };
    try {
      this.store.commit(batch);
    } catch (error) {
      throw error instanceof StoreError ? error : new StoreError(`The store could not save ${describeBatch(batch)}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    // A finished task's encoded result is on disk now; the record keeps only the value.
    for (const { record } of this.#inserts.values()) if (record.state === 'completed') record.storedResult = undefined;
    for (const record of this.#updates.values()) if (record.state === 'completed') record.storedResult = undefined;
    this.#inserts = new Map();
    this.#updates = new Map();
    this.#deletes = new Set();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.store.close();
  }
}

function stateRow(record: TaskRecord): TaskStateRow {
  return {
    id: record.id,
    state: record.state,
    attempts: record.attempts,
    progress: record.progress,
    message: record.message ?? null,
    startSeq: record.seq,
    submittedAt: record.submittedAt ?? null,
    startedAt: record.startedAt ?? null,
    finishedAt: record.finishedAt ?? null,
    attemptStartedAt: record.state === 'running' ? record.attemptStartedAt : null,
    deadline: record.deadline ?? null,
    result: record.state === 'completed' ? (record.storedResult ?? null) : null,
    error: encodeError(record.error ?? record.lastError),
  };
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
