/**
 * Builds the `engine.events` of tasks from what the supervisor reports. An
 * event is built only when someone listens (`EventStream.observed`), so an
 * engine nobody watches pays nothing per transition. The monitor reports
 * what it is given: it keeps no task state.
 */
import type { TaskEvent } from '../events.js';
import { TaskStatus } from '../status.js';
import type { EventStream } from './event-stream.js';

/**
 * A durable engine's hold on events (its commit gate): while it holds outcomes back until they are on disk,
 * every event waits behind them, in order (built now, emitted after the commit).
 */
export interface EventHold {
  readonly holding: boolean;
  defer(effect: () => void): void;
}

export class TaskEvents {
  readonly #stream: EventStream;
  readonly #now: () => number;
  readonly #hold: EventHold | undefined;

  constructor(stream: EventStream, now: () => number, hold?: EventHold) {
    this.#stream = stream;
    this.#now = now;
    this.#hold = hold;
  }

  #emit(event: TaskEvent): void {
    const hold = this.#hold;
    if (hold !== undefined && hold.holding) hold.defer(() => this.#stream.emit(event));
    else this.#stream.emit(event);
  }

  /** `createdAt`: the event's timestamp (when the task was registered); `restored`: read back from a store. */
  registered(taskId: string, name: string, createdAt: number, restored: boolean): void {
    if (!this.#stream.observed) return;
    this.#emit({ type: 'registered', taskId, name, timestamp: createdAt, ...(restored && { restored: true as const }) });
  }

  /** `error`: the task's error, reported with FAILED and CANCELLED. */
  status(taskId: string, name: string, status: TaskStatus, previous: TaskStatus, error: unknown, cached = false): void {
    if (!this.#stream.observed) return;
    const failed = status === TaskStatus.FAILED || status === TaskStatus.CANCELLED;
    const event = { type: 'status', taskId, name, timestamp: this.#now(), status, previous, ...(failed && { error }) } as const;
    this.#emit(cached ? { ...event, cached: true } : event);
  }

  /** `at`: when the deadline was found passed (the task's `deadlineMissedAt`: one time for both). */
  deadline(taskId: string, name: string, deadline: number, at: number): void {
    if (!this.#stream.observed) return;
    this.#emit({ type: 'deadline', taskId, name, timestamp: at, deadline });
  }

  cacheSkipped(taskId: string, name: string, error: unknown): void {
    if (!this.#stream.observed) return;
    this.#emit({ type: 'cache-skipped', taskId, name, timestamp: this.#now(), error });
  }

  retry(taskId: string, name: string, attempt: number, delay: number, error: unknown): void {
    if (!this.#stream.observed) return;
    this.#emit({ type: 'retry', taskId, name, timestamp: this.#now(), attempt, delay, error });
  }

  progress(taskId: string, name: string, progress: number, message: string | undefined): void {
    if (!this.#stream.observed) return;
    this.#emit({ type: 'progress', taskId, name, timestamp: this.#now(), progress, message });
  }

  /** A dispatched attempt waits for its executor's backend (`error`), or was handed over after all (`error` undefined). */
  executorWait(taskId: string, name: string, attempt: number, executor: string, error: Error | undefined): void {
    if (!this.#stream.observed) return;
    const event = { type: 'executor-wait' as const, taskId, name, timestamp: this.#now(), attempt, executor };
    this.#emit(error === undefined ? { ...event, waiting: false } : { ...event, waiting: true, error });
  }

  /** The store failed and the engine stopped; `taskId` names the first task whose write was lost. */
  storeError(taskId: string, name: string, error: unknown): void {
    this.#stream.emit({ type: 'store-error', taskId, name, timestamp: this.#now(), error });
  }

  rateLimited(taskId: string, name: string, limiter: string, key: string, until: number): void {
    if (!this.#stream.observed) return;
    this.#emit({ type: 'rate-limited', taskId, name, timestamp: this.#now(), limiter, key, until });
  }

  resourceError(taskId: string, name: string, error: unknown): void {
    this.#emit({ type: 'resource-error', taskId, name, timestamp: this.#now(), error });
  }
}
