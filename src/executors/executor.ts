/**
 * The seam between the supervisor and how an attempt runs. The supervisor
 * dispatches an attempt only while fewer than the executor's `concurrency`
 * attempts are out (counted from dispatch until the promise settles), passes
 * an AbortSignal it aborts on timeout, cancel, outside completion and
 * shutdown, and learns the outcome from the returned promise. It never knows
 * which executor runs a task.
 */
import { taskLabel } from '../errors.js';
import type { TaskContext, TaskFunction, TaskKind } from '../task-spec.js';

/** One attempt to run, as an executor sees it. */
export interface AttemptRequest {
  readonly taskId: string;
  readonly name: string;
  readonly attempt: number;
  readonly args: readonly unknown[];
  /** The function to call (inline `fn`, or the `defineTask` handler), when there is one. */
  readonly fn: TaskFunction | undefined;
  /** The handler name, for executors that resolve it elsewhere (remote workers). */
  readonly handler: string | undefined;
  /** Module path or file URL and export name, for module tasks. */
  readonly module: string | undefined;
  readonly exportName: string;
  /** The context handed to the task function (id, name, attempt, signal, progress, registerResource). */
  readonly context: TaskContext;
  /**
   * Calls `listener` once when the attempt is aborted (timeout, cancel, outside
   * completion, shutdown), at once if it already was: the same moment
   * `context.signal` aborts, without creating the signal.
   */
  whenAborted(listener: (reason: unknown) => void): void;
  /** ArrayBuffers among `args` to move rather than copy (pool executor). */
  readonly transfer: readonly ArrayBuffer[];
  /**
   * Executors with `deferredStart`: a worker took the attempt, which is RUNNING from now (its timeout counts
   * from now). Ignored once the attempt is over, when called twice, and for other executors.
   */
  started(): void;
  /**
   * Executors with `deferredStart`: the attempt cannot be handed to the backend now (`error` says why: Redis is
   * unreachable), or, with `undefined`, it was handed over after all. The engine reports it as an `executor-wait`
   * event and in `getStats().unavailable`; the executor decides how long to keep trying.
   */
  unavailable(error: Error | undefined): void;
  /**
   * True when this attempt was already handed to the executor by an earlier process (a durable engine's
   * `restore()`): the executor re-attaches to the work in flight instead of starting it again.
   */
  readonly resumed: boolean;
  /**
   * The attempt's trace context (W3C `traceparent`, `tracestate`) when the engine is instrumented (taskchart/otel):
   * an executor that runs the attempt elsewhere (a thread, a remote worker) carries it there. Undefined otherwise.
   */
  readonly trace?: Readonly<Record<string, string>>;
}

export interface Executor {
  /**
   * How many attempts this executor can hold at once (for the pool: its
   * workers). The supervisor counts an attempt from dispatch until its
   * promise settles and keeps further tasks queued (PENDING) while the count
   * is at this limit, so a busy executor never queues work of its own and
   * never blocks tasks of other executors. Omitted: unlimited.
   */
  readonly concurrency?: number;
  /**
   * True for executors whose attempts wait somewhere before a worker takes them (a remote queue). A dispatched
   * attempt then stays PENDING (machine state `dispatched`), holding its concurrency slot, until the executor
   * calls `request.started()`; the task's `timeout` bounds that wait and counts afresh from the start. The work
   * of such an executor outlives the process, so after `restore()` an attempt that was dispatched or RUNNING is
   * handed to it again with `resumed: true` rather than counted as interrupted. Default false: RUNNING at dispatch.
   */
  readonly deferredStart?: boolean;
  /**
   * For an executor that sends attempts through a message queue: the messaging system (`bullmq`) and the queue's
   * name, which taskchart/otel puts on its spans (OpenTelemetry's messaging conventions).
   */
  readonly messaging?: { readonly system: string; readonly destination: string };
  /** Runs one attempt: resolves with its result, rejects with its error. Stops when `context.signal` aborts. */
  execute(request: AttemptRequest): Promise<unknown>;
  /** Checks a spec that names this executor at registration; throws InvalidOptionError. */
  validate?(spec: {
    readonly kind: TaskKind;
    readonly handler: string | undefined;
    readonly fn: TaskFunction | undefined;
    readonly args: readonly unknown[];
  }): void;
  /** Frees threads, connections and timers; called once by `shutdown()`. */
  close?(): Promise<void>;
}

/** How an executor's error message names an attempt: ``Task `render` (b4d21485…), attempt 2``. */
export function attemptLabel(request: Pick<AttemptRequest, 'taskId' | 'name' | 'attempt'>): string {
  return `Task ${taskLabel({ id: request.taskId, name: request.name })}, attempt ${request.attempt}`;
}
