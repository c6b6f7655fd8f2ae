import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { TaskEngine, TaskPriority } from '../../src/index.js';
import { deferred, simulatedEngine } from '../helpers.js';

describe('a task function runs in the async context of the code that started it', () => {
  it('sees the AsyncLocalStorage store of its own startTask call, not that of whoever freed the slot', async () => {
    const als = new AsyncLocalStorage<string>();
    const engine = new TaskEngine({ concurrency: 1 });
    const seen: Record<string, string | undefined> = {};
    const gate = deferred();
    const a = engine.registerTask({ name: 'a', fn: async () => ((seen.a = als.getStore()), gate.promise) });
    const b = engine.registerTask({ name: 'b', fn: () => void (seen.b = als.getStore()) });
    als.run('caller-a', () => engine.startTask(a));
    als.run('caller-b', () => engine.startTask(b)); // queued: it runs when `a` ends, from a's completion
    gate.resolve(undefined);
    await engine.onIdle();
    expect(seen).toEqual({ a: 'caller-a', b: 'caller-b' });
  });

  it('keeps that context for a dependent woken by its dependency, and for retries after a backoff', async () => {
    const als = new AsyncLocalStorage<string>();
    const { engine, advance } = simulatedEngine({ concurrency: 2 });
    const seen: string[] = [];
    let attempt = 0;
    const first = engine.registerTask({ name: 'first', fn: () => void seen.push(`first:${als.getStore()}`) });
    const flaky = engine.registerTask({
      name: 'flaky',
      dependencies: [first],
      maxRetries: 1,
      retryDelay: 100,
      fn: () => {
        seen.push(`flaky:${als.getStore()}`);
        if (++attempt === 1) throw new Error('once');
      },
    });
    als.run('request-7', () => engine.startTask(flaky));
    als.run('request-8', () => engine.startTask(first));
    await advance(0);
    await advance(100);
    await engine.waitForTask(flaky);
    expect(seen).toEqual(['first:request-8', 'flaky:request-7', 'flaky:request-7']);
  });

  it('gives every task of a startTasks or registerTasks({ start }) batch the caller of that call', async () => {
    const als = new AsyncLocalStorage<number>();
    const engine = new TaskEngine({ concurrency: 1 });
    const seen: Array<number | undefined> = [];
    const fn = () => void seen.push(als.getStore());
    als.run(1, () =>
      engine.registerTasks(
        [
          { name: 'x', fn },
          { name: 'y', fn, priority: TaskPriority.HIGH },
        ],
        { start: true },
      ),
    );
    const z = engine.registerTask({ name: 'z', fn });
    als.run(2, () => engine.startTasks([z]));
    await engine.onIdle();
    expect(seen).toEqual([1, 1, 2]);
  });
});
