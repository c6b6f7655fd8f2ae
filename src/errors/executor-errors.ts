/** The errors of where an attempt runs: a pool thread, a remote worker, an executor's backend. */
import { ErrorCode, TaskChartError, taskLabel, idOf, type TaskRef, oneLine } from './base.js';

/** A worker (thread or remote process) died while running the attempt. */
export class WorkerCrashedError extends TaskChartError {
  /**
   * What died: a pool `thread` (the task's own code killed it: a failed attempt) or a remote worker `process` (a
   * machine lost or preempted: not the task's fault, re-run free up to the task's `maxCrashes`).
   */
  readonly worker: 'thread' | 'process';

  constructor(message: string, options?: { cause?: unknown; worker?: 'thread' | 'process' }) {
    super(ErrorCode.WORKER_CRASHED, message, options);
    this.name = 'WorkerCrashedError';
    this.worker = options?.worker ?? 'thread';
  }
}

/** Whether an attempt's error says that the remote worker process running it died (counted by `maxCrashes`). */
export function isProcessCrash(error: unknown): boolean {
  return error instanceof WorkerCrashedError && error.worker === 'process';
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
