/**
 * Errors as plain data, for every boundary an error crosses: a pool thread, a remote worker's job (JSON), the
 * store. Name, message, code, stack, cause (recursively) and primitive own properties survive, and an error
 * whose code is one of ours comes back as its taskchart class (`instanceof` holds; its constructor is not re-run).
 * workerpool's own error transport would drop classes and nested properties.
 */
import {
  DependencyCycleError,
  DependencyFailedError,
  DuplicateTaskError,
  EngineShutDownError,
  ErrorCode,
  ExecutorFailedError,
  ExecutorUnavailableError,
  InterruptedError,
  InvalidOptionError,
  InvalidTransitionError,
  MissingDependencyError,
  MissingExportError,
  ModuleLoadError,
  NonRetryableError,
  ResultNotCloneableError,
  StoreError,
  TaskCancelledError,
  TaskChartError,
  TaskNotFoundError,
  TaskTimeoutError,
  TaskStalledError,
  CacheKeyError,
  TriggerRuleError,
  RateLimitedError,
  UnknownDependencyError,
  UnknownHandlerError,
  WorkerCrashedError,
} from '../errors.js';

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
  readonly stack?: string;
  readonly cause?: SerializedError;
  /** Other own properties with primitive values (e.g. `errno`, `path`, `taskId`). */
  readonly props?: Record<string, string | number | boolean | null>;
}

/** How deep a cause chain is kept. */
const MAX_CAUSE_DEPTH = 5;

/** The class of each code: typed by `ErrorCode`, so a code added without its class here does not compile. */
const CLASS_OF_CODE: Readonly<Record<ErrorCode, { readonly prototype: TaskChartError }>> = {
  [ErrorCode.TASK_NOT_FOUND]: TaskNotFoundError,
  [ErrorCode.INVALID_TRANSITION]: InvalidTransitionError,
  [ErrorCode.DUPLICATE_TASK]: DuplicateTaskError,
  [ErrorCode.UNKNOWN_DEPENDENCY]: UnknownDependencyError,
  [ErrorCode.DEPENDENCY_CYCLE]: DependencyCycleError,
  [ErrorCode.DEPENDENCY_FAILED]: DependencyFailedError,
  [ErrorCode.TASK_TIMEOUT]: TaskTimeoutError,
  [ErrorCode.TASK_CANCELLED]: TaskCancelledError,
  [ErrorCode.WORKER_CRASHED]: WorkerCrashedError,
  [ErrorCode.EXECUTOR_UNAVAILABLE]: ExecutorUnavailableError,
  [ErrorCode.INTERRUPTED]: InterruptedError,
  [ErrorCode.STORE]: StoreError,
  [ErrorCode.ENGINE_SHUT_DOWN]: EngineShutDownError,
  [ErrorCode.INVALID_OPTION]: InvalidOptionError,
  [ErrorCode.NON_RETRYABLE]: NonRetryableError,
  [ErrorCode.MISSING_DEPENDENCY]: MissingDependencyError,
  [ErrorCode.MODULE_LOAD]: ModuleLoadError,
  [ErrorCode.MISSING_EXPORT]: MissingExportError,
  [ErrorCode.RESULT_NOT_CLONEABLE]: ResultNotCloneableError,
  [ErrorCode.UNKNOWN_HANDLER]: UnknownHandlerError,
  [ErrorCode.EXECUTOR_FAILED]: ExecutorFailedError,
  [ErrorCode.TRIGGER_RULE]: TriggerRuleError,
  [ErrorCode.RATE_LIMITED]: RateLimitedError,
  [ErrorCode.TASK_STALLED]: TaskStalledError,
  [ErrorCode.CACHE_KEY]: CacheKeyError,
};

/** Anything thrown, as plain data (a non-Error value becomes an `Error` describing it, as `toError` does). */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: `Non-error value thrown: ${safeString(error)}` };
  }
  const props: Record<string, string | number | boolean | null> = {};
  for (const key of Object.keys(error)) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (key === 'code' || key === 'cause') continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) props[key] = value as string | number | boolean | null;
  }
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(error.stack !== undefined && { stack: error.stack }),
    ...(error.cause !== undefined && depth < MAX_CAUSE_DEPTH && { cause: serializeError(error.cause, depth + 1) }),
    ...(Object.keys(props).length > 0 && { props }),
  };
}

/** Rebuilds the error on this side: of its taskchart class when its code is one of ours, else an `Error`. */
export function deserializeError(serialized: SerializedError): Error {
  const errorClass =
    typeof serialized.code === 'string'
      ? (CLASS_OF_CODE as Readonly<Record<string, { readonly prototype: TaskChartError }>>)[serialized.code]
      : undefined;
  return errorClass === undefined ? rebuildError(serialized) : reviveTaskChartError(serialized, errorClass.prototype);
}

function rebuildError(serialized: SerializedError): Error {
  const error = new Error(serialized.message, serialized.cause ? { cause: deserializeError(serialized.cause) } : undefined);
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  if (serialized.code !== undefined) (error as Error & { code?: unknown }).code = serialized.code;
  for (const [key, value] of Object.entries(serialized.props ?? {})) {
    if (!(key in error)) (error as unknown as Record<string, unknown>)[key] = value;
  }
  return error;
}

function reviveTaskChartError(serialized: SerializedError, prototype: TaskChartError): TaskChartError {
  const error = Object.create(prototype) as TaskChartError;
  const own = (key: string, value: unknown, enumerable = true) =>
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable });
  own('message', serialized.message, false);
  own('code', serialized.code);
  own('name', serialized.name);
  if (serialized.stack !== undefined) own('stack', serialized.stack, false);
  if (serialized.cause !== undefined) own('cause', deserializeError(serialized.cause), false);
  for (const [key, value] of Object.entries(serialized.props ?? {})) {
    if (!(key in error)) own(key, value);
  }
  return error;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}
