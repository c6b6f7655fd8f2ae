/**
 * What `GET /api/state` and `GET /api/events` send: tasks and events turned
 * into plain JSON. Errors become `{ name, message, code }` (and their cause),
 * results are not sent (they may be large or not serialisable).
 */
import type { TaskInfo, TaskSettings } from '../actors/task-record.js';
import type { TaskEvent } from '../events.js';
import type { TaskStats } from '../monitor/stats.js';

/** An error as JSON. */
export interface ErrorJson {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly cause?: ErrorJson;
}

/** One task as `/api/state` lists it. */
export interface TaskJson {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  /** The task machine's state (`pending`, `queued`, `running`, `retrying`, ...), null when the engine does not say. */
  readonly state: string | null;
  readonly priority: number;
  readonly progress: number;
  readonly message: string | null;
  readonly attempts: number;
  readonly dependencies: readonly string[];
  /** How the task was asked to run; null when the engine does not say. */
  readonly settings: SettingsJson | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly error: ErrorJson | null;
  /**
   * Set while the task is stalled: the engine reported (a `stalled` event) that it was started but waits on tasks
   * that were never started; their ids, those still not started. Null otherwise.
   */
  readonly stalled: readonly string[] | null;
  /** What a started task waits for besides a slot: its unended dependencies, or the per-key limit holding it (getTask). */
  readonly waitingOn: {
    readonly dependencies: readonly string[];
    readonly limit: { readonly limiter: string; readonly key: string; readonly until: number | null } | null;
  } | null;
  /** Its per-key limiter keys and costs. */
  readonly limits: ReadonlyArray<{ readonly limiter: string; readonly key: string; readonly cost: number }>;
  /** Completed from the results cache, without an attempt (`cache` in its spec). */
  readonly cached: boolean;
  /** When its running (or last) attempt last sent a heartbeat or progress (ms); null when none ran. */
  readonly lastHeartbeatAt: number | null;
  /** When its `deadline` passed while it was not terminal (ms); null otherwise. */
  readonly deadlineMissedAt: number | null;
  /** Attempts re-run free after a process death (restore), and remote attempts whose worker process died. */
  readonly interruptions: number;
  readonly crashes: number;
}

export interface SettingsJson {
  readonly executor: string;
  readonly kind: string;
  readonly handler: string | null;
  readonly module: string | null;
  readonly maxRetries: number;
  readonly retryDelay: number;
  readonly timeout: number | null;
  readonly resources: Readonly<Record<string, number>>;
  readonly durable: boolean;
  /** Its trigger rule, null when the engine does not say. */
  readonly trigger: string | null;
}

/** The body of `GET /api/state`. */
export interface StateJson {
  readonly tasks: readonly TaskJson[];
  readonly stats: TaskStats;
  /** Above this many tasks the page shows counts and a list, not the graph. */
  readonly layoutLimit: number;
  readonly generatedAt: number;
}

/** One event as the SSE stream sends it (inside an array). */
export type EventJson = Record<string, unknown> & {
  readonly type: string;
  readonly taskId: string;
  readonly name: string;
  readonly timestamp: number;
};

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}

/** `error` as `{ name, message, code }`, following `cause` a few levels. */
export function errorToJson(error: unknown, depth = 0): ErrorJson | null {
  if (error === undefined || error === null) return null;
  try {
    if (typeof error === 'object') {
      const record = error as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
      const name = typeof record.name === 'string' ? record.name : 'Error';
      const message = typeof record.message === 'string' ? record.message : safeString(error);
      const out: { name: string; message: string; code?: string; cause?: ErrorJson } = { name, message };
      if (typeof record.code === 'string') out.code = record.code;
      if (depth < 3 && record.cause !== undefined) {
        const cause = errorToJson(record.cause, depth + 1);
        if (cause) out.cause = cause;
      }
      return out;
    }
  } catch {
    // a proxy or getter that throws: fall through to the string form
  }
  return { name: 'Error', message: safeString(error) };
}

/** The fields of `engine.getTask(id)` the dashboard shows (those added since the first dashboard optional, for engines that lack them). */
type LaterFields =
  'state' | 'settings' | 'waitingOn' | 'limits' | 'cached' | 'lastHeartbeatAt' | 'deadlineMissedAt' | 'interruptions' | 'crashes';
export type TaskInfoLike = Omit<TaskInfo, LaterFields | 'result'> & Partial<Pick<TaskInfo, LaterFields>>;

/** `info` as JSON; `stalled`: the never-started tasks it waits on, when the dashboard knows it is stalled. */
export function taskToJson(info: TaskInfoLike, stalled: readonly string[] | null = null): TaskJson {
  return {
    id: info.id,
    name: info.name,
    status: info.status,
    state: typeof info.state === 'string' ? info.state : null,
    priority: info.priority,
    progress: info.progress,
    message: info.message ?? null,
    attempts: info.attempts,
    dependencies: [...info.dependencies],
    settings: settingsToJson(info.settings),
    createdAt: info.createdAt,
    startedAt: info.startedAt ?? null,
    finishedAt: info.finishedAt ?? null,
    error: errorToJson(info.error),
    stalled: stalled === null ? null : [...stalled],
    waitingOn:
      info.waitingOn === undefined
        ? null
        : {
            dependencies: [...info.waitingOn.dependencies],
            limit:
              info.waitingOn.limit === undefined
                ? null
                : { limiter: info.waitingOn.limit.limiter, key: info.waitingOn.limit.key, until: info.waitingOn.limit.until ?? null },
          },
    limits: (info.limits ?? []).map(({ limiter, key, cost }) => ({ limiter, key, cost })),
    cached: info.cached === true,
    lastHeartbeatAt: info.lastHeartbeatAt ?? null,
    deadlineMissedAt: info.deadlineMissedAt ?? null,
    interruptions: info.interruptions ?? 0,
    crashes: info.crashes ?? 0,
  };
}

/** `event` as the SSE stream sends it: its own fields as JSON (errors as {@link ErrorJson}, `cached` only when set). */
export function eventToJson(event: TaskEvent): EventJson {
  const base = { type: event.type, taskId: event.taskId, name: event.name, timestamp: event.timestamp };
  switch (event.type) {
    case 'registered':
      return base;
    case 'status': {
      const status = { ...base, status: event.status, previous: event.previous, error: errorToJson(event.error) };
      return event.cached === true ? { ...status, cached: true } : status;
    }
    case 'progress':
      return { ...base, progress: event.progress, message: event.message ?? null };
    case 'retry':
      return { ...base, attempt: event.attempt, delay: event.delay, error: errorToJson(event.error) };
    case 'stalled':
      return { ...base, waitingOn: [...event.waitingOn] };
    case 'rate-limited':
      return { ...base, limiter: event.limiter, key: event.key, until: event.until };
    case 'deadline':
      return { ...base, deadline: event.deadline };
    case 'resource-error':
    case 'store-error':
    case 'cache-skipped':
      return { ...base, error: errorToJson(event.error) };
    default:
      return base;
  }
}

function settingsToJson(settings: TaskSettings | undefined): SettingsJson | null {
  if (settings === undefined) return null;
  return {
    executor: settings.executor,
    kind: settings.kind,
    handler: settings.handler ?? null,
    module: settings.module ?? null,
    maxRetries: settings.maxRetries,
    retryDelay: settings.retryDelay,
    timeout: settings.timeout ?? null,
    resources: { ...settings.resources },
    durable: settings.durable,
    trigger: settings.trigger ?? null,
  };
}
