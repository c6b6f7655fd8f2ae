/**
 * The base of every taskchart error: the stable codes, `TaskChartError`, and how messages name a task. The classes
 * are in task-errors.ts (the engine and its verbs) and executor-errors.ts (where an attempt runs); src/errors.ts
 * lists them all.
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
  TRIGGER_RULE: 'ERR_TRIGGER_RULE',
  RATE_LIMITED: 'ERR_RATE_LIMITED',
  TASK_STALLED: 'ERR_TASK_STALLED',
  CACHE_KEY: 'ERR_CACHE_KEY',
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

/** The id of a task given as a TaskRef or as its id. */
export function idOf(task: TaskRef | string): string {
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

/** `value instanceof Error`, false (not a throw) for a revoked proxy or a throwing prototype trap. */
export function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** A value (thrown, or a cancel reason) as text for a message; never throws. */
export function describeReason(value: unknown): string {
  try {
    if (value instanceof Error) return value.message;
    if (typeof value === 'object' && value !== null) return JSON.stringify(value) ?? String(value);
    return String(value);
  } catch {
    return 'an unreadable value';
  }
}

/** An error on one line: `CODE: message` (`Name: message` without a code), its own cause left out. */
export function oneLine(error: unknown): string {
  if (!isError(error)) return describeReason(error);
  try {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === 'string' ? code : error.name}: ${error.message}`.replace(/\s*\n\s*/g, ' ');
  } catch {
    return 'an unreadable error';
  }
}
