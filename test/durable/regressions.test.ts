/** Durable-engine regressions found by review, each with the scenario that showed it. */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { TaskEngine, TaskStatus, type TaskContext } from '../../src/index.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('durable engine regressions', () => {
  it('runs each attempt at most once when its timeout and backoff fire before it could start', async () => {
    const { engine, advance } = durableEngine(tempDbPath());
    const runs: number[] = [];
    engine.defineTask('slow', (ctx: TaskContext) => {
      runs.push(ctx.attempt);
      return new Promise(() => {});
    });
    engine.registerTask({ id: 't', name: 't', handler: 'slow', timeout: 100, maxRetries: 2, retryDelay: 10 });
    engine.startTask('t');
    advance(100); // attempt 1 times out before the tick's commit let it start
    advance(10);
    await flush();
    expect(runs).toEqual([2]);
    await engine.shutdown();
  });

  it('with real timers, every counted attempt runs, once, in a busy engine with short timeouts', { timeout: 30_000 }, async () => {
    const engine = new TaskEngine({ concurrency: 8, store: new SqliteStore({ path: tempDbPath() }) });
    const runs = new Map<string, number[]>();
    engine.defineTask('jittery', async (ctx: TaskContext, ms: number) => {
      runs.set(ctx.id, [...(runs.get(ctx.id) ?? []), ctx.attempt]);
      await sleep(ctx.attempt === 1 ? ms : 0);
      return ctx.attempt;
    });
    const ids = engine.registerTasks(
      Array.from({ length: 200 }, (_, i) => ({
        id: `t${i}`,
        name: `t${i}`,
        handler: 'jittery',
        args: [i % 7],
        timeout: 4,
        maxRetries: 3,
        retryDelay: 1,
        dependencies: i >= 8 ? [`t${i - 8}`] : [],
      })),
    );
    for (const id of ids) engine.startTask(id);
    await engine.onIdle();
    for (const id of ids) {
      const { attempts, status } = engine.getTask(id);
      expect(runs.get(id), `${id} ${status}`).toEqual(Array.from({ length: attempts }, (_, k) => k + 1));
    }
    await engine.shutdown();
  });

  it('stores an id registered again after cleanupTask in the same tick as the new task', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.registerTask({ id: 'x', name: 'old x' });
    first.engine.startTask('x');
    first.engine.completeTask('x', 'old');
    await first.engine.cleanupTask('x');
    first.engine.registerTask({ id: 'x', name: 'new x' });
    await flush();
    expect(first.events.some((e) => e.type === 'store-error')).toBe(false);
    await first.engine.shutdown({ mode: 'suspend' });
    const second = durableEngine(path);
    await second.engine.restore();
    expect(second.engine.getTask('x')).toMatchObject({ name: 'new x', status: 'PENDING' });
    await second.engine.shutdown();
  });

  it('lets a task go through cleanupTask only after its held outcome was reported, waited for and disposed of', async () => {
    const { engine, events } = durableEngine(tempDbPath());
    const order: string[] = [];
    engine.defineTask('quick', (ctx: TaskContext) => {
      ctx.registerResource(() => void order.push('disposed'));
      return 'done';
    });
    engine.registerTask({ id: 'a', name: 'a', handler: 'quick' });
    engine.events.subscribe((e) => e.type === 'status' && e.status === 'COMPLETED' && order.push('event'));
    void engine.waitForTask('a').then(() => order.push('waited'));
    engine.startTask('a');
    for (let i = 0; i < 100 && engine.getTaskStatus('a') !== TaskStatus.COMPLETED; i++) await Promise.resolve();
    expect(engine.getTaskStatus('a')).toBe(TaskStatus.COMPLETED);
    expect(events.some((e) => e.type === 'status' && e.status === 'COMPLETED')).toBe(false); // held: not on disk yet
    await engine.cleanupTask('a');
    order.push('cleaned up');
    expect(order).toEqual(['event', 'waited', 'disposed', 'cleaned up']);
    await engine.shutdown();
  });

  it('fails the whole chain of dependents before failTask returns, in one commit', async () => {
    const { engine, store, events } = durableEngine(tempDbPath());
    engine.registerTasks([
      { id: 'a', name: 'a' },
      { id: 'b', name: 'b', dependencies: ['a'] },
      { id: 'c', name: 'c', dependencies: ['b'] },
    ]);
    for (const id of ['a', 'b', 'c']) engine.startTask(id);
    await flush();
    const before = store.commits.length;
    engine.failTask('a', new Error('broken'));
    expect(['a', 'b', 'c'].map((id) => engine.getTaskStatus(id))).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(events.filter((e) => e.type === 'status' && e.status === 'FAILED').map((e) => e.taskId)).toEqual(['a', 'b', 'c']);
    expect(store.commits.length).toBe(before + 1);
    await engine.shutdown();
  });

  it('emits the status event of a verb called from a subscriber before the verb returns', async () => {
    const { engine } = durableEngine(tempDbPath());
    engine.registerTasks([
      { id: 'a', name: 'a' },
      { id: 'b', name: 'b' },
    ]);
    engine.startTask('a');
    engine.startTask('b');
    await flush();
    const seen: string[] = [];
    engine.events.subscribe((e) => {
      if (e.type !== 'status') return;
      seen.push(`${e.taskId} ${e.status}`);
      if (e.taskId === 'a' && e.status === 'COMPLETED') {
        engine.cancelTask('b');
        seen.push('cancelTask(b) returned');
      }
    });
    engine.completeTask('a', 1);
    expect(seen).toEqual(['a COMPLETED', 'b CANCELLED', 'cancelTask(b) returned']);
    await engine.shutdown();
  });

  it('restores the dependents of a task that failed just before a suspend as failed, never-started ones included', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('fail', () => {
      throw new Error('no');
    });
    first.engine.registerTasks([
      { id: 'a', name: 'a', handler: 'fail' },
      { id: 'b', name: 'b', dependencies: ['a'] },
      { id: 'c', name: 'c', dependencies: ['b'] },
    ]);
    first.engine.startTask('a');
    first.engine.startTask('c');
    for (let i = 0; i < 100 && first.engine.getTaskStatus('a') !== TaskStatus.FAILED; i++) await Promise.resolve();
    await first.engine.shutdown({ mode: 'suspend' });
    const second = durableEngine(path);
    second.engine.defineTask('fail', () => 1);
    await second.engine.restore();
    await second.engine.onIdle();
    expect(['a', 'b', 'c'].map((id) => second.engine.getTaskStatus(id))).toEqual(['FAILED', 'FAILED', 'FAILED']);
    await second.engine.shutdown();
  });

  it('refuses args that pass the structured-clone walk but not v8.serialize (a Blob), registering nothing', async () => {
    const path = tempDbPath();
    const { engine } = durableEngine(path);
    engine.defineTask('h', () => 1);
    expect(() =>
      engine.registerTasks([
        { id: 'ghost', name: 'ghost', handler: 'h' },
        { id: 'bad', name: 'bad', handler: 'h', args: [new Blob(['x'])] },
      ]),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'args' }));
    await flush();
    await engine.shutdown();
    const second = durableEngine(path);
    expect(await second.engine.restore()).toMatchObject({ restored: 0 });
    await second.engine.shutdown();
  });

  it('leaves the file free when the engine constructor fails after opening the store', async () => {
    const path = tempDbPath();
    expect(
      () =>
        new TaskEngine({
          store: new SqliteStore({ path }),
          inspect: () => {
            throw new Error('observer broke');
          },
        }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    const engine = new TaskEngine({ store: new SqliteStore({ path }) });
    await engine.shutdown();
  });

  it('stops the engine when restore() meets a row it cannot read, instead of accepting work beside it', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.registerTasks([
      { id: 'ok', name: 'ok' },
      { id: 'broken', name: 'broken' },
    ]);
    await first.engine.shutdown();
    const db = new Database(path);
    db.prepare("UPDATE tasks SET spec = X'00ff' WHERE id = 'broken'").run();
    db.close();
    const second = durableEngine(path);
    await expect(second.engine.restore()).rejects.toMatchObject({ code: 'ERR_STORE', message: expect.stringContaining('`broken`') });
    expect(() => second.engine.registerTask({ name: 'new' })).toThrow(expect.objectContaining({ code: 'ERR_STORE' }));
    await second.engine.shutdown();
  });

  it("runs a dependent started from its dependency's COMPLETED event (the outcome was waiting for its commit)", async () => {
    const { engine } = durableEngine(tempDbPath());
    engine.defineTask('ok', (ctx: TaskContext) => ctx.id);
    engine.registerTasks([
      { id: 'a', name: 'a', handler: 'ok' },
      { id: 'b', name: 'b', handler: 'ok', dependencies: ['a'] },
    ]);
    engine.events.subscribe((e) => {
      if (e.type === 'status' && e.taskId === 'a' && e.status === 'COMPLETED') engine.startTask('b');
    });
    engine.startTask('a');
    await expect(engine.waitForTask('b')).resolves.toBe('b');
    await engine.shutdown();
  });

  it('keeps a task registered after its dependency failed PENDING across a restore, even within the same millisecond', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.registerTask({ id: 'x', name: 'x' });
    first.engine.startTask('x');
    first.engine.failTask('x', new Error('x broke'));
    first.engine.registerTask({ id: 'd', name: 'd', dependencies: ['x'] }); // same simulated millisecond
    await first.engine.shutdown({ mode: 'suspend' });
    const second = durableEngine(path);
    expect(await second.engine.restore()).toMatchObject({ pending: 1, finished: 1 });
    expect(second.engine.getTaskStatus('d')).toBe(TaskStatus.PENDING);
    second.engine.startTask('d');
    expect((second.engine.getTaskError('d') as { code: string }).code).toBe('ERR_DEPENDENCY_FAILED');
    await second.engine.shutdown();
  });
});
