import { deserialize, serialize } from 'node:v8';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DependencyFailedError, TaskCancelledError, TaskStatus, type TaskContext } from '../../src/index.js';
import { deferred, flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

describe('restore(): every task comes back as it stood', () => {
  it('brings back finished tasks with their results and errors, codes and causes included', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('ok', () => ({ when: new Date(5), counts: new Map([['a', 1]]), big: 12n }));
    first.engine.defineTask('boom', () => {
      throw Object.assign(new Error('disk on fire', { cause: new Error('smoke') }), { code: 'EFIRE', errno: 7 });
    });
    first.engine.registerTasks([
      { id: 'ok', name: 'ok', handler: 'ok' },
      { id: 'boom', name: 'boom', handler: 'boom' },
      { id: 'after-boom', name: 'after boom', handler: 'ok', dependencies: ['boom'] },
      { id: 'cancelled', name: 'cancelled', handler: 'ok' },
    ]);
    for (const id of ['ok', 'boom', 'after-boom']) first.engine.startTask(id);
    first.engine.cancelTask('cancelled', 'not needed');
    await first.engine.onIdle();
    await first.engine.shutdown();

    const second = durableEngine(path);
    second.engine.defineTask('ok', () => 'unused');
    second.engine.defineTask('boom', () => 'unused');
    const report = await second.engine.restore();
    expect(report).toEqual({
      restored: 4,
      finished: 4,
      pending: 0,
      resumed: 0,
      retrying: 0,
      interrupted: 0,
      rerunFree: 0,
      reattached: 0,
      unrunnable: 0,
    });
    expect(second.engine.getTaskResult('ok')).toEqual({ when: new Date(5), counts: new Map([['a', 1]]), big: 12n });
    await expect(second.engine.waitForTask('ok')).resolves.toEqual(expect.objectContaining({ big: 12n }));
    const boom = second.engine.getTaskError('boom') as Error & { code?: string; errno?: number };
    expect([boom.message, boom.code, boom.errno, (boom.cause as Error).message]).toEqual(['disk on fire', 'EFIRE', 7, 'smoke']);
    const dependent = second.engine.getTaskError('after-boom') as Error & { code?: string };
    expect(dependent.code).toBe('ERR_DEPENDENCY_FAILED');
    expect(dependent).toBeInstanceOf(DependencyFailedError);
    expect(dependent).toMatchObject({ name: 'DependencyFailedError', taskId: 'after-boom', dependencyId: 'boom' });
    expect(second.engine.getTaskError('cancelled')).toBeInstanceOf(TaskCancelledError);
    expect((dependent.cause as Error).message).toBe('disk on fire');
    expect(second.engine.getTaskStatus('cancelled')).toBe(TaskStatus.CANCELLED);
    expect((second.engine.getTaskError('cancelled') as { code: string }).code).toBe('ERR_TASK_CANCELLED');
    expect(second.engine.getTask('ok')).toMatchObject({ attempts: 1, startedAt: 1_000_000, finishedAt: 1_000_000 });
    // Views learn of restored tasks from the usual events.
    expect(second.events.filter((e) => e.type === 'registered').map((e) => e.taskId)).toEqual(['ok', 'boom', 'after-boom', 'cancelled']);
    expect(second.events.filter((e) => e.type === 'status').map((e) => e.type === 'status' && e.status)).toEqual([
      'COMPLETED',
      'FAILED',
      'FAILED',
      'CANCELLED',
    ]);
    await second.engine.shutdown();
  });

  it('leaves a task that was never started PENDING and never started; it runs when started', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('double', (_ctx: TaskContext, n: number) => n * 2);
    first.engine.registerTask({ id: 'later', name: 'later', handler: 'double', args: [21] });
    await flush(); // the registration is committed at the end of the tick
    first.crash();

    const second = durableEngine(path);
    second.engine.defineTask('double', (_ctx: TaskContext, n: number) => n * 2);
    expect(await second.engine.restore()).toMatchObject({ restored: 1, pending: 1 });
    await second.engine.onIdle();
    expect(second.engine.getTask('later')).toMatchObject({ status: 'PENDING', state: 'pending', attempts: 0 });
    second.engine.startTask('later');
    await expect(second.engine.waitForTask('later')).resolves.toBe(42);
    await second.engine.shutdown();
  });

  it('answers every verb and dependency outcome for never-started tasks after a restore', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('fail', () => {
      throw new Error('no');
    });
    first.engine.registerTasks([
      { id: 'to-cancel', name: 'to cancel' },
      { id: 'dep', name: 'dep', handler: 'fail' },
      { id: 'after-dep', name: 'after dep', dependencies: ['dep'] },
      { id: 'ext', name: 'external' },
    ]);
    await flush();
    first.crash();

    const second = durableEngine(path);
    second.engine.defineTask('fail', () => {
      throw new Error('no');
    });
    expect(await second.engine.restore()).toMatchObject({ pending: 4 });
    expect(() => second.engine.completeTask('ext', 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRANSITION' }));
    second.engine.cancelTask('to-cancel');
    expect(second.engine.getTaskStatus('to-cancel')).toBe(TaskStatus.CANCELLED);
    second.engine.startTask('dep');
    await expect(second.engine.waitForTask('dep')).rejects.toThrow('no');
    expect((second.engine.getTaskError('after-dep') as { code: string }).code).toBe('ERR_DEPENDENCY_FAILED');
    second.engine.startTask('ext');
    second.engine.completeTask('ext', 'done');
    await expect(second.engine.waitForTask('ext')).resolves.toBe('done');
    await second.engine.shutdown();
  });

  it('puts WAITING and queued tasks back: they run in dependency order with the results of finished ones', async () => {
    const path = tempDbPath();
    const first = durableEngine(path, { concurrency: 1 });
    const blocker = deferred();
    first.engine.defineTask('hold', () => blocker.promise);
    first.engine.defineTask('sum', (ctx: TaskContext, ...ids: string[]) => ids.length);
    first.engine.registerTasks([
      { id: 'a', name: 'a', handler: 'sum' },
      { id: 'b', name: 'b', handler: 'hold' },
      { id: 'c', name: 'c', handler: 'sum', dependencies: ['a', 'b'] },
      { id: 'd', name: 'd', handler: 'sum', args: ['x'] },
    ]);
    for (const id of ['a', 'c']) first.engine.startTask(id);
    await first.engine.waitForTask('a');
    first.engine.startTask('b');
    first.engine.startTask('d'); // queued behind b (concurrency 1)
    expect(first.engine.getTask('d').state).toBe('queued');
    first.engine.updateTaskProgress('b', 0.5, 'half');
    await flush(); // progress is written within the tick
    first.crash();

    const second = durableEngine(path, { concurrency: 1 });
    const order: string[] = [];
    second.engine.defineTask('hold', (ctx: TaskContext) => {
      order.push(`${ctx.id}#${ctx.attempt}`);
      return 'held';
    });
    second.engine.defineTask('sum', (ctx: TaskContext, ...ids: string[]) => {
      order.push(`${ctx.id}#${ctx.attempt}`);
      return ids.length;
    });
    const report = await second.engine.restore();
    expect(report).toMatchObject({ restored: 4, finished: 1, resumed: 2, interrupted: 1, rerunFree: 1 });
    // b was RUNNING: that attempt was interrupted, and b runs again free of maxRetries (0), after d, queued before.
    expect(second.engine.getTask('b')).toMatchObject({ state: 'retrying', attempts: 1, progress: 0.5, message: 'half' });
    second.advance(0);
    await second.engine.onIdle();
    expect(second.engine.getTask('b')).toMatchObject({ status: 'COMPLETED', attempts: 2, interruptions: 1, result: 'held' });
    expect(order).toEqual(['d#1', 'b#2', 'c#1']);
    expect(second.engine.getTaskResult('c')).toBe(0);
    expect(second.engine.getTaskResult('d')).toBe(1);
    await second.engine.shutdown();
  });

  it('re-runs an interrupted task at once, free of maxRetries (maxInterruptions defaults to 1): a crash is not its fault', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('slow', () => new Promise(() => {}));
    first.engine.registerTask({ id: 't', name: 't', handler: 'slow', maxRetries: 0, retryDelay: 100 });
    first.engine.startTask('t');
    await flush();
    first.crash();

    const second = durableEngine(path);
    const attempts: number[] = [];
    second.engine.defineTask('slow', (ctx: TaskContext) => {
      attempts.push(ctx.attempt);
      return 'done';
    });
    expect(await second.engine.restore()).toMatchObject({ interrupted: 1, rerunFree: 1 });
    const retry = second.events.find((e) => e.type === 'retry');
    // A new attempt, announced by a retry event with the interruption, without the backoff.
    expect(retry).toMatchObject({ taskId: 't', attempt: 2, delay: 0, error: expect.objectContaining({ code: 'ERR_INTERRUPTED' }) });
    expect((retry as { error: Error }).error.message).toContain('not counted against maxRetries (interruption 1 of maxInterruptions 1)');
    second.advance(0);
    await expect(second.engine.waitForTask('t')).resolves.toBe('done');
    expect(attempts).toEqual([2]); // ctx.attempt counts every attempt
    expect(second.engine.getTask('t')).toMatchObject({ status: 'COMPLETED', attempts: 2, interruptions: 1, crashes: 0 });
    await second.engine.shutdown();
  });

  it("gives a task stored before specs had free re-runs (before schema 3) the restoring engine's maxInterruptions", async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('slow', () => new Promise(() => {}));
    first.engine.registerTask({ id: 't', name: 't', handler: 'slow', maxRetries: 1, retryDelay: 100 });
    first.engine.startTask('t');
    await flush();
    first.crash();
    // The spec as a taskchart before issue 16 wrote it: the tuple without its last five fields (heartbeatTimeout,
    // cache, deadline, maxInterruptions, maxCrashes).
    const file = new Database(path);
    const stored = deserialize(file.prepare('SELECT spec FROM tasks WHERE id = ?').pluck().get('t') as Buffer) as unknown[];
    file.prepare('UPDATE tasks SET spec = ? WHERE id = ?').run(serialize(stored.slice(0, -5)), 't');
    file.close();

    const second = durableEngine(path, { maxInterruptions: 0 });
    second.engine.defineTask('slow', () => 'done');
    // Not re-run free (the engine says 0): the interrupted attempt counts, and the retry it has left runs.
    expect(await second.engine.restore()).toMatchObject({ interrupted: 1, rerunFree: 0 });
    await second.advance(100);
    await expect(second.engine.waitForTask('t')).resolves.toBe('done');
    expect(second.engine.getTask('t')).toMatchObject({ attempts: 2, interruptions: 0 });
    await second.engine.shutdown();
  });

  it('with maxInterruptions: 0, retries an interrupted task that has attempts left, counting the interrupted attempt', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('slow', () => new Promise(() => {}));
    first.engine.registerTask({ id: 't', name: 't', handler: 'slow', maxRetries: 2, retryDelay: 100, maxInterruptions: 0 });
    first.engine.startTask('t');
    await flush();
    expect(first.engine.getTask('t')).toMatchObject({ status: 'RUNNING', attempts: 1 });
    first.crash();

    const second = durableEngine(path);
    const attempts: number[] = [];
    second.engine.defineTask('slow', (ctx: TaskContext) => {
      attempts.push(ctx.attempt);
      return 'done';
    });
    expect(await second.engine.restore()).toMatchObject({ interrupted: 1, rerunFree: 0 });
    const retry = second.events.find((e) => e.type === 'retry');
    expect(retry).toMatchObject({ taskId: 't', attempt: 2, delay: 100, error: expect.objectContaining({ code: 'ERR_INTERRUPTED' }) });
    expect(second.engine.getTask('t')).toMatchObject({ status: 'PENDING', state: 'retrying', attempts: 1 });
    second.advance(100);
    await expect(second.engine.waitForTask('t')).resolves.toBe('done');
    expect(attempts).toEqual([2]);
    await second.engine.shutdown();
  });

  it('stops a task that kills its process every time once its free re-run and its attempts are used up', async () => {
    const path = tempDbPath();
    let runs = 0;
    let harness = durableEngine(path);
    harness.engine.defineTask('fatal', () => new Promise(() => runs++));
    harness.engine.registerTask({ id: 'fatal', name: 'fatal', handler: 'fatal', maxRetries: 2, retryDelay: 0 });
    harness.engine.startTask('fatal');
    await flush();
    for (let process = 2; process <= 10; process++) {
      harness.crash(); // the attempt "kills the process"
      harness = durableEngine(path);
      harness.engine.defineTask('fatal', () => new Promise(() => runs++));
      await harness.engine.restore();
      harness.advance(0);
      await flush();
      if (harness.engine.getTaskStatus('fatal') === TaskStatus.FAILED) break;
    }
    // One free re-run (maxInterruptions 1), then the first attempt and two retries counted against maxRetries 2.
    expect(harness.engine.getTask('fatal')).toMatchObject({ status: 'FAILED', attempts: 4, interruptions: 1 });
    expect((harness.engine.getTaskError('fatal') as { code: string }).code).toBe('ERR_INTERRUPTED');
    expect(runs).toBe(4);
    await harness.engine.shutdown();
  });

  it('waits out only the rest of a backoff that was under way', async () => {
    const path = tempDbPath();
    const first = durableEngine(path, {}, 50_000);
    first.engine.defineTask('flaky', (ctx: TaskContext) => {
      if (ctx.attempt === 1) throw new Error('first try fails');
      return `attempt ${ctx.attempt}`;
    });
    first.engine.registerTask({ id: 'f', name: 'f', handler: 'flaky', maxRetries: 1, retryDelay: 10_000 });
    first.engine.startTask('f');
    await flush();
    expect(first.engine.getTask('f').state).toBe('retrying');
    first.advance(4_000);
    first.crash();

    const second = durableEngine(path, {}, 50_000 + 4_000 + 1_000); // restarted 1 s later: 5 s of backoff left
    second.engine.defineTask('flaky', (ctx: TaskContext) => `attempt ${ctx.attempt}`);
    expect(await second.engine.restore()).toMatchObject({ resumed: 1, retrying: 1 });
    second.advance(4_999);
    await flush();
    expect(second.engine.getTask('f')).toMatchObject({ state: 'retrying', attempts: 1 });
    second.advance(1);
    await expect(second.engine.waitForTask('f')).resolves.toBe('attempt 2');
    await second.engine.shutdown();
  });

  it('fails a task whose handler this process does not define, saying so', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('gone', () => new Promise(() => {}));
    first.engine.registerTask({ id: 'g', name: 'g', handler: 'gone' });
    first.engine.registerTask({ id: 'h', name: 'h', handler: 'gone', dependencies: ['g'] });
    first.engine.startTask('g');
    first.engine.startTask('h');
    await flush();
    first.crash();

    const second = durableEngine(path);
    const report = await second.engine.restore();
    expect(report).toMatchObject({ restored: 2, unrunnable: 2 });
    const error = second.engine.getTaskError('g') as { code: string; message: string };
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(/handler `gone`.*not defined with engine\.defineTask\(\)/);
    await second.engine.shutdown();
  });

  it("with { unrunnable: 'refuse' }, restores nothing and changes nothing when this process cannot run a stored task", async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('gone', () => new Promise(() => {}));
    first.engine.registerTask({ id: 'g', name: 'g', handler: 'gone' });
    first.engine.startTask('g');
    await flush();
    first.crash();

    const second = durableEngine(path);
    await expect(second.engine.restore({ unrunnable: 'refuse' })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringContaining('Task `g` names handler `gone`'),
    });
    expect(() => second.engine.getTask('g')).toThrow(expect.objectContaining({ code: 'ERR_TASK_NOT_FOUND' }));
    second.engine.defineTask('gone', () => 'back');
    expect(await second.engine.restore({ unrunnable: 'refuse' })).toMatchObject({ restored: 1, interrupted: 1, unrunnable: 0 });
    await expect(second.engine.restore()).rejects.toMatchObject({ code: 'ERR_INVALID_TRANSITION' });
    await second.engine.shutdown();
  });

  it('refuses to register before restore() when the store holds tasks, and refuses a second restore()', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.registerTask({ id: 'x', name: 'x' });
    await first.engine.shutdown({ mode: 'suspend' });

    const second = durableEngine(path);
    expect(() => second.engine.registerTask({ id: 'y', name: 'y' })).toThrow(
      expect.objectContaining({ code: 'ERR_STORE', message: expect.stringMatching(/holds 1 task.*restore\(\)/) }),
    );
    await second.engine.restore();
    await expect(second.engine.restore()).rejects.toMatchObject({ code: 'ERR_INVALID_TRANSITION' });
    expect(() => second.engine.registerTask({ id: 'x', name: 'again' })).toThrow(expect.objectContaining({ code: 'ERR_DUPLICATE_TASK' }));
    second.engine.registerTask({ id: 'y', name: 'y', dependencies: ['x'] });
    await second.engine.shutdown();
  });

  it('loses only the last tick when the process dies before its commit: nothing of it had run or been reported', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    let ran = 0;
    first.engine.defineTask('count', () => ++ran);
    first.engine.registerTask({ id: 'kept', name: 'kept', handler: 'count' });
    first.engine.startTask('kept');
    await first.engine.waitForTask('kept');
    first.engine.registerTask({ id: 'same-tick', name: 'same tick', handler: 'count' });
    first.engine.startTask('same-tick');
    first.crash(); // before the tick's commit
    expect(ran).toBe(1);

    const second = durableEngine(path);
    second.engine.defineTask('count', () => 'again');
    expect(await second.engine.restore()).toMatchObject({ restored: 1, finished: 1 });
    expect(second.engine.getTaskResult('kept')).toBe(1);
    await second.engine.shutdown();
  });

  it('needs no restore() on a new, empty store', async () => {
    const { engine } = durableEngine(tempDbPath());
    engine.defineTask('one', () => 1);
    engine.registerTask({ id: 'one', name: 'one', handler: 'one' });
    engine.startTask('one');
    await expect(engine.waitForTask('one')).resolves.toBe(1);
    await engine.shutdown();
  });
});
