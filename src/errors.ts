/**
 * Typed errors. Every error taskchart throws or settles a task with extends
 * {@link TaskChartError} and carries a stable string `code`.
 */

/** The stable codes of {@link TaskChartError}. */
export const ErrorCode = {
  TASK_NOT_FOUND: 'ERR_TASK_NOT_FOUND',
  INVALID_TRANSITION: 'ERR_INVALID_TRANSITION',
  DUPLICATE_TASK: 'ERR_DUPLICATE_TASK',
  UNKNOWN_DEPENDENCY: 'ERR_UNKNOWN_DEPENDENCY',
  DEPENDENCY_CYCLE: 'ERR_DEPENDENCY_CYCLE',
  DEPENDENCY_FAILED: 'ERR_DEPENDENCY_FAILED',
  TASK_TIMEOUT: 'ERR_TASK_TIMEOUT',
  TASK_CANCELLED: 'ERR_TASK_CANCELLED',
  WORKER_CRASHED: 'ERR_WORKER_CRASHED',
  EXECUTOR_UNAVAILABLE: 'ERR_EXECUTOR_UNAVAILABLE',
  INTERRUPTED: 'ERR_INTERRUPTED',
  STORE: 'ERR_STORE',
  ENGINE_SHUT_DOWN: 'ERR_ENGINE_SHUT_DOWN',
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  NON_RETRYABLE: 'ERR_NON_RETRYABLE',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every taskchart error. */
export class TaskChartError extends Error {
  /** Stable machine-readable code, e.g. `ERR_TASK_TIMEOUT`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TaskChartError';
  }
}

/** The id is unknown, or the task was cleaned up. */
export class TaskNotFoundError extends TaskChartError {
  constructor(readonly taskId: string) {
    super(ErrorCode.TASK_NOT_FOUND, `No task with id \`${taskId}\` (never registered, or cleaned up)`);
    this.name = 'TaskNotFoundError';
  }
}

/** The task's statechart does not allow this verb in its current state. */
export class InvalidTransitionError extends TaskChartError {
  constructor(
    readonly taskId: string,
    readonly verb: string,
    readonly status: string,
    allowed: string,
  ) {
    super(
      ErrorCode.INVALID_TRANSITION,
      `Cannot ${verb} task \`${taskId}\`: it is ${status}, and ${verb} is allowed only from ${allowed}`,
    );
    this.name = 'InvalidTransitionError';
  }
}

/** A task with this id is already registered. */
export class DuplicateTaskError extends TaskChartError {
  constructor(
    readonly taskId: string,
    /** Set when the id was cleaned up but a remembered task still depends on it. */
    readonly dependentId?: string,
  ) {
    super(
      ErrorCode.DUPLICATE_TASK,
      dependentId === undefined
        ? `A task with id \`${taskId}\` is already registered`
        : `Task id \`${taskId}\` is still in use: it was cleaned up, but task \`${dependentId}\` depends on it; ` +
            `clean up \`${dependentId}\` first, or choose another id`,
    );
    this.name = 'DuplicateTaskError';
  }
}

/** A dependency names an id that is neither registered nor in the same batch. */
export class UnknownDependencyError extends TaskChartError {
  constructor(
    readonly taskId: string,
    readonly dependencyId: string,
  ) {
    super(
      ErrorCode.UNKNOWN_DEPENDENCY,
      `Task \`${taskId}\` depends on \`${dependencyId}\`, which is not registered (nor in the same batch)`,
    );
    this.name = 'UnknownDependencyError';
  }
}

/** Registering the batch would close a dependency cycle. */
export class DependencyCycleError extends TaskChartError {
  constructor(readonly cycle: readonly string[]) {
    super(ErrorCode.DEPENDENCY_CYCLE, `Dependency cycle: ${cycle.map((id) => `\`${id}\``).join(' -> ')}`);
    this.name = 'DependencyCycleError';
  }
}

/** A dependency FAILED, so this task fails without running; `cause` is the dependency's error. */
export class DependencyFailedError extends TaskChartError {
  constructor(
    readonly taskId: string,
    readonly dependencyId: string,
    cause: unknown,
  ) {
    super(ErrorCode.DEPENDENCY_FAILED, `Task \`${taskId}\` did not run: its dependency \`${dependencyId}\` failed`, {
      cause,
    });
    this.name = 'DependencyFailedError';
  }
}

/** An attempt ran past the task's `timeout`. */
export class TaskTimeoutError extends TaskChartError {
  constructor(
    readonly taskId: string,
    readonly timeout: number,
    readonly attempt: number,
    /** `unstarted`: the attempt waited that long for a worker of a remote executor to take it. */
    readonly phase: 'running' | 'unstarted' = 'running',
  ) {
    super(
      ErrorCode.TASK_TIMEOUT,
      phase === 'running'
        ? `Task \`${taskId}\` timed out after ${timeout} ms (attempt ${attempt})`
        : `Task \`${taskId}\` timed out after ${timeout} ms (attempt ${attempt}) waiting for a worker to take it (is any worker running?)`,
    );
    this.name = 'TaskTimeoutError';
  }
}

/** The error of a CANCELLED task. */
export class TaskCancelledError extends TaskChartError {
  constructor(
    readonly taskId: string,
    readonly reason: unknown,
    options?: { cause?: unknown },
  ) {
    const why = reason === undefined ? '' : `: ${typeof reason === 'string' ? reason : describeReason(reason)}`;
    super(ErrorCode.TASK_CANCELLED, `Task \`${taskId}\` was cancelled${why}`, options);
    this.name = 'TaskCancelledError';
  }
}

/** A worker (thread or remote process) died while running the attempt. */
export class WorkerCrashedError extends TaskChartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.WORKER_CRASHED, message, options);
    this.name = 'WorkerCrashedError';
  }
}

/**
 * An attempt could not be handed to its executor's backend (a remote executor's Redis) for longer than the
 * executor allows; the attempt fails with this (and is retried if the task has attempts left).
 */
export class ExecutorUnavailableError extends TaskChartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.EXECUTOR_UNAVAILABLE, message, options);
    this.name = 'ExecutorUnavailableError';
  }
}

/** The process died while the attempt was running (seen after `restore()`). */
export class InterruptedError extends TaskChartError {
  constructor(message: string) {
    super(ErrorCode.INTERRUPTED, message);
    this.name = 'InterruptedError';
  }
}

/** The store cannot be used. */
export class StoreError extends TaskChartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.STORE, message, options);
    this.name = 'StoreError';
  }
}

/** The engine no longer accepts work. */
export class EngineShutDownError extends TaskChartError {
  constructor(verb: string, why = 'the engine is shutting down or shut down') {
    super(ErrorCode.ENGINE_SHUT_DOWN, `Cannot ${verb}: ${why}`);
    this.name = 'EngineShutDownError';
  }
}

/** A bad engine option, spec field or verb argument. */
export class InvalidOptionError extends TaskChartError {
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.INVALID_OPTION, message, options);
    this.name = 'InvalidOptionError';
  }
}

/**
 * Thrown by a task function to fail the task at once, without further retries.
 *
 * @example
 * if (!isValid(input)) throw new NonRetryableError('input is malformed');
 */
export class NonRetryableError extends TaskChartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.NON_RETRYABLE, message, options);
    this.name = 'NonRetryableError';
  }
}

/** Whether an error asks for no further retries (also across threads, where only `name` survives). */
export function isNonRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError) return true;
  try {
    return isError(error) && error.name === 'NonRetryableError';
  } catch {
    return false; // a `name` getter that throws: an ordinary error, retried as usual
  }
}

/** `value instanceof Error`, false (not a throw) for a revoked proxy or a throwing prototype trap. */
function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** Turns anything thrown into an Error, keeping Errors as they are. */
export function toError(value: unknown): Error {
  if (isError(value)) return value;
  const error = new Error(`Non-error value thrown: ${describeReason(value)}`, { cause: value });
  return error;
}

function describeReason(value: unknown): string {
  try {
    if (value instanceof Error) return value.message;
    if (typeof value === 'object' && value !== null) return JSON.stringify(value) ?? String(value);
    return String(value);
  } catch {
    return 'an unreadable value';
  }
}
