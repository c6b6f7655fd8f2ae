import { describe, expect, it } from 'vitest';
import { TaskPriority, type StalledEvent } from '../../src/index.js';
import { durableEngine, tempDbPath } from './helpers.js';

describe('durable engines: batches started in one step, stalled tasks reported after restore', () => {
  it('registerTasks({ start: true }) runs a durable batch in priority order, and its results are on disk', async () => {
    const path = tempDbPath();
    const first = durableEngine(path, { concurrency: 1 });
    const ran: string[] = [];
    first.engine.defineTask('note', (_ctx, name: string) => (ran.push(name), name.toUpperCase()));
    first.engine.registerTasks(
      [
        { id: 'low', name: 'low', handler: 'note', args: ['low'], priority: TaskPriority.LOW },
        { id: 'normal', name: 'normal', handler: 'note', args: ['normal'] },
        { id: 'critical', name: 'critical', handler: 'note', args: ['critical'], priority: TaskPriority.CRITICAL },
      ],
      { start: true },
    );
    await first.engine.onIdle();
    expect(ran).toEqual(['critical', 'normal', 'low']);
    await first.engine.shutdown();

    const second = durableEngine(path);
    second.engine.defineTask('note', () => 'unused');
    expect(await second.engine.restore()).toMatchObject({ restored: 3, finished: 3 });
    expect(['low', 'normal', 'critical'].map((id) => second.engine.getTaskResult(id))).toEqual(['LOW', 'NORMAL', 'CRITICAL']);
  });

  it('reports a restored task still waiting on a never-started dependency as stalled', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('noop', () => 1);
    first.engine.registerTasks([
      { id: 'forgotten', name: 'forgotten', handler: 'noop' },
      { id: 'waits', name: 'waits', handler: 'noop', dependencies: ['forgotten'] },
    ]);
    first.engine.startTask('waits');
    await first.engine.onIdle();
    expect(first.events.filter((e): e is StalledEvent => e.type === 'stalled').map((e) => [e.taskId, e.waitingOn])).toEqual([
      ['waits', ['forgotten']],
    ]);
    await first.engine.shutdown({ mode: 'suspend' });

    const second = durableEngine(path);
    second.engine.defineTask('noop', () => 1);
    await second.engine.restore();
    await second.engine.onIdle();
    expect(second.events.filter((e): e is StalledEvent => e.type === 'stalled').map((e) => [e.taskId, e.waitingOn])).toEqual([
      ['waits', ['forgotten']],
    ]);
    second.engine.startTask('forgotten');
    await expect(second.engine.waitForTask('waits')).resolves.toBe(1);
  });
});

describe('durable engines: a deep dependency failure keeps its root cause', () => {
  it('names the root cause of a chain deeper than the stored causes, after a restore', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('reset', () => {
      throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    });
    first.engine.defineTask('noop', () => 1);
    const specs = [{ id: 't0', name: 't0', handler: 'reset' }];
    for (let i = 1; i <= 8; i++) specs.push({ id: `t${i}`, name: `t${i}`, handler: 'noop', dependencies: [`t${i - 1}`] } as never);
    first.engine.registerTasks(specs, { start: true });
    await first.engine.onIdle();
    await first.engine.shutdown();

    const second = durableEngine(path);
    second.engine.defineTask('reset', () => 1);
    second.engine.defineTask('noop', () => 1);
    await second.engine.restore();
    const late = second.engine.registerTask({ id: 'late', name: 'late', handler: 'noop', dependencies: ['t8'] });
    second.engine.startTask(late);
    expect((second.engine.getTaskError(late) as Error).message).toBe(
      'Task `late` did not run: its dependency `t8` failed; root cause: `t0` ECONNRESET: connection reset',
    );
    expect(second.engine.getTaskError('t8')).toMatchObject({ rootTaskId: 't0', rootCause: 'ECONNRESET: connection reset' });
  });
});
