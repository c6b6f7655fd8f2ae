/**
 * `ctx.dependencies`: a fan-in reads what its dependencies produced, in declaration order, as they ended (results of
 * those that COMPLETED, errors of those that FAILED or were CANCELLED, the current status of one a `one_*` rule did
 * not wait for), also when retention or cleanupTask already forgot them.
 */
import { describe, expect, it } from 'vitest';
import { TaskEngine, TaskStatus, type DependencyOutcome, type TaskContext } from '../../src/index.js';

const summary = (outcomes: readonly DependencyOutcome[]) =>
  outcomes.map(({ id, name, status, result, error }) => ({
    id,
    name,
    status,
    result,
    code: (error as { code?: string } | undefined)?.code,
  }));

describe('ctx.dependencies', () => {
  it('gives a fan-in its dependencies in declaration order, with results and errors as they ended', async () => {
    const engine = new TaskEngine();
    let seen: readonly DependencyOutcome[] = [];
    engine.registerTasks([
      { id: 'seville', name: 'fetch:seville', fn: () => ({ temp: 31 }) },
      { id: 'oslo', name: 'fetch:oslo', fn: () => Promise.reject(new Error('503')) },
      { id: 'lima', name: 'fetch:lima' },
      {
        id: 'report',
        name: 'report',
        dependencies: ['lima', 'seville', 'oslo'],
        trigger: 'all_done',
        fn: (ctx: TaskContext) => {
          seen = ctx.dependencies;
          return ctx.dependencies.filter((d) => d.status === TaskStatus.COMPLETED).length;
        },
      },
    ]);
    engine.startTasks(['seville', 'oslo', 'report']);
    engine.cancelTask('lima', 'no route');
    await expect(engine.waitForTask('report')).resolves.toBe(1);
    expect(summary(seen)).toEqual([
      { id: 'lima', name: 'fetch:lima', status: 'CANCELLED', result: undefined, code: 'ERR_TASK_CANCELLED' },
      { id: 'seville', name: 'fetch:seville', status: 'COMPLETED', result: { temp: 31 }, code: undefined },
      { id: 'oslo', name: 'fetch:oslo', status: 'FAILED', result: undefined, code: undefined },
    ]);
    expect((seen[2]?.error as Error).message).toBe('503');
    expect(Object.isFrozen(seen)).toBe(true);
    expect(Object.isFrozen(seen[0])).toBe(true);
  });

  it('is empty for a task without dependencies, and shows a dependency a one_success rule did not wait for as it stands', async () => {
    const engine = new TaskEngine();
    const seen: Record<string, readonly DependencyOutcome[]> = {};
    const record = (ctx: TaskContext) => void (seen[ctx.id] = ctx.dependencies);
    engine.registerTasks([
      { id: 'fast', name: 'fast', fn: () => 'first' },
      { id: 'slow', name: 'slow' },
      { id: 'any', name: 'any', dependencies: ['fast', 'slow'], trigger: 'one_success', fn: record },
      { id: 'alone', name: 'alone', fn: record },
    ]);
    engine.startTasks(['fast', 'any', 'alone']);
    await engine.waitForTask('any');
    await engine.waitForTask('alone');
    expect(seen.alone).toEqual([]);
    expect(summary(seen.any ?? [])).toEqual([
      { id: 'fast', name: 'fast', status: 'COMPLETED', result: 'first', code: undefined },
      { id: 'slow', name: 'slow', status: 'PENDING', result: undefined, code: undefined },
    ]);
  });

  it('is complete when retention or cleanupTask forgot a dependency before the dependent ran', async () => {
    const engine = new TaskEngine({ retention: { maxFinished: 0 } });
    let seen: readonly DependencyOutcome[] = [];
    engine.registerTasks([
      { id: 'a', name: 'a', fn: () => 'result of a' },
      { id: 'b', name: 'b', fn: () => Promise.reject(new Error('b failed')) },
      { id: 'gate', name: 'gate' },
      {
        id: 'join',
        name: 'join',
        dependencies: ['a', 'b', 'gate'],
        trigger: 'all_done',
        fn: (ctx: TaskContext) => void (seen = ctx.dependencies),
      },
    ]);
    engine.startTasks(['a', 'b', 'join']);
    await new Promise((resolve) => setImmediate(resolve));
    // a and b ended and were forgotten at once (maxFinished 0): join still waits on gate.
    expect(() => engine.getTask('a')).toThrow(expect.objectContaining({ code: 'ERR_TASK_NOT_FOUND' }));
    engine.startTask('gate');
    engine.completeTask('gate', 'open');
    await engine.onIdle();
    expect(summary(seen)).toEqual([
      { id: 'a', name: 'a', status: 'COMPLETED', result: 'result of a', code: undefined },
      { id: 'b', name: 'b', status: 'FAILED', result: undefined, code: undefined },
      { id: 'gate', name: 'gate', status: 'COMPLETED', result: 'open', code: undefined },
    ]);
    expect((seen[1]?.error as Error).message).toBe('b failed');
  });
});
