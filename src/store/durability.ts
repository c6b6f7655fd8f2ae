/**
 * The engine's side of a durable store: which tasks changed since the last
 * commit, and the batch that writes them. Rows are built from the records
 * at commit time, so a task that changed five times in a tick is written
 * once, as it stands. The supervisor commits once per tick (and at once
 * for the verbs that end a task); see supervisor.ts for what waits for it.
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
    this.#inserts.set(record.id, { record, spec: encodeSpec(record.spec), seq: ++this.#seq });
    this.#deletes.delete(record.id);
  }

  /** The task changed (its state, or only its progress). */
  changed(record: TaskRecord): void {
    if (!this.#inserts.has(record.id)) this.#updates.set(record.id, record);
  }

  forgotten(record: TaskRecord): void {
    if (this.#inserts.delete(record.id)) return;
    this.#updates.delete(record.id);
    this.#deletes.add(record.id);
  }

  /**
   * Writes everything pending in one transaction.
   * @throws StoreError when the store cannot; what was pending stays pending.
   */
  commit(): void {
    if (!this.hasPending || this.#closed) return;
    const batch: StoreBatch = {
      inserts: [...this.#inserts.values()].map(({ record, spec, seq }) => ({ ...stateRow(record), name: record.name, seq, spec, createdAt: record.createdAt }) satisfies TaskRow),
      updates: [...this.#updates.values()].map(stateRow),
      deletes: [...this.#deletes],
    };
    try {
      this.store.commit(batch);
    } catch (error) {
      throw error instanceof StoreError ? error : new StoreError(`The store could not save ${describeBatch(batch)}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    this.#inserts = new Map();
    this.#updates = new Map();
    this.#deletes = new Set();
  }

  /** Writes `rows` over what is stored (suspend: running attempts written back as not counted). */
  overwrite(rows: readonly TaskStateRow[]): void {
    for (const row of rows) this.#updates.delete(row.id);
    this.commit();
    if (rows.length > 0) this.store.commit({ inserts: [], updates: rows, deletes: [] });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.store.close();
  }
}

export function stateRow(record: TaskRecord): TaskStateRow {
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
