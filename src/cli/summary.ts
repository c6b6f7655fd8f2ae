/** The end of a run: a table of outcomes, the failed tasks with their errors, and the exit code. */
import { TaskStatus, type TaskEngine, type TaskInfo } from '../index.js';
import { errorToJson, formatDuration, formatError } from './format.js';
import { ExitCode } from './input-error.js';
import type { WriteLine } from './view.js';

/** What a finished (or interrupted) run came to. */
export interface RunOutcome {
  readonly tasks: readonly TaskInfo[];
  readonly counts: Record<TaskStatus, number>;
  /** Tasks not in a terminal status (only after an interruption or a hung external task). */
  readonly unfinished: number;
  /** Of the terminal tasks, those that had finished in an earlier run (restored from a store). */
  readonly finishedEarlier: number;
  readonly elapsedMs: number;
  readonly meanWaitTime: number;
  readonly meanRunTime: number;
}

/** Failed tasks listed in full before the rest are only counted. */
const MAX_LISTED = 50;

export function collectOutcome(engine: TaskEngine, ids: readonly string[], elapsedMs: number, finishedEarlier = 0): RunOutcome {
  const tasks = ids.map((id) => engine.getTask(id));
  const stats = engine.getStats();
  const counts = { ...stats.counts };
  const unfinished = counts.PENDING + counts.WAITING + counts.RUNNING;
  return { tasks, counts, unfinished, finishedEarlier, elapsedMs, meanWaitTime: stats.meanWaitTime, meanRunTime: stats.meanRunTime };
}

/** 0 when every task COMPLETED, else 1. */
export function exitCodeOf(outcome: RunOutcome): number {
  return outcome.tasks.every((task) => task.status === TaskStatus.COMPLETED) ? ExitCode.OK : ExitCode.TASKS_FAILED;
}

export function printSummary(outcome: RunOutcome, write: WriteLine): void {
  const rows: [string, string][] = [
    ['completed', String(outcome.counts.COMPLETED)],
    ['failed', String(outcome.counts.FAILED)],
    ['cancelled', String(outcome.counts.CANCELLED)],
    ...(outcome.unfinished > 0 ? [['unfinished', String(outcome.unfinished)] as [string, string]] : []),
    ['total', String(outcome.tasks.length)],
    ...(outcome.finishedEarlier > 0 ? [['finished in earlier runs', String(outcome.finishedEarlier)] as [string, string]] : []),
    ['elapsed', formatDuration(outcome.elapsedMs)],
    ['mean wait', formatDuration(outcome.meanWaitTime)],
    ['mean run', formatDuration(outcome.meanRunTime)],
  ];
  write('');
  write('Summary');
  for (const line of table(['outcome', 'value'], rows)) write(line);
  const failed = outcome.tasks.filter((task) => task.status === TaskStatus.FAILED);
  if (failed.length === 0) return;
  write('');
  write(`Failed tasks (${failed.length})`);
  for (const task of failed.slice(0, MAX_LISTED)) write(`  ${task.name} [${task.id}]  ${formatError(task.error)}`);
  if (failed.length > MAX_LISTED) write(`  ... and ${failed.length - MAX_LISTED} more`);
}

/** The `--json` summary: one object, the last line of output. */
export function summaryToJson(outcome: RunOutcome, exitCode: number): Record<string, unknown> {
  return {
    type: 'summary',
    exitCode,
    counts: outcome.counts,
    total: outcome.tasks.length,
    finishedEarlier: outcome.finishedEarlier,
    elapsedMs: outcome.elapsedMs,
    failed: outcome.tasks
      .filter((task) => task.status === TaskStatus.FAILED)
      .map((task) => ({ taskId: task.id, name: task.name, error: errorToJson(task.error) })),
  };
}

function table(header: [string, string], rows: readonly [string, string][]): string[] {
  const width = Math.max(header[0].length, ...rows.map(([key]) => key.length));
  const valueWidth = Math.max(header[1].length, ...rows.map(([, value]) => value.length));
  const rule = `  ${'-'.repeat(width)}  ${'-'.repeat(valueWidth)}`;
  return [`  ${header[0].padEnd(width)}  ${header[1].padStart(valueWidth)}`, rule, ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value.padStart(valueWidth)}`), rule];
}
