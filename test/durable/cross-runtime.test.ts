/**
 * A store written under one runtime restores under the other: the store keeps each task's machine state and
 * counts (not a runtime's snapshot), and RESTORE brings it back through the same statechart in either runtime.
 * Each test crashes a process under one runtime with tasks in every kind of state, and finishes under the other.
 */
import { describe, expect, it } from 'vitest';
import { TaskStatus, type TaskContext } from '../../src/index.js';
import { deferred, flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

const RUNTIMES = [
  ['xstate', 'compiled'],
  ['compiled', 'xstate'],
] as const;

describe.each(RUNTIMES)('a store written under %s restores under %s', (first, second) => {
  it('brings back finished, pending, waiting, in-backoff and interrupted tasks, and finishes them', async () => {
    const path = tempDbPath();
    const before = durableEngine(path, { runtime: first, concurrency: 2 });
    expect(before.engine.runtime).toBe(first);
    const hang = deferred<string>();
    let flakyCalls = 0;
    before.engine.defineTask('double', (_ctx: TaskContext, n: number) => n * 2);
    before.engine.defineTask('flaky', () => {
      flakyCalls++;
      throw new Error(`flaky ${flakyCalls}`);
    });
    before.engine.defineTask('hang', () => hang.promise);
    before.engine.registerTasks([
      { id: 'done', name: 'done', handler: 'double', args: [1] },
      { id: 'never', name: 'never started', handler: 'double', args: [2] },
      { id: 'flaky', name: 'flaky', handler: 'flaky', maxRetries: 2, retryDelay: 1_000 },
      { id: 'hang', name: 'hang', handler: 'hang', maxRetries: 1, retryDelay: 500 },
      { id: 'waits', name: 'waits on hang', handler: 'double', args: [3], dependencies: ['hang'] },
    ]);
    before.engine.startTask('done');
    await before.engine.waitForTask('done');
    for (const id of ['flaky', 'hang', 'waits']) before.engine.startTask(id);
    await flush();
    expect(before.engine.getTask('flaky')).toMatchObject({ state: 'retrying', attempts: 1 });
    expect(before.engine.getTask('hang')).toMatchObject({ state: 'running', attempts: 1 });
    expect(before.engine.getTaskStatus('waits')).toBe(TaskStatus.WAITING);
    before.advance(400); // 600 ms of the flaky task's backoff left
    await flush();
    before.crash();

    const after = durableEngine(path, { runtime: second }, 1_000_400);
    expect(after.engine.runtime).toBe(second);
    after.engine.defineTask('double', (_ctx: TaskContext, n: number) => n * 2);
    after.engine.defineTask('flaky', (ctx: TaskContext) => `flaky passed on attempt ${ctx.attempt}`);
    after.engine.defineTask('hang', (ctx: TaskContext) => `hang ran again as attempt ${ctx.attempt}`);
    const report = await after.engine.restore();
    expect(report).toMatchObject({ restored: 5, finished: 1, pending: 1, resumed: 2, retrying: 1, interrupted: 1 });
    expect(after.engine.getTaskResult('done')).toBe(2);
    expect(after.engine.getTask('never')).toMatchObject({ status: TaskStatus.PENDING, state: 'pending', attempts: 0 });
    // The interrupted attempt counts as failed; its retry waits out the backoff in this process.
    expect(after.engine.getTask('hang')).toMatchObject({ state: 'retrying', attempts: 1 });
    expect(after.engine.getTask('flaky')).toMatchObject({ state: 'retrying', attempts: 1 });
    after.advance(599);
    await flush();
    expect(after.engine.getTask('flaky').state).toBe('retrying');
    after.advance(1);
    await flush();
    expect(after.engine.getTaskResult('flaky')).toBe('flaky passed on attempt 2');
    after.advance(10_000);
    await after.engine.onIdle();
    expect(after.engine.getTaskResult('hang')).toBe('hang ran again as attempt 2');
    expect(after.engine.getTaskResult('waits')).toBe(6);
    after.engine.startTask('never');
    await expect(after.engine.waitForTask('never')).resolves.toBe(4);
    await after.engine.shutdown();
  });

  it('suspends under one runtime and resumes the same attempts under the other', async () => {
    const path = tempDbPath();
    const before = durableEngine(path, { runtime: first, concurrency: 1 });
    const gate = deferred<number>();
    before.engine.defineTask('slow', () => gate.promise);
    before.engine.registerTasks([
      { id: 'a', name: 'a', handler: 'slow' },
      { id: 'b', name: 'b', handler: 'slow', dependencies: ['a'] },
    ]);
    before.engine.startTask('a');
    before.engine.startTask('b');
    await flush();
    expect(before.engine.getTaskStatus('a')).toBe(TaskStatus.RUNNING);
    await before.engine.shutdown({ mode: 'suspend' });

    const after = durableEngine(path, { runtime: second });
    after.engine.defineTask('slow', (ctx: TaskContext) => ctx.attempt * 10);
    const report = await after.engine.restore();
    expect(report).toMatchObject({ restored: 2, resumed: 2, interrupted: 0 });
    await expect(after.engine.waitForTask('b')).resolves.toBe(10); // the suspended attempt was not counted
    expect(after.engine.getTask('a')).toMatchObject({ status: TaskStatus.COMPLETED, attempts: 1 });
    await after.engine.shutdown();
  });
});
