/**
 * The end of a run: a table of outcomes, each task's result (`--results`, a cached one marked), the tasks left
 * stalled, the tasks that missed their deadline, the failed tasks with their errors, and the exit code.
 */
import { TaskStatus, type TaskEngine, type TaskInfo } from '../index.js';
import { errorToJson, fit, formatDuration, formatError, formatResult, resultToJson } from './format.js';
import { ExitCode } from './input-error.js';
import type { RunProgress, StalledTask } from './run-progress.js';
import type { WriteLine } from './view.js';

/** What a finished (or interrupted) run came to. */
export interface RunOutcome {
  readonly tasks: readonly TaskInfo[];
  readonly counts: Record<TaskStatus, number>;
  /** Tasks not in a terminal status (only after an interruption, a hung external task or a stall). */
  readonly unfinished: number;
  /** Of the terminal tasks, those that had finished in an earlier run (restored from a store). */
  readonly finishedEarlier: number;
  /** Started tasks still WAITING on tasks that were never started, as the engine's last `stalled` events named them. */
  readonly stalled: readonly StalledTask[];
  readonly elapsedMs: number;
  /** When the outcome was collected (the engine's clock), for how long a limit still holds a task. */
  readonly endedAt: number;
  readonly meanWaitTime: number;
  readonly meanRunTime: number;
  /** The engine's counts since it was created: tasks completed from the results cache, missed deadlines, stalled attempts. */
  readonly cacheHits: number;
  readonly deadlinesMissed: number;
  readonly stalledAttempts: number;
  /** The deadline (ms after start) of each task that missed it in this run, as its `deadline` event gave it. */
  readonly deadlines: ReadonlyMap<string, number>;
}

/** How the summary is printed. */
export interface SummaryOptions {
  /** List every task with its result (`--results`). @default false */
  readonly results?: boolean;
  /** Lines listing tasks are cut to fewer characters than this. @default 120 */
  readonly columns?: number;
}

/** Failed tasks listed in full before the rest are only counted. */
const MAX_LISTED = 50;

export function collectOutcome(
  engine: TaskEngine,
  progress: Pick<RunProgress, 'ids' | 'elapsedMs' | 'finishedEarlier' | 'stalled' | 'deadlines'>,
): RunOutcome {
  const tasks = progress.ids.map((id) => engine.getTask(id));
  const stats = engine.getStats();
  const counts = { ...stats.counts };
  const unfinished = counts.PENDING + counts.WAITING + counts.RUNNING;
  const stalled = [...progress.stalled.values()].filter((task) => engine.getTaskStatus(task.id) === TaskStatus.WAITING);
  const { elapsedMs } = progress;
  return {
    tasks,
    counts,
    unfinished,
    finishedEarlier: progress.finishedEarlier.size,
    stalled,
    elapsedMs,
    endedAt: Date.now(),
    meanWaitTime: stats.meanWaitTime,
    meanRunTime: stats.meanRunTime,
    cacheHits: stats.cacheHits,
    deadlinesMissed: stats.deadlinesMissed,
    stalledAttempts: stats.stalledAttempts,
    deadlines: new Map(progress.deadlines),
  };
}

/** 0 when every task COMPLETED, else 1. */
export function exitCodeOf(outcome: RunOutcome): number {
  return outcome.tasks.every((task) => task.status === TaskStatus.COMPLETED) ? ExitCode.OK : ExitCode.TASKS_FAILED;
}

export function printSummary(outcome: RunOutcome, write: WriteLine, options: SummaryOptions = {}): void {
  const max = (options.columns ?? 120) - 1;
  write('');
  write('Summary');
  for (const line of table(['outcome', 'value'], countRows(outcome))) write(line);
  if (options.results === true) section(`Results (${outcome.tasks.length})`, resultLines(outcome.tasks), write, max);
  section(
    `Stalled tasks (${outcome.stalled.length}): started, but waiting on tasks that were never started`,
    outcome.stalled.map(
      (task) => `  ${label(task.id, task.name)}  waits on never-started ${task.waitingOn.map((id) => `\`${id}\``).join(', ')}`,
    ),
    write,
    max,
  );
  const stalledIds = new Set(outcome.stalled.map((task) => task.id));
  const waiting = outcome.tasks.filter((task) => task.waitingOn !== undefined && !stalledIds.has(task.id));
  const waitingLines = waiting.slice(0, MAX_LISTED).map((task) => `  ${label(task.id, task.name)}  ${waitingText(task, outcome.endedAt)}`);
  if (waiting.length > MAX_LISTED) waitingLines.push(`  ... and ${waiting.length - MAX_LISTED} more`);
  section(`Waiting tasks (${waiting.length}): started, not running, and why`, waitingLines, write, max);
  section(`Missed deadlines (${outcome.tasks.filter(missedDeadline).length})`, deadlineLines(outcome), write, max);
  const failed = outcome.tasks.filter((task) => task.status === TaskStatus.FAILED);
  const listed = failed.slice(0, MAX_LISTED).map((task) => `  ${label(task.id, task.name)}  ${formatError(task.error)}`);
  if (failed.length > MAX_LISTED) listed.push(`  ... and ${failed.length - MAX_LISTED} more`);
  section(`Failed tasks (${failed.length})`, listed, write);
}

/** The `--json` summary: one object, the last line of output; `tasks` has every task's result or error. */
export function summaryToJson(outcome: RunOutcome, exitCode: number): Record<string, unknown> {
  return {
    type: 'summary',
    exitCode,
    counts: outcome.counts,
    total: outcome.tasks.length,
    finishedEarlier: outcome.finishedEarlier,
    cacheHits: outcome.cacheHits,
    deadlinesMissed: outcome.deadlinesMissed,
    stalledAttempts: outcome.stalledAttempts,
    elapsedMs: outcome.elapsedMs,
    failed: outcome.tasks
      .filter((task) => task.status === TaskStatus.FAILED)
      .map((task) => ({ taskId: task.id, name: task.name, error: errorToJson(task.error) })),
    stalled: outcome.stalled.map((task) => ({ taskId: task.id, name: task.name, waitingOn: task.waitingOn })),
    waiting: outcome.tasks
      .filter((task) => task.waitingOn !== undefined)
      .map((task) => ({ taskId: task.id, name: task.name, waitingOn: task.waitingOn })),
    tasks: outcome.tasks.map(taskToJson),
  };
}

function taskToJson(task: TaskInfo): Record<string, unknown> {
  const data: Record<string, unknown> = { taskId: task.id, name: task.name, status: task.status };
  if (task.status === TaskStatus.COMPLETED) data.result = resultToJson(task.result);
  if (task.error !== undefined) data.error = errorToJson(task.error);
  if (task.cached) data.cached = true;
  if (task.deadlineMissedAt !== undefined) data.deadlineMissedAt = task.deadlineMissedAt;
  return data;
}

const missedDeadline = (task: TaskInfo): boolean => task.deadlineMissedAt !== undefined;

/** `  report  missed its 500ms deadline; COMPLETED`, the first 50 tasks that missed theirs. */
function deadlineLines(outcome: RunOutcome): string[] {
  const late = outcome.tasks.filter(missedDeadline);
  const lines = late.slice(0, MAX_LISTED).map((task) => {
    const deadline = outcome.deadlines.get(task.id);
    return `  ${label(task.id, task.name)}  missed its ${deadline === undefined ? '' : `${formatDuration(deadline)} `}deadline; ${task.status}`;
  });
  if (late.length > MAX_LISTED) lines.push(`  ... and ${late.length - MAX_LISTED} more`);
  return lines;
}

/** Why a started task is not running: the dependencies it waits on, or the limit key that holds it and for how long. */
function waitingText(task: TaskInfo, now: number): string {
  const waitingOn = task.waitingOn;
  if (waitingOn?.limit !== undefined) {
    const { limiter, key, until } = waitingOn.limit;
    return `held by limit ${limiter} \`${key}\` ${until === undefined ? 'until one of its running tasks ends' : `for ${formatDuration(Math.max(0, until - now))} more`}`;
  }
  return `waits on ${(waitingOn?.dependencies ?? []).map((id) => `\`${id}\``).join(', ')}`;
}

/** `name`, or `name [id]` when the id is not the name. */
function label(id: string, name: string): string {
  return id === name ? name : `${name} [${id}]`;
}

function countRows(outcome: RunOutcome): [string, string][] {
  return [
    ['completed', String(outcome.counts.COMPLETED)],
    ['failed', String(outcome.counts.FAILED)],
    ['cancelled', String(outcome.counts.CANCELLED)],
    ...counted('unfinished', outcome.unfinished),
    ['total', String(outcome.tasks.length)],
    ...counted('finished in earlier runs', outcome.finishedEarlier),
    ...counted('from cache', outcome.cacheHits),
    ...counted('deadlines missed', outcome.deadlinesMissed),
    ...counted('stalled attempts', outcome.stalledAttempts),
    ['elapsed', formatDuration(outcome.elapsedMs)],
    ['mean wait', formatDuration(outcome.meanWaitTime)],
    ['mean run', formatDuration(outcome.meanRunTime)],
  ];
}

/** A row of the table only when its count is not zero. */
function counted(key: string, n: number): [string, string][] {
  return n > 0 ? [[key, String(n)]] : [];
}

/** Each task on one line: its result when COMPLETED (after `(cached)` when from the cache), else its status (and error). Labels are aligned. */
function resultLines(tasks: readonly TaskInfo[]): string[] {
  const labels = tasks.map((task) => label(task.id, task.name));
  const width = Math.min(40, Math.max(0, ...labels.map((text) => text.length)));
  return tasks.map((task, i) => `  ${(labels[i] ?? '').padEnd(width)}  ${outcomeText(task)}`);
}

function outcomeText(task: TaskInfo): string {
  // The mark goes first: a long result is cut at the line's end.
  if (task.status === TaskStatus.COMPLETED) return `${task.cached ? '(cached) ' : ''}${formatResult(task.result)}`;
  return task.error === undefined ? task.status : `${task.status}: ${formatError(task.error)}`;
}

/** A titled list after a blank line; nothing when empty. Lines are cut to `max` characters when given. */
function section(title: string, lines: readonly string[], write: WriteLine, max?: number): void {
  if (lines.length === 0) return;
  write('');
  write(title);
  for (const line of lines) write(max === undefined ? line : fit(line, max));
}

function table(header: [string, string], rows: readonly [string, string][]): string[] {
  const width = Math.max(header[0].length, ...rows.map(([key]) => key.length));
  const valueWidth = Math.max(header[1].length, ...rows.map(([, value]) => value.length));
  const rule = `  ${'-'.repeat(width)}  ${'-'.repeat(valueWidth)}`;
  return [
    `  ${header[0].padEnd(width)}  ${header[1].padStart(valueWidth)}`,
    rule,
    ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value.padStart(valueWidth)}`),
    rule,
  ];
}
