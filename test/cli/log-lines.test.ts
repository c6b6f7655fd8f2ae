/**
 * What the views log for long and repeated work, from a real engine on a simulated clock: a missed deadline, an
 * attempt that stalled and was retried, a completion from the results cache; and how `--json` writes those events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TaskStalledError, TaskStatus, type TaskEngine, type TaskEvent } from '../../src/index.js';
import { eventToJson } from '../../src/cli/json-view.js';
import { logLine } from '../../src/cli/live-view.js';
import { startPlainView } from '../../src/cli/plain-view.js';
import { RunProgress } from '../../src/cli/run-progress.js';
import { simulatedEngine } from '../helpers.js';
import { runLongWork } from './long-work.js';

const engines: TaskEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.shutdown({ mode: 'cancel' });
});

/** An engine on a simulated clock, and `run`: a cached pair, a task that misses its deadline, one whose first attempt stalls. */
function longWorkEngine(): { engine: TaskEngine; run(): Promise<void> } {
  const { engine, advance } = simulatedEngine();
  engines.push(engine);
  return { engine, run: () => runLongWork(engine, advance) };
}

describe('the plain view', () => {
  it('logs a missed deadline, names a stalled attempt as stalled, and marks a completion from the cache', async () => {
    const { engine, run } = longWorkEngine();
    const progress = new RunProgress(engine);
    const lines: string[] = [];
    const view = startPlainView(engine, progress, { write: (line) => lines.push(line.replace(/^ *\S+ {2}/, '')), interval: 3_600_000 });
    await run();
    view.stop();
    progress.stop();
    expect(lines).toContain('sum  PENDING -> COMPLETED (cached)');
    expect(lines).toContain('sum  RUNNING -> COMPLETED');
    expect(lines).toContain('crawl  stalled: no heartbeat for 50ms; retry: attempt 2 in 10ms');
    expect(lines).toContain('deadline missed: approve (after 100ms)');
  });
});

describe("the live view's log lines", () => {
  const base = { taskId: 'crawl', name: 'crawl', timestamp: 0 } as const;

  it('a missed deadline, a stalled attempt retried, and any other retry', () => {
    expect(logLine({ ...base, type: 'deadline', deadline: 30_000 })).toBe('deadline missed: crawl (after 30.0s)');
    expect(logLine({ ...base, type: 'retry', attempt: 2, delay: 1000, error: new TaskStalledError('crawl', 500, 1) })).toBe(
      'stalled   crawl: no heartbeat for 500ms; retry: attempt 2 in 1000ms',
    );
    expect(logLine({ ...base, type: 'retry', attempt: 2, delay: 1000, error: new Error('503') })).toBe(
      'retry     crawl: attempt 2 in 1000ms after Error: 503',
    );
  });

  it('a task that failed stalled says so in its error', () => {
    const failed: TaskEvent = {
      ...base,
      type: 'status',
      status: TaskStatus.FAILED,
      previous: TaskStatus.RUNNING,
      error: new TaskStalledError('crawl', 500, 2),
    };
    expect(logLine(failed as Extract<TaskEvent, { type: 'status' }>)).toMatch(/^FAILED {4}crawl: ERR_TASK_STALLED: Task `crawl` stalled:/);
  });
});

describe('--json lines', () => {
  it('carry the deadline, the cached flag and a skipped cache error', async () => {
    const { engine, run } = longWorkEngine();
    const events: TaskEvent[] = [];
    engine.events.subscribe((event) => events.push(event));
    await run();
    // A function argument has no cache key: the task runs uncached.
    engine.registerTask({ id: 'odd', name: 'odd', args: [() => 1], cache: true, fn: (_ctx, make: () => number) => make() });
    engine.startTask('odd');
    await engine.waitForTask('odd');
    const lines = events.map((event) => JSON.parse(JSON.stringify(eventToJson(event, engine))) as Record<string, unknown>);
    expect(lines).toContainEqual({ type: 'deadline', taskId: 'approve', name: 'approve', timestamp: 110, deadline: 100 });
    expect(lines).toContainEqual(
      expect.objectContaining({ type: 'status', taskId: 'sum-again', status: 'COMPLETED', cached: true, result: 3 }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        type: 'retry',
        taskId: 'crawl',
        error: expect.objectContaining({ name: 'TaskStalledError', code: 'ERR_TASK_STALLED' }),
      }),
    );
    expect(lines.find((line) => line.type === 'cache-skipped')).toMatchObject({ taskId: 'odd', error: { message: expect.any(String) } });
  });
});
