import { describe, expect, it } from 'vitest';
import { TaskStatus, type TaskContext } from '../../src/index.js';
import { flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

describe('what a durable engine accepts', () => {
  it('refuses an inline fn on a durable engine, naming the task, unless the spec says durable: false', async () => {
    const { engine, store } = durableEngine(tempDbPath());
    expect(() => engine.registerTask({ id: 'closure', name: 'closure', fn: () => 1 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        field: 'fn',
        message: expect.stringMatching(/durable task `closure`.*inline `fn`.*durable: false/),
      }),
    );
    const id = engine.registerTask({ id: 'memory-only', name: 'memory only', fn: () => 7, durable: false });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toBe(7);
    await flush();
    expect(store.commits.flatMap((b) => [...b.inserts, ...b.updates]).some((r) => r.id === 'memory-only')).toBe(false);
    await engine.shutdown();
  });

  it('refuses args the store cannot keep, naming where they are', () => {
    const { engine } = durableEngine(tempDbPath());
    engine.defineTask('h', () => 1);
    expect(() => engine.registerTask({ id: 'a', name: 'a', handler: 'h', args: [{ onDone: () => {} }] })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        field: 'args',
        message: expect.stringContaining('args[0].onDone is a function'),
      }),
    );
    return engine.shutdown();
  });

  it('refuses a durable task depending on a memory-only one (it would be missing after a restore)', () => {
    const { engine } = durableEngine(tempDbPath());
    engine.registerTask({ id: 'volatile', name: 'volatile', durable: false });
    expect(() => engine.registerTask({ id: 'kept', name: 'kept', dependencies: ['volatile'] })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        field: 'dependencies',
        message: expect.stringContaining('`volatile` has `durable: false`'),
      }),
    );
    expect(() =>
      engine.registerTasks([
        { id: 'x', name: 'x', durable: false },
        { id: 'y', name: 'y', dependencies: ['x'] },
      ]),
    ).toThrow(expect.objectContaining({ field: 'dependencies' }));
    engine.registerTask({ id: 'also-volatile', name: 'also volatile', durable: false, dependencies: ['volatile'] });
    return engine.shutdown();
  });

  it('fails a task whose result the store cannot keep, with a clear error, instead of losing it', async () => {
    const { engine } = durableEngine(tempDbPath());
    engine.defineTask('leaky', () => ({ rows: 3, close: () => {} }));
    engine.registerTask({ id: 'leaky', name: 'leaky', handler: 'leaky', maxRetries: 3 });
    engine.startTask('leaky');
    await expect(engine.waitForTask('leaky')).rejects.toMatchObject({
      code: 'ERR_RESULT_NOT_CLONEABLE',
      problem: 'result.close is a function',
      message:
        'Expected the result of task `leaky` to be structured-cloneable data, which the store can keep (a durable task), got one where result.close is a function',
      cause: expect.objectContaining({ message: expect.stringContaining('could not be cloned') }),
    });
    expect(engine.getTask('leaky').attempts).toBe(1);
    await engine.shutdown();
  });

  it('refuses completeTask with a result the store cannot keep, changing nothing', async () => {
    const { engine } = durableEngine(tempDbPath());
    engine.registerTask({ id: 'ext', name: 'external' });
    engine.startTask('ext');
    expect(() => engine.completeTask('ext', { fn: () => 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'result' }),
    );
    expect(engine.getTaskStatus('ext')).toBe(TaskStatus.RUNNING);
    engine.completeTask('ext', { ok: true });
    await expect(engine.waitForTask('ext')).resolves.toEqual({ ok: true });
    await engine.shutdown();
  });
});

describe('forgetting deletes rows', () => {
  it('deletes a cleaned-up task from the store: the next process does not see it', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('h', (_ctx: TaskContext, n: number) => n);
    first.engine.registerTasks([1, 2, 3].map((n) => ({ id: `t${n}`, name: `t${n}`, handler: 'h', args: [n] })));
    for (const n of [1, 2, 3]) first.engine.startTask(`t${n}`);
    await first.engine.onIdle();
    await first.engine.cleanupTask('t2');
    await first.engine.shutdown();

    const second = durableEngine(path);
    second.engine.defineTask('h', (_ctx: TaskContext, n: number) => n);
    expect(await second.engine.restore()).toMatchObject({ restored: 2, finished: 2 });
    expect(() => second.engine.getTask('t2')).toThrow(expect.objectContaining({ code: 'ERR_TASK_NOT_FOUND' }));
    await second.engine.shutdown();
  });

  it('deletes tasks that retention forgets', async () => {
    const path = tempDbPath();
    const first = durableEngine(path, { retention: { maxFinished: 2 } });
    first.engine.defineTask('h', () => 'x');
    for (let i = 0; i < 5; i++) {
      first.engine.registerTask({ id: `t${i}`, name: `t${i}`, handler: 'h' });
      first.engine.startTask(`t${i}`);
      await first.engine.waitForTask(`t${i}`);
    }
    await first.engine.shutdown();
    const second = durableEngine(path, { retention: { maxFinished: 2 } });
    second.engine.defineTask('h', () => 'x');
    expect(await second.engine.restore()).toMatchObject({ restored: 2 });
    expect(second.engine.getTaskResult('t4')).toBe('x');
    await second.engine.shutdown();
  });
});
