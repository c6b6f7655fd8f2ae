/**
 * What `restore()` does with each task read from the store (src/store/restore-tasks.ts reads and decodes
 * the rows): decisions, carried out by the supervisor.
 * - terminal tasks come back as they ended, with their results and errors;
 * - a task never started stays never started;
 * - WAITING and queued tasks re-enter the supervisor (queued when no dependency is unmet);
 * - a task in backoff waits out the rest of its delay;
 * - a task RUNNING when its process died counts that attempt as failed with ERR_INTERRUPTED,
 *   and retries if it has attempts left (a task that kills its process every time runs out of them);
 * - except when its executor's work outlives the process (a remote queue): a task whose attempt was dispatched
 *   or RUNNING there goes back to `dispatched`, and the executor re-attaches to that same attempt;
 * - a task that cannot run in this process (its handler, executor or resource pool is missing) fails.
 */
import { InterruptedError, InvalidOptionError, StoreError, TaskChartError, taskLabel } from '../errors.js';
import { STATUS_OF_STATE, type RestoreEvent, type TaskState } from '../machines/task.machine.js';
import { decodeCheckpoint, decodeForgotten } from '../store/codec.js';
import type { Durability } from '../store/durability.js';
import { readStore, type DecodedTask } from '../store/restore-tasks.js';
import type { TaskStore } from '../store/task-store.js';
import { isTerminal } from '../status.js';
import type { ResolvedTaskSpec, SpecEnvironment } from '../task-spec.js';
import type { TaskRecord } from './task-record.js';

/** A task as read from the store and decoded, and what this process makes of it. */
export interface StoredTask extends DecodedTask {
  /** Why it cannot run in this process, if it cannot. */
  readonly unrunnable: Error | undefined;
  /** Its attempt was dispatched or RUNNING on an executor whose work outlives the process: re-attach to it. */
  readonly reattach: boolean;
}

/** What `restore()` found and did, by kind. */
export interface RestoreReport {
  /** Tasks read from the store (every one not cleaned up). */
  readonly restored: number;
  /** Already COMPLETED, FAILED or CANCELLED: back with their results and errors. */
  readonly finished: number;
  /** Registered but never started: they stay so. */
  readonly pending: number;
  /** Started and unfinished (WAITING, queued, in backoff): back in the supervisor. */
  readonly resumed: number;
  /** Of the resumed, those in backoff: they wait out the rest of their delay. */
  readonly retrying: number;
  /**
   * RUNNING when the process died (ERR_INTERRUPTED): re-run free of `maxRetries` within the task's `maxInterruptions`,
   * else counted as a failed attempt (retried if attempts are left).
   */
  readonly interrupted: number;
  /** Of the interrupted, those re-run free (within `maxInterruptions`). */
  readonly rerunFree: number;
  /** Of the resumed, those whose attempt was in a remote queue (dispatched or RUNNING): the executor re-attaches to it. */
  readonly reattached: number;
  /** Failed on restore because this process cannot run them (handler, executor or resource pool missing). */
  readonly unrunnable: number;
}

/** Whether a stored machine state is final (COMPLETED, FAILED or CANCELLED). */
export function isFinalState(state: TaskState): boolean {
  return isTerminal(STATUS_OF_STATE[state]);
}

/**
 * Reads the store back into the supervisor. With `refuseUnrunnable`, a stored unfinished task this
 * process cannot run makes it throw ERR_INVALID_OPTION (listing them) before anything changes.
 */
export function restoreFrom(
  store: TaskStore,
  durability: Pick<Durability, 'continueAfter'>,
  supervisor: { restore(tasks: readonly StoredTask[]): void },
  env: SpecEnvironment,
  refuseUnrunnable = false,
): RestoreReport {
  const { tasks: decoded, lastSeq } = readStore(store, env.reruns);
  const tasks = decoded.map((task) => judge(task, env));
  const unrunnable = tasks.filter((task) => task.unrunnable !== undefined);
  if (refuseUnrunnable && unrunnable.length > 0) {
    const reasons = unrunnable.slice(0, 5).map((task) => (task.unrunnable as Error).message);
    const more = unrunnable.length > 5 ? `; and ${unrunnable.length - 5} more` : '';
    throw new InvalidOptionError(
      'unrunnable',
      `restore() found ${unrunnable.length} unfinished stored task(s) this process cannot run, and restored nothing: ${reasons.join('; ')}${more}`,
    );
  }
  durability.continueAfter(lastSeq);
  supervisor.restore(tasks);
  return reportOf(tasks);
}

/** Whether this process can run a stored task, and whether its attempt lives on elsewhere. */
function judge(task: DecodedTask, env: SpecEnvironment): StoredTask {
  const { row, spec } = task;
  let unrunnable: Error | undefined;
  try {
    unrunnable = isFinalState(row.state) ? undefined : whyUnrunnable(spec, env);
  } catch (error) {
    throw new StoreError(`The stored task \`${row.id}\` cannot be read back: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  // Its attempt lives on outside this process (a job in a remote queue): the executor re-attaches to it.
  const reattach = unrunnable === undefined && (row.state === 'running' || row.state === 'dispatched') && env.startsLater(spec.executor);
  return { ...task, result: row.state === 'completed' ? task.result : undefined, unrunnable, reattach };
}

/** Why this process cannot run the task: its handler, executor or a resource pool is missing here. */
function whyUnrunnable(spec: ResolvedTaskSpec, env: SpecEnvironment): Error | undefined {
  try {
    if (!env.hasExecutor(spec.executor)) {
      return new InvalidOptionError(
        'executor',
        `Task ${taskLabel(spec)} runs on executor \`${spec.executor}\`, which this engine does not have (restored from the store)`,
      );
    }
    for (const [name, units] of spec.resources) {
      const capacity = env.resourceCapacity(name);
      if (capacity === undefined || capacity < units) {
        return new InvalidOptionError(
          `resources.${name}`,
          `Task ${taskLabel(spec)} needs ${units} unit(s) of resource pool \`${name}\`, which this engine ${capacity === undefined ? 'does not have' : `has only ${capacity} of`} (restored from the store)`,
        );
      }
    }
    env.validateForExecutor(spec.executor, spec);
    return undefined;
  } catch (error) {
    if (!(error instanceof TaskChartError)) throw error;
    if (error instanceof InvalidOptionError && error.field === 'handler') {
      return new InvalidOptionError(
        'handler',
        `Task ${taskLabel(spec)} names handler \`${spec.handler}\`, which this process has not defined with engine.defineTask() before restore()`,
      );
    }
    return error;
  }
}

/** Fills a new record with what the store kept. */
export function fillRecord(record: TaskRecord, task: StoredTask): void {
  const row = task.row;
  record.attempts = row.attempts;
  record.freeAttempts = row.freeAttempts ?? 0;
  record.progress = row.progress;
  record.message = row.message ?? undefined;
  record.seq = row.startSeq;
  record.submittedAt = row.submittedAt ?? undefined;
  record.startedAt = row.startedAt ?? undefined;
  record.forgottenDependencies = decodeForgotten(row.forgottenDependencies);
  const checkpoint = decodeCheckpoint(row.checkpoint);
  if (
    checkpoint !== undefined ||
    row.lastHeartbeatAt != null ||
    (row.interruptions ?? 0) > 0 ||
    (row.crashes ?? 0) > 0 ||
    row.cached === true ||
    row.deadlineMissedAt != null
  ) {
    const long = record.longState;
    long.checkpoint = checkpoint;
    long.lastHeartbeatAt = row.lastHeartbeatAt ?? undefined;
    long.interruptions = row.interruptions ?? 0;
    long.crashes = row.crashes ?? 0;
    long.cached = row.cached === true;
    long.deadlineMissedAt = row.deadlineMissedAt ?? undefined;
  }
  if (!isFinalState(row.state)) return;
  record.state = row.state;
  record.status = STATUS_OF_STATE[row.state];
  record.finishedAt = row.finishedAt ?? undefined;
  record.result = task.result; // (its encoded bytes stay on disk only: a finished task is never written again)
  record.error = task.error;
  record.settled = true;
}

/**
 * The event that brings an unfinished task back; undefined when it stays `pending`. A WAITING or queued task's
 * trigger rule decides again, in its machine, from its dependencies as restored.
 */
export function restoreEventOf(task: StoredTask, now: number): RestoreEvent | undefined {
  const { row } = task;
  const base = {
    attempts: row.attempts,
    freeAttempts: row.freeAttempts ?? 0,
    interruptions: row.interruptions ?? 0,
    crashes: row.crashes ?? 0,
    backoff: 0,
    error: undefined,
  };
  if (task.unrunnable !== undefined) return { ...base, type: 'RESTORE', to: 'failed', error: task.unrunnable };
  if (task.reattach) return { ...base, type: 'RESTORE', to: 'dispatched' };
  switch (row.state) {
    case 'running': {
      const free = rerunsFree(task);
      const error = new InterruptedError(
        `Task ${taskLabel(row)} was RUNNING (attempt ${row.attempts}) when its process stopped without suspending; ` +
          (free
            ? `it runs again, not counted against maxRetries (interruption ${(row.interruptions ?? 0) + 1} of maxInterruptions ${task.spec.maxInterruptions})`
            : `the attempt counts as failed (its ${task.spec.maxInterruptions} free re-run(s) after interruptions are used up)`),
      );
      return { ...base, type: 'RESTORE', to: 'interrupted', error };
    }
    case 'retrying':
      return { ...base, type: 'RESTORE', to: 'retrying', backoff: Math.max(0, (row.deadline ?? now) - now), error: task.error };
    case 'waiting':
    case 'queued':
      return { ...base, type: 'RESTORE', to: 'waiting' };
    default:
      return undefined;
  }
}

/**
 * Whether an interrupted task's attempt re-runs free of maxRetries: what the machine's `restoresInterruptedAndFree`
 * guard decides on the RESTORE event, told ahead for the error's message and the report.
 */
function rerunsFree(task: StoredTask): boolean {
  return (task.row.interruptions ?? 0) < task.spec.maxInterruptions;
}

/** Counts the report from the stored tasks. */
export function reportOf(tasks: readonly StoredTask[]): RestoreReport {
  const report = {
    restored: tasks.length,
    finished: 0,
    pending: 0,
    resumed: 0,
    retrying: 0,
    interrupted: 0,
    rerunFree: 0,
    reattached: 0,
    unrunnable: 0,
  };
  for (const task of tasks) {
    const state = task.row.state;
    if (isFinalState(state)) report.finished++;
    else if (task.unrunnable !== undefined) report.unrunnable++;
    else if (state === 'pending') report.pending++;
    else if (state === 'running' && !task.reattach) {
      report.interrupted++;
      if (rerunsFree(task)) report.rerunFree++;
    } else {
      report.resumed++;
      if (state === 'retrying') report.retrying++;
      if (task.reattach) report.reattached++;
    }
  }
  return report;
}
