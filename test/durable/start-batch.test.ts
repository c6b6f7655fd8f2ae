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
    expect(first.events.filter((e): e is StalledEvent => e.type === 'stalled').map((e) => [e.taskId, e.waitingOn])).toEqual([['waits', ['forgotten']]]);
    await first.engine.shutdown({ mode: 'suspend' });

    const second = durableEngine(path);
    second.engine.defineTask('noop', () => 1);
    await second.engine.restore();
    await second.engine.onIdle();
    expect(second.events.filter((e): e is StalledEvent => e.type === 'stalled').map((e) => [e.taskId, e.waitingOn])).toEqual([['waits', ['forgotten']]]);
    second.engine.startTask('forgotten');
    await expect(second.engine.waitForTask('waits')).resolves.toBe(1);
  });
});
