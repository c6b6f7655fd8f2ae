/**
 * The events of `engine.events`: one union on `type`. Every member carries
 * `taskId`, `name` and `timestamp` (ms). They are emitted synchronously with
 * the change they report, in order, before any promise that change settles.
 */
import { filter, type OperatorFunction } from 'rxjs';
import type { TaskStatus } from './status.js';

interface BaseEvent {
  readonly taskId: string;
  readonly name: string;
  readonly timestamp: number;
}

/** A task was registered (it is PENDING). */
export interface RegisteredEvent extends BaseEvent {
  readonly type: 'registered';
  /** Set when the task was read back from a durable store by `restore()`. */
  readonly restored?: true;
}

/** A task's public status changed. */
export interface StatusEvent extends BaseEvent {
  readonly type: 'status';
  readonly status: TaskStatus;
  readonly previous: TaskStatus;
  /** The task's error when `status` is FAILED or CANCELLED. */
  readonly error?: unknown;
  /** Set on COMPLETED when the result came from the results cache, without an attempt (`cache` in the spec). */
  readonly cached?: true;
}

/** Progress reported by the running attempt or `updateTaskProgress`. */
export interface ProgressEvent extends BaseEvent {
  readonly type: 'progress';
  readonly progress: number;
  readonly message: string | undefined;
}

/** An attempt failed and another will run after `delay` ms. */
export interface RetryEvent extends BaseEvent {
  readonly type: 'retry';
  /** The number of the attempt about to run (2 for the first retry). */
  readonly attempt: number;
  readonly delay: number;
  /** The failed attempt's error. */
  readonly error: unknown;
}

/** A resource disposer threw; the task's outcome is unchanged. */
export interface ResourceErrorEvent extends BaseEvent {
  readonly type: 'resource-error';
  readonly error: unknown;
}

/**
 * The durable store failed (disk full, file made read-only, I/O error): the engine stopped
 * accepting work and stopped every task where it stood, rather than carry on in memory.
 * `error` is a StoreError (ERR_STORE); `taskId` names the first task whose write was lost.
 */
export interface StoreErrorEvent extends BaseEvent {
  readonly type: 'store-error';
  readonly error: unknown;
}

/**
 * An attempt given to an executor that starts attempts later (a remote queue) cannot be handed to that executor's
 * backend now (its Redis is unreachable): `waiting: true`, with `error` saying why. The task stays PENDING and keeps
 * its slot; the executor keeps trying and fails the attempt after its own limit. `waiting: false`: handed over after
 * all (it is in the queue now; it becomes RUNNING when a worker takes it). See also `getStats().unavailable`.
 */
export interface ExecutorWaitEvent extends BaseEvent {
  readonly type: 'executor-wait';
  readonly attempt: number;
  /** The executor's name (`executor` in the task spec). */
  readonly executor: string;
  readonly waiting: boolean;
  readonly error?: unknown;
}

/**
 * The engine became idle while this started task is WAITING on dependencies that were never started (directly or
 * through dependencies that wait on them): nothing will ever run it unless they are started. Emitted once per such
 * task each time the engine becomes idle; `waitingOn` lists the never-started tasks it waits on (their ids), in
 * dependency order.
 */
export interface StalledEvent extends BaseEvent {
  readonly type: 'stalled';
  readonly waitingOn: readonly string[];
}

/**
 * An attempt ended rate limited (it threw a RateLimitedError, a 429): the limiter key pauses until `until` (ms since
 * the epoch) and the task goes back to the queue, this attempt not counted against `maxRetries`. One event per key paused.
 */
export interface RateLimitedEvent extends BaseEvent {
  readonly type: 'rate-limited';
  readonly limiter: string;
  readonly key: string;
  readonly until: number;
}

/**
 * The task was not terminal `deadline` ms after `startTask` (its spec's `deadline`): an alert, the task keeps running.
 * Counted in `getStats().deadlinesMissed`. Once per task.
 */
export interface DeadlineEvent extends BaseEvent {
  readonly type: 'deadline';
  readonly deadline: number;
}

/**
 * A task with `cache` runs uncached: its default cache key cannot be computed (an argument or a dependency's result
 * cannot be encoded: `error` names where), or its result cannot be kept. A warning: the task itself is unaffected.
 */
export interface CacheSkippedEvent extends BaseEvent {
  readonly type: 'cache-skipped';
  readonly error: unknown;
}

export type TaskEvent =
  | RegisteredEvent
  | StatusEvent
  | ProgressEvent
  | RetryEvent
  | ResourceErrorEvent
  | StoreErrorEvent
  | ExecutorWaitEvent
  | StalledEvent
  | RateLimitedEvent
  | DeadlineEvent
  | CacheSkippedEvent;
export type TaskEventType = TaskEvent['type'];

/**
 * An rxjs operator keeping only events of the given types, typed accordingly.
 *
 * @example
 * engine.events.pipe(ofType('status', 'retry')).subscribe((e) => console.log(e.type, e.taskId));
 */
export function ofType<K extends TaskEventType>(...types: K[]): OperatorFunction<TaskEvent, Extract<TaskEvent, { type: K }>> {
  const wanted = new Set<TaskEventType>(types);
  return filter((event): event is Extract<TaskEvent, { type: K }> => wanted.has(event.type));
}
