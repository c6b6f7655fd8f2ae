/**
 * The names taskchart/otel gives its spans, span events, attributes and instruments (docs/observability.md lists
 * them). Attribute names follow OpenTelemetry's conventions: the `taskchart.` namespace for ours, the semantic
 * conventions' own for errors and messaging.
 */

/** The instrumentation scope: the tracer's and the meter's name. */
export const SCOPE = 'taskchart';

export const ATTR = {
  TASK_ID: 'taskchart.task.id',
  TASK_NAME: 'taskchart.task.name',
  TASK_PRIORITY: 'taskchart.task.priority',
  TASK_STATUS: 'taskchart.task.status',
  TASK_CACHED: 'taskchart.task.cached',
  ATTEMPT: 'taskchart.attempt',
  ATTEMPT_OUTCOME: 'taskchart.attempt.outcome',
  ATTEMPT_RESUMED: 'taskchart.attempt.resumed',
  EXECUTOR: 'taskchart.executor',
  EXECUTOR_WAITING: 'taskchart.executor.waiting',
  LIMITER: 'taskchart.limiter',
  LIMIT_KEY: 'taskchart.limit.key',
  RETRY_DELAY: 'taskchart.retry.delay_ms',
  PAUSED_UNTIL: 'taskchart.rate_limit.until',
  LIMIT_UNTIL: 'taskchart.limit.until',
  DEADLINE: 'taskchart.deadline_ms',
  ERROR_TYPE: 'error.type',
  EXCEPTION_MESSAGE: 'exception.message',
  MESSAGING_SYSTEM: 'messaging.system',
  MESSAGING_DESTINATION: 'messaging.destination.name',
  MESSAGING_OPERATION_TYPE: 'messaging.operation.type',
  MESSAGING_OPERATION_NAME: 'messaging.operation.name',
  MESSAGING_MESSAGE_ID: 'messaging.message.id',
} as const;

export const SPAN_EVENT = {
  RETRY: 'taskchart.retry',
  CACHE_HIT: 'taskchart.cache.hit',
  RATE_LIMIT_PAUSE: 'taskchart.rate_limit.pause',
  LIMIT_WAIT: 'taskchart.limit.wait',
  STALLED: 'taskchart.attempt.stalled',
  DEADLINE_MISSED: 'taskchart.deadline.missed',
  EXECUTOR_WAIT: 'taskchart.executor.wait',
} as const;

export const METRIC = {
  WAIT_DURATION: 'taskchart.task.wait.duration',
  ATTEMPT_DURATION: 'taskchart.attempt.duration',
  FINISHED: 'taskchart.task.finished',
  QUEUED: 'taskchart.task.queued',
  RUNNING: 'taskchart.task.running',
  LIMIT_WAITING: 'taskchart.limit.waiting',
} as const;

/** How an attempt ended (`taskchart.attempt.outcome`). */
export type AttemptOutcome = 'completed' | 'failed' | 'timeout' | 'stalled' | 'crashed' | 'interrupted' | 'rate_limited' | 'cancelled';

/**
 * The low-cardinality `error.type` of an error (or of a serialized one, from a remote worker): its code
 * (ERR_TASK_TIMEOUT, ECONNRESET, a number as text), else its name (TypeError), else `_OTHER`.
 */
export function errorType(error: unknown): string {
  const { code, name } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; name?: unknown };
  if ((typeof code === 'string' && code !== '') || typeof code === 'number') return String(code);
  if (typeof name === 'string' && name !== '') return name;
  return '_OTHER';
}

/** An error's message, for span statuses and events. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : String(error);
}

const OUTCOME_OF_CODE: Readonly<Record<string, AttemptOutcome>> = {
  ERR_TASK_TIMEOUT: 'timeout',
  ERR_TASK_STALLED: 'stalled',
  ERR_WORKER_CRASHED: 'crashed',
  ERR_INTERRUPTED: 'interrupted',
  ERR_RATE_LIMITED: 'rate_limited',
};

/** An attempt's outcome from the state its task went to and the machine's error. */
export function outcomeOf(state: string, error: unknown): AttemptOutcome {
  if (state === 'completed') return 'completed';
  if (state === 'cancelled') return 'cancelled';
  if (state === 'queued') return 'rate_limited'; // running -> queued: the attempt was rate limited, not counted
  return OUTCOME_OF_CODE[errorType(error)] ?? 'failed';
}
