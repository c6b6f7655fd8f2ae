/**
 * The supervisor's side of the task events: reads what to report from a task's record and hands it to the
 * monitor's TaskEvents. It owns one rule: a task's `registered` event goes out before any other event of it
 * (`record.announced`), also when a subscriber reacting to one event of a batch changes a later task of it.
 */
import type { EventStream } from '../monitor/event-stream.js';
import { TaskEvents, type EventHold } from '../monitor/task-events.js';
import type { TaskStatus } from '../status.js';
import type { TaskRecord } from './task-record.js';

export class RecordEvents {
  readonly #events: TaskEvents;

  constructor(stream: EventStream, now: () => number, hold?: EventHold) {
    this.#events = new TaskEvents(stream, now, hold);
  }

  /** Announces a batch; a task already announced (see above) is not announced again. */
  registered(records: readonly TaskRecord[], restored = false): void {
    for (const record of records) this.#announce(record, restored);
  }

  #announce(record: TaskRecord, restored = false): void {
    if (record.announced) return;
    record.announced = true;
    this.#events.registered(record.id, record.name, record.createdAt, restored);
  }

  status(record: TaskRecord, previous: TaskStatus): void {
    this.#announce(record);
    this.#events.status(record.id, record.name, record.status, previous, record.error, record.long?.cached === true);
  }

  deadline(record: TaskRecord, deadline: number, at: number): void {
    this.#announce(record);
    this.#events.deadline(record.id, record.name, deadline, at);
  }

  cacheSkipped(record: TaskRecord, error: unknown): void {
    this.#announce(record);
    this.#events.cacheSkipped(record.id, record.name, error);
  }

  retry(record: TaskRecord, attempt: number, delay: number, error: unknown): void {
    this.#announce(record);
    this.#events.retry(record.id, record.name, attempt, delay, error);
  }

  progress(record: TaskRecord): void {
    this.#announce(record);
    this.#events.progress(record.id, record.name, record.progress, record.message);
  }

  executorWait(record: TaskRecord, attempt: number, error: Error | undefined): void {
    this.#announce(record);
    this.#events.executorWait(record.id, record.name, attempt, record.spec.executor, error);
  }

  rateLimited(record: TaskRecord, limiter: string, key: string, until: number): void {
    this.#announce(record);
    this.#events.rateLimited(record.id, record.name, limiter, key, until);
  }

  storeError(taskId: string, name: string, error: unknown): void {
    this.#events.storeError(taskId, name, error);
  }

  resourceError(taskId: string, name: string, error: unknown): void {
    this.#events.resourceError(taskId, name, error);
  }
}
