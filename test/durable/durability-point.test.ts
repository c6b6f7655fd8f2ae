import { describe, expect, it } from 'vitest';
import { TaskStatus, type TaskContext } from '../../src/index.js';
import { flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

describe('durability point and group commits (one transaction per tick)', () => {
  it('has a terminal status and its result on disk before the status event, waitForTask and the dependents', async () => {
    const { engine, store } = durableEngine(tempDbPath());
    const seen: string[] = [];
    engine.defineTask('produce', () => 'value');
    engine.defineTask('consume', (_ctx: TaskContext) => {
      seen.push(`consume runs; produce on disk: ${store.lastState('produce')}`);
      return 'ok';
    });
    engine.events.subscribe((event) => {
      if (event.type === 'status' && event.status === TaskStatus.COMPLETED && event.taskId === 'produce') {
        seen.push(`status event; on disk: ${store.lastState('produce')}`);
      }
    });
    engine.registerTasks([
      { id: 'produce', name: 'produce', handler: 'produce' },
      { id: 'consume', name: 'consume', handler: 'consume', dependencies: ['produce'] },
    ]);
    engine.startTask('consume');
    engine.startTask('produce');
    const done = engine.waitForTask('produce').then(() => seen.push(`waitForTask resolves; on disk: ${store.lastState('produce')}`));
    await done;
    await engine.onIdle();
    expect(seen.sort()).toEqual([
      'consume runs; produce on disk: completed',
      'status event; on disk: completed',
      'waitForTask resolves; on disk: completed',
    ]);
    const row = store.commits
      .flatMap((b) => [...b.inserts, ...b.updates])
      .filter((r) => r.id === 'produce')
      .at(-1);
    expect(row?.result).toBeInstanceOf(Uint8Array);
    await engine.shutdown();
  });

  it('runs an attempt only once the attempt is counted on disk', async () => {
    const { engine, store, advance } = durableEngine(tempDbPath());
    const onDisk: string[] = [];
    engine.defineTask('look', (ctx: TaskContext) => {
      const row = store.commits
        .flatMap((b) => [...b.inserts, ...b.updates])
        .filter((r) => r.id === ctx.id)
        .at(-1);
      onDisk.push(`${row?.state} attempts=${row?.attempts}`);
      if (ctx.attempt === 1) throw new Error('again');
    });
    engine.registerTask({ id: 't', name: 't', handler: 'look', maxRetries: 1, retryDelay: 10 });
    engine.startTask('t');
    await flush();
    expect(onDisk).toEqual(['running attempts=1']);
    advance(10);
    await engine.waitForTask('t');
    expect(onDisk).toEqual(['running attempts=1', 'running attempts=2']);
    await engine.shutdown();
  });

  it('commits everything a tick changed in one transaction: a thousand registrations and their starts', async () => {
    const { engine, store } = durableEngine(tempDbPath());
    engine.registerTasks(Array.from({ length: 1000 }, (_, i) => ({ id: `t${i}`, name: `t${i}` })));
    engine.registerTask({ id: 'one-more', name: 'one more' });
    for (let i = 0; i < 50; i++) engine.startTask(`t${i}`);
    expect(store.commits).toHaveLength(0);
    await flush();
    expect(store.commits).toHaveLength(1);
    const [batch] = store.commits;
    expect(batch?.inserts).toHaveLength(1001);
    // Written once each, as they stood at the commit: four external tasks RUNNING (concurrency 4), the rest queued.
    expect(batch?.inserts.filter((r) => r.state === 'running').map((r) => r.id)).toEqual(['t0', 't1', 't2', 't3']);
    expect(batch?.inserts.filter((r) => r.state === 'queued')).toHaveLength(46);
    expect(batch?.updates).toEqual([]);
    await engine.shutdown();
  });

  it('commits at once for a verb that ends a task, so its status event still goes out before the verb returns', async () => {
    const { engine, store, events } = durableEngine(tempDbPath());
    engine.registerTask({ id: 'ext', name: 'external' });
    engine.startTask('ext');
    await flush();
    const before = store.commits.length;
    engine.cancelTask('ext', 'no longer needed');
    expect(store.commits.length).toBe(before + 1);
    expect(store.lastState('ext')).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ type: 'status', taskId: 'ext', status: 'CANCELLED' });
    await engine.shutdown();
  });

  it('writes progress lazily, within the tick, not one transaction per call', async () => {
    const { engine, store } = durableEngine(tempDbPath());
    engine.registerTask({ id: 'ext', name: 'external' });
    engine.startTask('ext');
    await flush();
    const before = store.commits.length;
    for (let i = 1; i <= 100; i++) engine.updateTaskProgress('ext', i / 100, `step ${i}`);
    expect(store.commits.length).toBe(before);
    await flush();
    expect(store.commits.length).toBe(before + 1);
    expect(store.commits.at(-1)?.updates).toEqual([expect.objectContaining({ id: 'ext', progress: 1, message: 'step 100' })]);
    await engine.shutdown();
  });
});
