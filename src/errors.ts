/**
 * Typed errors. Every error taskchart throws or settles a task with extends
 * {@link TaskChartError} and carries a stable string `code`.
 */
import { isError, describeReason } from './errors/base.js';
import { ResultNotCloneableError } from './errors/executor-errors.js';
import { NonRetryableError } from './errors/task-errors.js';

export { ErrorCode, TaskChartError, taskLabel, type TaskRef } from './errors/base.js';
export {
  TaskNotFoundError,
  InvalidTransitionError,
  DuplicateTaskError,
  UnknownDependencyError,
  DependencyCycleError,
  DependencyFailedError,
  TaskTimeoutError,
  TaskStalledError,
  TaskCancelledError,
  TriggerRuleError,
  RateLimitedError,
  isRateLimited,
  InterruptedError,
  StoreError,
  EngineShutDownError,
  InvalidOptionError,
  NonRetryableError,
  MissingDependencyError,
} from './errors/task-errors.js';
export { CacheKeyError } from './cache/cache-key.js';
export {
  WorkerCrashedError,
  isProcessCrash,
  ExecutorUnavailableError,
  ModuleLoadError,
  MissingExportError,
  ResultNotCloneableError,
  UnknownHandlerError,
  ExecutorFailedError,
} from './errors/executor-errors.js';

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

/** Turns anything thrown into an Error, keeping Errors as they are. */
export function toError(value: unknown): Error {
  if (isError(value)) return value;
  const error = new Error(`Non-error value thrown: ${describeReason(value)}`, { cause: value });
  return error;
}
