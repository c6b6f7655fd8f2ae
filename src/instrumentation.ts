/**
 * The engine's seam for instrumentation (taskchart/otel): calls at the moments only the supervisor sees: the start
 * of a task in its caller's context, the hand-over of an attempt to its executor, the end of an attempt, and a task
 * held back by a per-key limit;
 * plus what the event stream and the stats tell everyone. It imports no tracing library: an engine nobody
 * instruments pays an `undefined` check at each of these moments and nothing else.
 */
import type { Observable } from 'rxjs';
import type { TaskEvent } from './events.js';
import type { TaskState } from './machines/task.machine.js';
import type { TaskStats } from './monitor/stats.js';

/** What an instrumentation sees of a task (the engine's record of it, read-only). */
export interface InstrumentedTask {
  readonly id: string;
  readonly name: string;
  readonly priority: number;
  readonly dependencies: readonly string[];
  readonly spec: { readonly executor: string };
  /** When `startTask` was called (engine clock, ms); undefined for a task restored from a store. */
  readonly submittedAt: number | undefined;
  /** When its current (or last) attempt began running (engine clock, ms). */
  readonly attemptStartedAt: number;
}

/** Where an attempt goes: the executor's name, and for an executor that sends it through a queue, that queue. */
export interface AttemptTarget {
  readonly executor: string;
  /** The messaging system and destination of a remote executor (`Executor.messaging`). */
  readonly messaging: { readonly system: string; readonly destination: string } | undefined;
}

/** How an attempt runs under an instrumentation. */
export interface AttemptScope {
  /** Trace context to carry with the attempt to a pool thread or a remote worker (W3C `traceparent`, …). */
  readonly carrier: Readonly<Record<string, string>> | undefined;
  /** Calls `fn` (the executor's `execute`) with the attempt's context active. */
  run<T>(fn: () => T): T;
}

export interface Instrumentation {
  /** A task was started (`startTask`, `startTasks`, `registerTasks({ start: true })`): called in the caller's context. */
  taskStarted(task: InstrumentedTask): void;
  /** Attempt `attempt` of a task is handed to its executor (`resumed`: again, after `restore()`). */
  attemptBegun(task: InstrumentedTask, attempt: number, target: AttemptTarget, resumed: boolean): AttemptScope | undefined;
  /** A queued task is held back by a per-key limit: `hold` says which key, and until when when it waits for a time. */
  taskHeld(task: InstrumentedTask, hold: { readonly limiter: string; readonly key: string; readonly until: number | undefined }): void;
  /**
   * An attempt is over: the task left `running` (`ran`) or `dispatched` for `state`, with the machine's error
   * (the attempt's error for `retrying` and `failed`, the cancel's for `cancelled`). `now`: the engine clock.
   */
  attemptEnded(task: InstrumentedTask, state: TaskState, error: unknown, ran: boolean, now: number): void;
}

/** What the engine gives an instrumentation in return. */
export interface InstrumentationHost {
  readonly events: Observable<TaskEvent>;
  /** The engine's clock (ms), the one its events' timestamps come from. */
  now(): number;
  stats(): TaskStats;
  /** Queued tasks held back by each per-key limiter now (every limiter, 0 included). */
  heldByLimiter(): ReadonlyMap<string, number>;
  /** Removes the instrumentation; the engine runs as if it never had one. */
  detach(): void;
}

/** The engine's method that installs an instrumentation (one at a time); not part of the public API. */
export const INSTRUMENT: unique symbol = Symbol('taskchart.instrument');
