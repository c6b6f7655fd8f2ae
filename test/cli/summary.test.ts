/**
 * The end-of-run summary from a real engine: a forgotten start reported as stalled (the engine's `stalled`
 * events, gathered by RunProgress), the `--results` lines cut to the terminal's width, and the counts and lists of
 * long and repeated work (missed deadlines, completions from the cache, stalled attempts).
 */
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ofType, TaskEngine } from '../../src/index.js';
import { RunProgress } from '../../src/cli/run-progress.js';
import { collectOutcome, exitCodeOf, printSummary, summaryToJson } from '../../src/cli/summary.js';
import { simulatedEngine } from '../helpers.js';
import { runLongWork } from './long-work.js';

const engines: TaskEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.shutdown({ mode: 'cancel' });
});

function watched(): { engine: TaskEngine; progress: RunProgress } {
  const engine = new TaskEngine({ concurrency: 2 });
  engines.push(engine);
  return { engine, progress: new RunProgress(engine) };
}

function summaryOf(engine: TaskEngine, progress: RunProgress, options?: Parameters<typeof printSummary>[2]): string[] {
  const lines: string[] = [];
  printSummary(collectOutcome(engine, progress), (line) => lines.push(line), options);
  return lines;
}

describe('the summary of a run', () => {
  it('lists a started task that waits on tasks never started, naming them, and the JSON summary has it too', async () => {
    const { engine, progress } = watched();
    const fetch = engine.registerTask({ id: 'fetch', name: 'fetch', fn: () => 'csv' });
    const schema = engine.registerTask({ id: 'schema-1', name: 'schema', fn: () => 'schema' });
    engine.registerTask({ id: 'parse', name: 'parse', dependencies: [fetch, schema], fn: () => 1 });
    engine.registerTask({ id: 'other', name: 'other', fn: () => 2 });
    const stalled = firstValueFrom(engine.events.pipe(ofType('stalled')));
    engine.startTask('parse'); // fetch and schema are never started
    engine.startTask('other');
    await stalled;
    await engine.onIdle();

    const lines = summaryOf(engine, progress);
    const at = lines.indexOf('Stalled tasks (1): started, but waiting on tasks that were never started');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('  parse  waits on never-started `fetch`, `schema-1`');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}unfinished +3$/));

    const outcome = collectOutcome(engine, progress);
    expect(exitCodeOf(outcome)).toBe(1);
    expect(summaryToJson(outcome, 1).stalled).toEqual([{ taskId: 'parse', name: 'parse', waitingOn: ['fetch', 'schema-1'] }]);
    progress.stop();
  });

  it('says why each unfinished started task waits when a run is interrupted: its dependencies, or the limit holding it', async () => {
    const engine = new TaskEngine({ concurrency: 4, limits: { domain: { concurrency: 1 } } });
    engines.push(engine);
    const progress = new RunProgress(engine);
    engine.registerTasks(
      [
        { id: 'f1', name: 'fetch 1', limits: { domain: 'a.com' }, fn: () => new Promise(() => {}) },
        { id: 'f2', name: 'fetch 2', limits: { domain: 'a.com' }, fn: () => 'page' },
        { id: 'report', name: 'report', dependencies: ['f1', 'f2'], trigger: 'all_done', fn: () => 'report' },
      ],
      { start: true },
    );
    await new Promise((resolve) => setImmediate(resolve));
    const lines = summaryOf(engine, progress);
    const at = lines.indexOf('Waiting tasks (2): started, not running, and why');
    expect(lines.slice(at + 1, at + 3)).toEqual([
      '  fetch 2 [f2]  held by limit domain `a.com` until one of its running tasks ends',
      '  report  waits on `f1`, `f2`',
    ]);
    expect(summaryToJson(collectOutcome(engine, progress), 1).waiting).toEqual([
      { taskId: 'f2', name: 'fetch 2', waitingOn: { dependencies: [], limit: { limiter: 'domain', key: 'a.com', until: undefined } } },
      { taskId: 'report', name: 'report', waitingOn: { dependencies: ['f1', 'f2'], limit: undefined } },
    ]);
    progress.stop();
  });

  it('does not list a task whose dependencies were started after it was reported stalled', async () => {
    const { engine, progress } = watched();
    engine.registerTask({ id: 'a', name: 'a', fn: () => 'a' });
    engine.registerTask({ id: 'b', name: 'b', dependencies: ['a'], fn: () => 'b' });
    engine.registerTask({ id: 'c', name: 'c', fn: () => 'c' });
    const stalled = firstValueFrom(engine.events.pipe(ofType('stalled')));
    engine.startTask('b');
    engine.startTask('c');
    expect((await stalled).taskId).toBe('b');
    engine.startTask('a'); // what the command does: it starts every task left never-started
    await engine.waitForTask('b');

    const lines = summaryOf(engine, progress);
    expect(lines.some((line) => line.startsWith('Stalled'))).toBe(false);
    expect(summaryToJson(collectOutcome(engine, progress), 0).stalled).toEqual([]);
    progress.stop();
  });

  it('cuts each --results line to the terminal width, with an ellipsis', async () => {
    const { engine, progress } = watched();
    engine.registerTask({
      id: 'report',
      name: 'report',
      fn: () => 'north: 6 cities, mean 6.8 °C, warmest copenhagen; south: 5 cities, mean 17.0 °C',
    });
    engine.startTask('report');
    await engine.waitForTask('report');

    const lines = summaryOf(engine, progress, { results: true, columns: 60 });
    expect(lines.slice(lines.indexOf('Results (1)') + 1)).toEqual(["  report  'north: 6 cities, mean 6.8 °C, warmest copenhage…"]);
    expect(summaryOf(engine, progress, { results: true, columns: 200 })).toContain(
      "  report  'north: 6 cities, mean 6.8 °C, warmest copenhagen; south: 5 cities, mean 17.0 °C'",
    );
    progress.stop();
  });

  it('counts missed deadlines, completions from the cache and stalled attempts, lists the late tasks, and marks cached results', async () => {
    const { engine, advance } = simulatedEngine();
    engines.push(engine);
    const progress = new RunProgress(engine);
    await runLongWork(engine, advance, { approveName: 'approve release', crawlDeadline: 65 });

    const lines = summaryOf(engine, progress, { results: true });
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}from cache +1$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}deadlines missed +2$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}stalled attempts +1$/));
    const at = lines.indexOf('Missed deadlines (2)');
    expect(lines.slice(at + 1, at + 3)).toEqual([
      '  approve release [approve]  missed its 100ms deadline; RUNNING',
      '  crawl  missed its 65ms deadline; COMPLETED',
    ]);
    expect(lines).toContain('  sum [sum-again]            (cached) 3');
    expect(lines).toContain('  sum                        3');

    const json = summaryToJson(collectOutcome(engine, progress), 1);
    expect(json).toMatchObject({ cacheHits: 1, deadlinesMissed: 2, stalledAttempts: 1 });
    const tasks = json.tasks as Record<string, unknown>[];
    expect(tasks.find((task) => task.taskId === 'sum-again')).toEqual({
      taskId: 'sum-again',
      name: 'sum',
      status: 'COMPLETED',
      result: 3,
      cached: true,
    });
    expect(tasks.find((task) => task.taskId === 'approve')).toEqual({
      taskId: 'approve',
      name: 'approve release',
      status: 'RUNNING',
      deadlineMissedAt: 110,
    });
    expect(tasks.find((task) => task.taskId === 'sum')).not.toHaveProperty('cached');

    // Nothing of it when none happened.
    const quiet = watched();
    quiet.engine.registerTask({ id: 'one', name: 'one', fn: () => 1 });
    quiet.engine.startTask('one');
    await quiet.engine.waitForTask('one');
    const plain = summaryOf(quiet.engine, quiet.progress).join('\n');
    expect(plain).not.toMatch(/cache|deadline|stalled/);
    expect(summaryToJson(collectOutcome(quiet.engine, quiet.progress), 0)).toMatchObject({
      cacheHits: 0,
      deadlinesMissed: 0,
      stalledAttempts: 0,
    });
    progress.stop();
    quiet.progress.stop();
  });
});
