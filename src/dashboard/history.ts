/**
 * Per-task attempt history and recent progress messages, built by the
 * dashboard from the events it sees (`status` RUNNING starts an attempt, a
 * `retry` event ends it as failed with its error, a terminal status ends the
 * last one; an attempt ended by ERR_TASK_STALLED says after how long without a heartbeat), whether the engine
 * reported the task stalled (a `stalled` event, until its status changes), and why it last ran uncached (a
 * `cache-skipped` event). Everything is bounded: at most `DASHBOARD_MAX_MESSAGES` messages
 * and `DASHBOARD_MAX_ATTEMPTS` attempts per task, `DASHBOARD_MAX_HISTORIES`
 * tasks (the oldest dropped first).
 */
import { ErrorCode } from '../errors.js';
import type { TaskEvent } from '../events.js';
import { describeMachine } from '../monitor/statechart.js';
import { STATUS_OF_STATE, taskMachine } from '../machines/task.machine.js';
import { errorToJson, type ErrorJson } from './snapshot.js';

export const DASHBOARD_MAX_MESSAGES = 20;
export const DASHBOARD_MAX_ATTEMPTS = 100;
export const DASHBOARD_MAX_HISTORIES = 10_000;

export interface AttemptJson {
  readonly attempt: number;
  readonly startedAt: number;
  endedAt: number | null;
  /** `running` while open, then `completed`, `failed` or `cancelled`. */
  outcome: 'running' | 'completed' | 'failed' | 'cancelled';
  error: ErrorJson | null;
  /**
   * Set when the attempt stalled (it failed with ERR_TASK_STALLED): the `heartbeatTimeout` it went without a heartbeat
   * for, in ms (null when the error does not say). Null otherwise.
   */
  stalled: { readonly heartbeatTimeout: number | null } | null;
}

export interface MessageJson {
  readonly at: number;
  readonly progress: number;
  readonly message: string;
}

export interface HistoryJson {
  readonly attempts: readonly AttemptJson[];
  readonly messages: readonly MessageJson[];
  /** Why the task last ran uncached although its spec has `cache` (the last `cache-skipped` event's error); else null. */
  readonly cacheSkipped: ErrorJson | null;
}

interface History {
  attempts: AttemptJson[];
  messages: MessageJson[];
  count: number;
  cacheSkipped: ErrorJson | null;
  /** The never-started tasks of the last `stalled` event, until the task's status changes. */
  stalledOn: readonly string[] | null;
}

const TERMINAL: Record<string, AttemptJson['outcome']> = { COMPLETED: 'completed', FAILED: 'failed', CANCELLED: 'cancelled' };

export class TaskHistories {
  readonly #byId = new Map<string, History>();

  #get(id: string): History {
    let history = this.#byId.get(id);
    if (!history) {
      history = { attempts: [], messages: [], count: 0, cacheSkipped: null, stalledOn: null };
      this.#byId.set(id, history);
      if (this.#byId.size > DASHBOARD_MAX_HISTORIES) this.#byId.delete(this.#byId.keys().next().value as string);
    }
    return history;
  }

  #end(history: History, at: number, outcome: AttemptJson['outcome'], error: unknown): void {
    const last = history.attempts[history.attempts.length - 1];
    if (!last || last.outcome !== 'running') return;
    last.endedAt = at;
    last.outcome = outcome;
    last.error = errorToJson(error);
    last.stalled = stallOf(error);
  }

  record(event: TaskEvent): void {
    if (event.type === 'status') {
      const history = this.#get(event.taskId);
      history.stalledOn = null;
      if (event.status === 'RUNNING') {
        history.count++;
        history.attempts.push({
          attempt: history.count,
          startedAt: event.timestamp,
          endedAt: null,
          outcome: 'running',
          error: null,
          stalled: null,
        });
        if (history.attempts.length > DASHBOARD_MAX_ATTEMPTS) history.attempts.shift();
      } else if (TERMINAL[event.status]) {
        this.#end(history, event.timestamp, TERMINAL[event.status] as AttemptJson['outcome'], event.error);
      }
    } else if (event.type === 'retry') {
      this.#end(this.#get(event.taskId), event.timestamp, 'failed', event.error);
    } else if (event.type === 'stalled') {
      this.#get(event.taskId).stalledOn = [...event.waitingOn];
    } else if (event.type === 'cache-skipped') {
      this.#get(event.taskId).cacheSkipped = errorToJson(event.error);
    } else if (event.type === 'progress' && typeof event.message === 'string') {
      const history = this.#get(event.taskId);
      history.messages.push({ at: event.timestamp, progress: event.progress, message: event.message });
      if (history.messages.length > DASHBOARD_MAX_MESSAGES) history.messages.shift();
    }
  }

  get(id: string): HistoryJson {
    const history = this.#byId.get(id);
    return {
      attempts: history ? history.attempts.map((a) => ({ ...a })) : [],
      messages: history ? [...history.messages] : [],
      cacheSkipped: history?.cacheSkipped ?? null,
    };
  }

  /** The never-started tasks `id` was last reported stalled on, or null when it was not (or its status changed since). */
  stalledOn(id: string): readonly string[] | null {
    return this.#byId.get(id)?.stalledOn ?? null;
  }

  delete(id: string): void {
    this.#byId.delete(id);
  }
}

/** An attempt's stall, when `error` is ERR_TASK_STALLED (a TaskStalledError carries its `heartbeatTimeout`). */
function stallOf(error: unknown): AttemptJson['stalled'] {
  if (typeof error !== 'object' || error === null) return null;
  try {
    const { code, heartbeatTimeout } = error as { code?: unknown; heartbeatTimeout?: unknown };
    if (code !== ErrorCode.TASK_STALLED) return null;
    return { heartbeatTimeout: typeof heartbeatTimeout === 'number' ? heartbeatTimeout : null };
  } catch {
    return null; // a proxy or getter that throws: not a stall the dashboard can read
  }
}

export interface StatechartJson {
  readonly states: ReadonlyArray<{ readonly name: string; readonly status: string; readonly final: boolean }>;
  readonly transitions: ReadonlyArray<{ readonly source: string; readonly target: string; readonly event: string }>;
  readonly initial: string;
}

let statechart: StatechartJson | undefined;

/** The task machine's top-level states (nested states folded into their parent) and transitions, deduplicated. */
export function taskStatechart(): StatechartJson {
  if (statechart) return statechart;
  const description = describeMachine(taskMachine);
  const top = (path: string) => path.split('.')[0] as string;
  const states = description.states
    .filter((s) => !s.path.includes('.'))
    .map((s) => ({ name: s.path, status: (STATUS_OF_STATE as Record<string, string>)[s.path] ?? '', final: s.type === 'final' }));
  const seen = new Set<string>();
  const transitions: Array<{ source: string; target: string; event: string }> = [];
  for (const t of description.transitions) {
    if (t.target === undefined) continue;
    const source = top(t.source);
    const target = top(t.target);
    if (source === target) continue;
    const key = `${source}\n${target}\n${t.event}`;
    if (seen.has(key)) continue;
    seen.add(key);
    transitions.push({ source, target, event: t.event });
  }
  statechart = { states, transitions, initial: states[0]?.name ?? '' };
  return statechart;
}
