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
  MISSING_DEPENDENCY: 'ERR_MISSING_DEPENDENCY',
  MODULE_LOAD: 'ERR_MODULE_LOAD',
  MISSING_EXPORT: 'ERR_MISSING_EXPORT',
  RESULT_NOT_CLONEABLE: 'ERR_RESULT_NOT_CLONEABLE',
  UNKNOWN_HANDLER: 'ERR_UNKNOWN_HANDLER',
  EXECUTOR_FAILED: 'ERR_EXECUTOR_FAILED',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A task as error messages name it: by its name, and by its id too when the id is not the name. */
export interface TaskRef {
  readonly id: string;
  readonly name: string;
}

const GENERATED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How a message names a task: `` `parse` `` when its id is its name, `` `parse` (b4d21485…) `` for a generated id
 * (shortened: enough to tell tasks apart in a message; the error's `taskId` has it whole), `` `parse` (parse-2) ``
 * for an id of the caller's choosing. A bare id (`string`) is named as it is.
 */
export function taskLabel(task: TaskRef | string): string {
  if (typeof task === 'string') return `\`${task}\``;
  if (task.id === task.name) return `\`${task.name}\``;
  return `\`${task.name}\` (${GENERATED_ID.test(task.id) ? `${task.id.slice(0, 8)}…` : task.id})`;
}

function idOf(task: TaskRef | string): string {
  return typeof task === 'string' ? task : task.id;
}

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
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    readonly verb: string,
    readonly status: string,
    allowed: string,
  ) {
    super(
      ErrorCode.INVALID_TRANSITION,
      `Cannot ${verb} task ${taskLabel(task)}: it is ${status}, and ${verb} is allowed only from ${allowed}`,
    );
    this.taskId = idOf(task);
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
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    readonly dependencyId: string,
  ) {
    super(
      ErrorCode.UNKNOWN_DEPENDENCY,
      `Task ${taskLabel(task)} depends on \`${dependencyId}\`, which is not registered (nor in the same batch)`,
    );
    this.taskId = idOf(task);
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

/**
 * A dependency FAILED, so this task fails without running; `cause` is the dependency's error (itself a
 * DependencyFailedError when that dependency did not run either). The message names the direct dependency and,
 * once, the root cause: the task that really failed and its error, however deep the chain.
 */
export class DependencyFailedError extends TaskChartError {
  readonly taskId: string;
  readonly dependencyId: string;
  /** The task whose own failure began the chain (the direct dependency when it ran and failed). */
  readonly rootTaskId: string;
  /** That task's name. */
  readonly rootTaskName: string;
  /**
   * That task's error on one line (`CODE: message`): kept as text, so that it survives where the `cause` chain is
   * cut short (a durable store and the worker protocols keep a few levels of causes).
   */
  readonly rootCause: string;

  constructor(task: TaskRef | string, dependency: TaskRef | string, cause: unknown) {
    const chained = cause instanceof DependencyFailedError;
    const root: TaskRef = chained
      ? { id: cause.rootTaskId ?? cause.dependencyId, name: cause.rootTaskName ?? cause.rootTaskId ?? cause.dependencyId }
      : typeof dependency === 'string'
        ? { id: dependency, name: dependency }
        : dependency;
    const rootCause = chained ? (typeof cause.rootCause === 'string' ? cause.rootCause : oneLine(rootError(cause))) : oneLine(cause);
    super(
      ErrorCode.DEPENDENCY_FAILED,
      `Task ${taskLabel(task)} did not run: its dependency ${taskLabel(dependency)} failed` +
        (chained ? `; root cause: ${taskLabel(root)} ${rootCause}` : `: ${rootCause}`),
      { cause },
    );
    this.taskId = idOf(task);
    this.dependencyId = idOf(dependency);
    this.rootTaskId = root.id;
    this.rootTaskName = root.name;
    this.rootCause = rootCause;
    this.name = 'DependencyFailedError';
  }
}

/** The error that began a chain of DependencyFailedErrors. */
function rootError(error: DependencyFailedError): unknown {
  let cause: unknown = error.cause;
  while (cause instanceof DependencyFailedError) cause = cause.cause;
  return cause;
}

/** An error on one line: `CODE: message` (`Name: message` without a code), its own cause left out. */
function oneLine(error: unknown): string {
  if (!isError(error)) return describeReason(error);
  try {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === 'string' ? code : error.name}: ${error.message}`.replace(/\s*\n\s*/g, ' ');
  } catch {
    return 'an unreadable error';
  }
}

/** An attempt ran past the task's `timeout`. */
export class TaskTimeoutError extends TaskChartError {
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    readonly timeout: number,
    readonly attempt: number,
    /** `unstarted`: the attempt waited that long for a worker of a remote executor to take it. */
    readonly phase: 'running' | 'unstarted' = 'running',
  ) {
    super(
      ErrorCode.TASK_TIMEOUT,
      phase === 'running'
        ? `Task ${taskLabel(task)} timed out after ${timeout} ms (attempt ${attempt})`
        : `Task ${taskLabel(task)} timed out after ${timeout} ms (attempt ${attempt}) waiting for a worker to take it (is any worker running?)`,
    );
    this.taskId = idOf(task);
    this.name = 'TaskTimeoutError';
  }
}

/** The error of a CANCELLED task. */
export class TaskCancelledError extends TaskChartError {
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    readonly reason: unknown,
    options?: { cause?: unknown },
  ) {
    const why = reason === undefined ? '' : `: ${typeof reason === 'string' ? reason : describeReason(reason)}`;
    super(ErrorCode.TASK_CANCELLED, `Task ${taskLabel(task)} was cancelled${why}`, options);
    this.taskId = idOf(task);
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

/** An entry point (`taskchart/bullmq`) was imported without the optional peer dependencies it needs. */
export class MissingDependencyError extends TaskChartError {
  /**
   * @param entryPoint what needs them, e.g. `taskchart/bullmq`
   * @param packages the packages that are missing, with the version range to install: `{ bullmq: '^6.7.0' }`
   */
  constructor(
    readonly entryPoint: string,
    readonly packages: Readonly<Record<string, string>>,
    options?: { cause?: unknown },
  ) {
    const names = Object.keys(packages);
    const install = names.map((name) => `${name}@${packages[name]}`).join(' ');
    super(
      ErrorCode.MISSING_DEPENDENCY,
      `${entryPoint} needs the package${names.length === 1 ? '' : 's'} ${names.join(' and ')}, not installed (optional peer dependencies of taskchart): run \`npm install ${install}\``,
      options,
    );
    this.name = 'MissingDependencyError';
  }
}

/** Whether an error asks for no further retries (also across threads, where only `name` survives). */
export function isNonRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError || error instanceof ResultNotCloneableError) return true;
  try {
    // A result that cannot travel (or be stored) would not on a retry either: the task's code must change.
    return isError(error) && (error.name === 'NonRetryableError' || error.name === 'ResultNotCloneableError');
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

/** A pool task's module could not be imported in its worker thread; `cause` is the import's own error (its `code` too). */
export class ModuleLoadError extends TaskChartError {
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    /** The module's file URL. */
    readonly module: string,
    options: { cause: unknown },
  ) {
    super(ErrorCode.MODULE_LOAD, `Cannot load module \`${module}\` for pool task ${taskLabel(task)}: ${oneLine(options.cause)}`, options);
    this.taskId = idOf(task);
    this.name = 'ModuleLoadError';
  }
}

/** A pool task's module loaded, but has no function under the task's `export`. */
export class MissingExportError extends TaskChartError {
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    readonly module: string,
    readonly exportName: string,
    /** The names the module does export. */
    exports: readonly string[],
  ) {
    super(
      ErrorCode.MISSING_EXPORT,
      `Expected module \`${module}\` to export a function \`${exportName}\` for pool task ${taskLabel(task)}, got no function export ` +
        `\`${exportName}\` (${exports.includes(exportName) ? `\`${exportName}\` is not a function; ` : ''}its exports: ${exports.join(', ') || 'none'})`,
    );
    this.taskId = idOf(task);
    this.name = 'MissingExportError';
  }
}

/**
 * A task's result cannot travel back to the engine: not structured-cloneable (from a pool thread) or not JSON-safe
 * (from a remote worker). `problem` says where, e.g. `result.onDone is a function`.
 */
export class ResultNotCloneableError extends TaskChartError {
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    /** What the result had to be, e.g. `structured-cloneable (plain data, ...) to leave its worker thread`. */
    expected: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      ErrorCode.RESULT_NOT_CLONEABLE,
      `Expected the result of task ${taskLabel(task)} to be ${expected}, got one where ${problem}`,
      options,
    );
    this.taskId = idOf(task);
    this.name = 'ResultNotCloneableError';
  }
}

/** The handler a task names is not there where the attempt runs (not defined in this engine, or not in the remote worker). */
export class UnknownHandlerError extends TaskChartError {
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    readonly handler: string,
    /** Where the handler was looked for, e.g. `engine.defineTask()` or `the taskchart worker (its handlers: a, b)`. */
    where: string,
  ) {
    super(
      ErrorCode.UNKNOWN_HANDLER,
      `Expected handler \`${handler}\` of task ${taskLabel(task)} to be defined in ${where}, got none of that name`,
    );
    this.taskId = idOf(task);
    this.name = 'UnknownHandlerError';
  }
}

/**
 * The executor could not run the attempt for a reason of its own, not the task's: the thread pool failed, BullMQ
 * failed the job, a job came back without a taskchart result, the executor was closed. `cause` is the underlying error.
 */
export class ExecutorFailedError extends TaskChartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.EXECUTOR_FAILED, message, options);
    this.name = 'ExecutorFailedError';
  }
}
