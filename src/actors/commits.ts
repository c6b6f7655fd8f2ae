/**
 * A durable engine's group commit (docs/durability.md). The supervisor reports
 * what changed; this collects it and commits once the current step is done:
 * soon (a microtask) for registrations, starts and transitions, so that the
 * outcomes and attempts of many tasks share one transaction and nothing waits
 * for a timer; lazily (at the end of the event loop's turn) for progress and
 * deletions alone. After each commit, the held effects (CommitGate) happen.
 */
import { StoreError } from '../errors.js';
import type { TaskMachineContext, TaskState } from '../machines/task.machine.js';
import type { Durability } from '../store/durability.js';
import type { TaskStateRow } from '../store/task-store.js';
import { CommitGate } from './commit-gate.js';
import type { TaskRecord } from './task-record.js';

/** What the commits need from the supervisor. */
export interface CommitHost {
  readonly halted: () => boolean;
  /** The store failed: stop everything (the supervisor's `halt`). */
  halt(error: Error): void;
  /** Carry out what the commit let go (attempts, dependents). */
  drain(): void;
  now(): number;
}

export class Commits {
  /** Durable outcomes not yet on disk: their status events and settlements, and every event after them. */
  readonly gate = new CommitGate();
  readonly #durability: Durability;
  readonly #host: CommitHost;
  /** Successful commits so far: an attempt queued before the latest one is on disk and may run. */
  #count = 0;
  #soonScheduled = false;
  #lazyScheduled = false;

  constructor(durability: Durability, host: CommitHost) {
    this.#durability = durability;
    this.#host = host;
  }

  get count(): number {
    return this.#count;
  }

  get hasPending(): boolean {
    return this.#durability.hasPending;
  }

  registered(records: readonly TaskRecord[]): void {
    for (const record of records) if (record.durable) this.#durability.registered(record);
    if (this.#durability.hasPending) this.schedule(true);
  }

  /** A durable task entered `state`: its deadline (backoff end, attempt timeout) and last error go with its row. */
  entered(record: TaskRecord, state: TaskState, context: TaskMachineContext): void {
    const now = state === 'running' || state === 'retrying' ? this.#host.now() : 0;
    record.deadline =
      state === 'retrying'
        ? now + context.backoff
        : state === 'running' && context.timeout !== undefined
          ? now + context.timeout
          : undefined;
    record.lastError = state === 'retrying' ? context.error : undefined;
    record.freeAttempts = context.freeAttempts;
    this.#durability.changed(record);
  }

  progressed(record: TaskRecord): void {
    this.#durability.changed(record);
    this.schedule(false);
  }

  forgotten(record: TaskRecord): void {
    this.#durability.forgotten(record);
    this.schedule(false);
  }

  /** Marks a running task changed, so that the next commit writes it (suspend). */
  touch(record: TaskRecord): void {
    this.#durability.changed(record);
  }

  /**
   * Commits the pending writes, then carries out what waited for them, in order. False when the store
   * failed: the engine has halted. `adjust` rewrites rows on their way out (suspend).
   */
  commit(adjust?: (row: TaskStateRow) => TaskStateRow): boolean {
    try {
      this.#durability.commit(adjust);
    } catch (error) {
      this.#host.halt(error instanceof StoreError ? error : new StoreError(String(error), { cause: error }));
      return false;
    }
    this.#count++;
    this.gate.release();
    return true;
  }

  /** At the end of a drain: attempts or outcomes waiting call for a commit soon; other writes can wait. */
  afterDrain(attemptsWaiting: boolean): void {
    if (attemptsWaiting || this.gate.holding) this.schedule(true);
    else if (this.#durability.hasPending) this.schedule(false);
  }

  schedule(soon: boolean): void {
    if (this.#host.halted()) return;
    if (soon) {
      if (this.#soonScheduled) return;
      this.#soonScheduled = true;
      queueMicrotask(() => {
        this.#soonScheduled = false;
        this.#run();
      });
    } else {
      if (this.#lazyScheduled) return;
      this.#lazyScheduled = true;
      setImmediate(() => {
        this.#lazyScheduled = false;
        this.#run();
      });
    }
  }

  #run(): void {
    if (this.#host.halted()) return;
    if (this.#durability.hasPending && !this.commit()) return;
    this.#host.drain();
  }
}
