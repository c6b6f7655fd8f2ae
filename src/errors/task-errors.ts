/** The errors of the engine and its verbs, and of a task's own lifecycle (dependencies, timeouts, cancellation, restore). */
import { ErrorCode, TaskChartError, taskLabel, idOf, describeReason, type TaskRef, oneLine } from './base.js';

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

/** An attempt sent no heartbeat (`ctx.heartbeat()` or `ctx.progress()`) for the task's `heartbeatTimeout`; retried like a timeout. */
export class TaskStalledError extends TaskChartError {
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    readonly heartbeatTimeout: number,
    readonly attempt: number,
  ) {
    super(
      ErrorCode.TASK_STALLED,
      `Task ${taskLabel(task)} stalled: attempt ${attempt} sent no heartbeat (ctx.heartbeat() or ctx.progress()) for ${heartbeatTimeout} ms`,
    );
    this.taskId = idOf(task);
    this.name = 'TaskStalledError';
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

/**
 * The error of a task skipped by its trigger rule: the rule can no longer be met by how its dependencies ended (an
 * `all_failed` task after a success, a `one_success` task after every dependency failed or was cancelled). The task
 * ends CANCELLED with it.
 */
export class TriggerRuleError extends TaskChartError {
  readonly taskId: string;

  constructor(
    task: TaskRef | string,
    readonly rule: string,
    /** How its dependencies had ended: "1 completed, 0 failed, 2 cancelled of 3". */
    readonly dependencies: string,
  ) {
    super(
      ErrorCode.TRIGGER_RULE,
      `Task ${taskLabel(task)} was skipped: its trigger rule ${rule} can no longer be met (dependencies: ${dependencies})`,
    );
    this.taskId = idOf(task);
    this.name = 'TriggerRuleError';
  }
}

/**
 * Thrown by a task function when the service it calls says "too many requests" (an HTTP 429 with a Retry-After):
 * the attempt ends without counting against `maxRetries`, the limiter key (`limiter` and `key`; by default every key
 * the task holds) pauses for `retryAfter` ms, and the task goes back to the queue in its place. From pool threads and
 * remote workers too.
 *
 * @example
 * if (response.status === 429) throw new RateLimitedError({ retryAfter: Number(response.headers.get('retry-after')) * 1000 });
 */
export class RateLimitedError extends TaskChartError {
  /** How long the key pauses, in ms. */
  readonly retryAfter: number;
  /** The limiter whose key pauses; undefined: every limiter the task names. */
  readonly limiter: string | undefined;
  /** The key that pauses; undefined: the task's own key of `limiter`. */
  readonly key: string | undefined;

  constructor(options: { retryAfter: number; limiter?: string; key?: string; message?: string; cause?: unknown }) {
    const retryAfter = options?.retryAfter;
    if (typeof retryAfter !== 'number' || !Number.isFinite(retryAfter) || retryAfter < 0) {
      throw new InvalidOptionError(
        'retryAfter',
        `Expected \`retryAfter\` of a RateLimitedError to be a finite number of ms >= 0, got ${typeof retryAfter === 'number' ? retryAfter : typeof retryAfter}`,
      );
    }
    const where = options.limiter === undefined ? '' : ` (${options.limiter}${options.key === undefined ? '' : ` ${options.key}`})`;
    super(ErrorCode.RATE_LIMITED, options.message ?? `Rate limited${where}: retry after ${retryAfter} ms`, { cause: options.cause });
    this.retryAfter = retryAfter;
    this.limiter = options.limiter;
    this.key = options.key;
    this.name = 'RateLimitedError';
  }
}

/** Whether an error says "rate limited" (also one rebuilt from a worker thread or a remote worker). */
export function isRateLimited(error: unknown): error is { readonly retryAfter: number; readonly limiter?: string; readonly key?: string } {
  if (error instanceof RateLimitedError) return true;
  const candidate = error as { code?: unknown; retryAfter?: unknown } | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.code === ErrorCode.RATE_LIMITED &&
    typeof candidate.retryAfter === 'number' &&
    Number.isFinite(candidate.retryAfter) &&
    candidate.retryAfter >= 0
  );
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
