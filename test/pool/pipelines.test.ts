/**
 * Pipelines with pool tasks: trigger rules decide for pool tasks as for any task, and `ctx.dependencies` reaches the
 * worker thread by structured clone (a Map result stays a Map, an error keeps its class and code); a dependency result
 * that cannot be cloned fails the pool task with ERR_RESULT_NOT_CLONEABLE naming that dependency, without retrying.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TaskEngine, TaskStatus, type TaskEvent } from '../../src/index.js';

const tasks = new URL('../fixtures/pool-tasks.mjs', import.meta.url);
const engines: TaskEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown()));
});

describe('pool tasks in pipelines', () => {
  it('gives a pool fan-in its dependencies, cloned, after one of them failed (all_done)', async () => {
    const engine = new TaskEngine({ pool: { maxWorkers: 1 } });
    engines.push(engine);
    engine.registerTasks([
      { id: 'counts', name: 'count words', fn: () => new Map([['the', 3]]) },
      { id: 'timeout', name: 'fetch', fn: () => new Promise(() => {}), timeout: 5 },
      { id: 'join', name: 'join', module: tasks, export: 'describeDependencies', dependencies: ['counts', 'timeout'], trigger: 'all_done' },
    ]);
    engine.startTasks(['counts', 'timeout', 'join']);
    const seen = await engine.waitForTask('join');
    expect(seen).toEqual([
      { id: 'counts', name: 'count words', status: 'COMPLETED', result: new Map([['the', 3]]), error: undefined, frozen: true },
      {
        id: 'timeout',
        name: 'fetch',
        status: 'FAILED',
        result: undefined,
        error: {
          isError: true,
          name: 'TaskTimeoutError',
          code: 'ERR_TASK_TIMEOUT',
          message: 'Task `fetch` (timeout) timed out after 5 ms (attempt 1)',
        },
        frozen: true,
      },
    ]);
  });

  it('fails a pool task whose dependency result cannot be cloned, naming the dependency, without retrying', async () => {
    const engine = new TaskEngine({ pool: { maxWorkers: 1 } });
    engines.push(engine);
    engine.registerTasks([
      { id: 'handle', name: 'open file', fn: () => ({ close() {} }) },
      { id: 'use', name: 'use', module: tasks, export: 'describeDependencies', dependencies: ['handle'], maxRetries: 3 },
    ]);
    engine.startTasks(['handle', 'use']);
    await expect(engine.waitForTask('use')).rejects.toMatchObject({
      code: 'ERR_RESULT_NOT_CLONEABLE',
      taskId: 'handle',
      message: expect.stringContaining(
        'Expected the result of task `open file` (handle) to be structured-cloneable to reach pool task `use` in ctx.dependencies',
      ),
    });
    expect(engine.getTask('use').attempts).toBe(1);
    expect(engine.getTaskStatus('use')).toBe(TaskStatus.FAILED);
  });

  it('skips a pool task whose rule can no longer be met, without starting a thread for it', async () => {
    const engine = new TaskEngine({ pool: { maxWorkers: 1 } });
    engines.push(engine);
    engine.registerTasks([
      { id: 'ok', name: 'ok', fn: () => 1 },
      { id: 'on-failure', name: 'on failure', module: tasks, export: 'whereAmI', dependencies: ['ok'], trigger: 'one_failed' },
    ]);
    engine.startTasks(['ok', 'on-failure']);
    await engine.onIdle();
    expect(engine.getTaskError('on-failure')).toMatchObject({ code: 'ERR_TRIGGER_RULE' });
    expect(engine.getTask('on-failure').attempts).toBe(0);
  });

  it('runs pool tasks under a per-key limit, and pauses the key when a pool task throws RateLimitedError', async () => {
    const engine = new TaskEngine({ concurrency: 4, pool: { maxWorkers: 2 }, limits: { api: { concurrency: 1 } } });
    engines.push(engine);
    const events: TaskEvent[] = [];
    engine.events.subscribe((event) => events.push(event));
    engine.registerTasks(
      [
        { id: 'p1', name: 'p1', module: tasks, export: 'rateLimitedOnce', args: [50], limits: { api: 'k' }, maxRetries: 0 },
        { id: 'p2', name: 'p2', module: tasks, export: 'whereAmI', limits: { api: 'k' } },
      ],
      { start: true },
    );
    await expect(engine.waitForTask('p1')).resolves.toBe(2);
    await engine.onIdle();
    const limited = events.find((event) => event.type === 'rate-limited');
    expect(limited).toMatchObject({ taskId: 'p1', limiter: 'api', key: 'k' });
    // Under concurrency 1 per key, p1 and p2 never overlapped.
    const runs = events.filter((event) => event.type === 'status' && (event.status === 'RUNNING' || event.previous === 'RUNNING'));
    let inside = 0;
    for (const event of runs) {
      inside += event.type === 'status' && event.status === 'RUNNING' ? 1 : -1;
      expect(inside).toBeLessThanOrEqual(1);
    }
    expect(engine.getTaskStatus('p2')).toBe(TaskStatus.COMPLETED);
  });
});
