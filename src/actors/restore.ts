/**
 * What `restore()` does with each task read from the store: pure decisions,
 * carried out by the supervisor.
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
import { InterruptedError } from '../errors.js';
import { STATUS_OF_STATE, type RestoreEvent, type TaskState } from '../machines/task.machine.js';
import type { TaskRow } from '../store/task-store.js';
import { isTerminal } from '../status.js';
import type { ResolvedTaskSpec } from '../task-spec.js';
import type { TaskRecord } from './task-record.js';

/** A task as read from the store and decoded. */
export interface StoredTask {
  readonly row: TaskRow;
  readonly spec: ResolvedTaskSpec;
  readonly result: unknown;
  readonly error: Error | undefined;
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
  /** RUNNING when the process died: the attempt counts as failed with ERR_INTERRUPTED (retried if attempts are left). */
  readonly interrupted: number;
  /** Of the resumed, those whose attempt was in a remote queue (dispatched or RUNNING): the executor re-attaches to it. */
  readonly reattached: number;
  /** Failed on restore because this process cannot run them (handler, executor or resource pool missing). */
  readonly unrunnable: number;
}

/** Whether a stored machine state is final (COMPLETED, FAILED or CANCELLED). */
export function isFinalState(state: TaskState): boolean {
  return isTerminal(STATUS_OF_STATE[state]);
}

/** Fills a new record with what the store kept. */
export function fillRecord(record: TaskRecord, task: StoredTask): void {
  const row = task.row;
  record.attempts = row.attempts;
  record.progress = row.progress;
  record.message = row.message ?? undefined;
  record.seq = row.startSeq;
  record.submittedAt = row.submittedAt ?? undefined;
  record.startedAt = row.startedAt ?? undefined;
  if (!isFinalState(row.state)) return;
  record.state = row.state;
  record.status = STATUS_OF_STATE[row.state];
  record.finishedAt = row.finishedAt ?? undefined;
  record.result = task.result; // (its encoded bytes stay on disk only: a finished task is never written again)
  record.error = task.error;
  record.settled = true;
}

/**
 * The event that brings an unfinished task back; 'dependency-ended' when it was started and `ended` (one of its
 * dependencies FAILED or was CANCELLED: it ends); undefined when it stays `pending`. `unmetDependencies`: those
 * not COMPLETED (the dependency tracker counts them).
 */
export function restoreEventOf(task: StoredTask, ended: boolean, unmetDependencies: number, now: number): RestoreEvent | 'dependency-ended' | undefined {
  const { row } = task;
  const base = { attempts: row.attempts, unmetDependencies: 0, backoff: 0, error: undefined };
  if (task.unrunnable !== undefined) return { ...base, type: 'RESTORE', to: 'failed', error: task.unrunnable };
  if (task.reattach) return { ...base, type: 'RESTORE', to: 'dispatched' };
  switch (row.state) {
    case 'running': {
      const error = new InterruptedError(
        `Task \`${row.id}\` was RUNNING (attempt ${row.attempts}) when its process stopped without suspending; the attempt counts as failed`,
      );
      return { ...base, type: 'RESTORE', to: 'interrupted', error };
    }
    case 'retrying':
      return { ...base, type: 'RESTORE', to: 'retrying', backoff: Math.max(0, (row.deadline ?? now) - now), error: task.error };
    case 'waiting':
    case 'queued': {
      if (ended) return 'dependency-ended';
      return { ...base, type: 'RESTORE', to: 'waiting', unmetDependencies };
    }
    default:
      return undefined;
  }
}

/** Counts the report from the stored tasks. */
export function reportOf(tasks: readonly StoredTask[]): RestoreReport {
  const report = { restored: tasks.length, finished: 0, pending: 0, resumed: 0, retrying: 0, interrupted: 0, reattached: 0, unrunnable: 0 };
  for (const task of tasks) {
    const state = task.row.state;
    if (isFinalState(state)) report.finished++;
    else if (task.unrunnable !== undefined) report.unrunnable++;
    else if (state === 'pending') report.pending++;
    else if (state === 'running' && !task.reattach) report.interrupted++;
    else {
      report.resumed++;
      if (state === 'retrying') report.retrying++;
      if (task.reattach) report.reattached++;
    }
  }
  return report;
}
