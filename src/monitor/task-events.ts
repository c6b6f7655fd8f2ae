/**
 * Builds the `engine.events` of a task from its record. An event is built
 * only when someone listens (`EventStream.observed`), so an engine nobody
 * watches pays nothing per transition.
 */
import type { CommitGate } from '../actors/commit-gate.js';
import type { TaskRecord } from '../actors/task-record.js';
import type { TaskEvent } from '../events.js';
import { TaskStatus } from '../status.js';
import type { EventStream } from './event-stream.js';

export class TaskEvents {
  readonly #stream: EventStream;
  readonly #now: () => number;
  /** A durable engine's gate: while it holds outcomes back, events wait behind them (built now, emitted after the commit). */
  readonly #gate: CommitGate | undefined;

  constructor(stream: EventStream, now: () => number, gate?: CommitGate) {
    this.#stream = stream;
    this.#now = now;
    this.#gate = gate;
  }

  #emit(event: TaskEvent): void {
    const gate = this.#gate;
    if (gate !== undefined && gate.holding) gate.defer(() => this.#stream.emit(event));
    else this.#stream.emit(event);
  }

  /**
   * Announces a batch. A subscriber reacting to one of these events may change
   * a later task of the same batch: that task's `registered` event then goes
   * out first (see `#announce`), and is not repeated here.
   */
  registered(records: readonly TaskRecord[], restored = false): void {
    for (const record of records) this.#announce(record, restored);
  }

  #announce(record: TaskRecord, restored = false): void {
    if (record.announced) return;
    record.announced = true;
    if (!this.#stream.observed) return;
    this.#emit({ type: 'registered', taskId: record.id, name: record.name, timestamp: record.createdAt, ...(restored && { restored: true as const }) });
  }

  status(record: TaskRecord, previous: TaskStatus): void {
    this.#announce(record);
    if (!this.#stream.observed) return;
    const failed = record.status === TaskStatus.FAILED || record.status === TaskStatus.CANCELLED;
    this.#emit({
      type: 'status',
      taskId: record.id,
      name: record.name,
      timestamp: this.#now(),
      status: record.status,
      previous,
      ...(failed && { error: record.error }),
    });
  }

  retry(record: TaskRecord, attempt: number, delay: number, error: unknown): void {
    this.#announce(record);
    if (!this.#stream.observed) return;
    this.#emit({ type: 'retry', taskId: record.id, name: record.name, timestamp: this.#now(), attempt, delay, error });
  }

  progress(record: TaskRecord): void {
    this.#announce(record);
    if (!this.#stream.observed) return;
    const { id: taskId, name, progress, message } = record;
    this.#emit({ type: 'progress', taskId, name, timestamp: this.#now(), progress, message });
  }

  /** A dispatched attempt waits for its executor's backend (`error`), or was handed over after all (`error` undefined). */
  executorWait(record: TaskRecord, attempt: number, error: Error | undefined): void {
    this.#announce(record);
    if (!this.#stream.observed) return;
    const { id: taskId, name } = record;
    const event = { type: 'executor-wait' as const, taskId, name, timestamp: this.#now(), attempt, executor: record.spec.executor };
    this.#emit(error === undefined ? { ...event, waiting: false } : { ...event, waiting: true, error });
  }

  /** The store failed and the engine stopped; `taskId` names the first task whose write was lost. */
  storeError(taskId: string, name: string, error: unknown): void {
    this.#stream.emit({ type: 'store-error', taskId, name, timestamp: this.#now(), error });
  }

  resourceError(taskId: string, name: string, error: unknown): void {
    this.#emit({ type: 'resource-error', taskId, name, timestamp: this.#now(), error });
  }
}
