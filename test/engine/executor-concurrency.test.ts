/**
 * An executor's own `concurrency`: the engine hands it at most that many attempts at once, counted from dispatch
 * until the attempt's promise settles, keeps further tasks of that executor queued (PENDING) meanwhile, and lets
 * tasks of other executors pass. Driven by an in-process executor the test settles by hand.
 */
import { describe, expect, it } from 'vitest';
import { TaskPriority, TaskStatus, type AttemptRequest, type Executor } from '../../src/index.js';
import { deferred, simulatedEngine } from '../helpers.js';

/** An executor of limited concurrency whose attempts settle when the test says, ignoring their abort. */
class ManualExecutor implements Executor {
  readonly requests: AttemptRequest[] = [];
  readonly #outcomes = new Map<string, ReturnType<typeof deferred>>();
  constructor(readonly concurrency: number) {}
  execute(request: AttemptRequest): Promise<unknown> {
    const outcome = deferred();
    this.requests.push(request);
    this.#outcomes.set(`${request.taskId}#${request.attempt}`, outcome);
    return outcome.promise;
  }
  get taskIds(): string[] {
    return this.requests.map((r) => r.taskId);
  }
  resolve(taskId: string, value: unknown, attempt = 1): void {
    const outcome = this.#outcomes.get(`${taskId}#${attempt}`);
    if (outcome === undefined) throw new Error(`attempt ${attempt} of ${taskId} never reached the executor`);
    outcome.resolve(value);
  }
}

function setup(limit: number, concurrency = 8) {
  const manual = new ManualExecutor(limit);
  const sim = simulatedEngine({ concurrency, executors: { manual } });
  const register = (id: string, extra: Record<string, unknown> = {}) => {
    sim.engine.registerTask({ id, name: id, executor: 'manual', handler: 'work', ...extra });
    sim.engine.startTask(id);
  };
  return { ...sim, manual, register };
}

describe('an executor with its own concurrency', () => {
  it('holds back tasks beyond its concurrency although engine slots are free, and dispatches one per settled attempt', async () => {
    const { engine, manual, register, advance } = setup(2);
    for (const id of ['a', 'b', 'c', 'd']) register(id);
    expect(manual.taskIds).toEqual(['a', 'b']);
    expect(engine.getStats()).toMatchObject({ running: 2, queued: 2 });
    expect(engine.getTaskStatus('c')).toBe(TaskStatus.PENDING);
    manual.resolve('b', 'B');
    await expect(engine.waitForTask('b')).resolves.toBe('B');
    expect(manual.taskIds).toEqual(['a', 'b', 'c']);
    expect(engine.getTaskStatus('d')).toBe(TaskStatus.PENDING);
    manual.resolve('a', 'A');
    manual.resolve('c', 'C');
    await advance(0);
    expect(manual.taskIds).toEqual(['a', 'b', 'c', 'd']);
    manual.resolve('d', 'D');
    await engine.onIdle();
    expect(engine.getStats().counts.COMPLETED).toBe(4);
    await engine.shutdown();
  });

  it('counts an attempt until its promise settles: a timed-out attempt still holds its executor slot', async () => {
    const { engine, manual, register, advance } = setup(1);
    register('slow', { timeout: 100 });
    register('next');
    await advance(100);
    expect(engine.getTaskStatus('slow')).toBe(TaskStatus.FAILED);
    expect(engine.getStats()).toMatchObject({ running: 0, queued: 1 });
    expect(manual.taskIds).toEqual(['slow']); // the executor still works on the abandoned attempt
    manual.resolve('slow', 'too late');
    await advance(0);
    expect(manual.taskIds).toEqual(['slow', 'next']);
    expect(engine.getTaskStatus('next')).toBe(TaskStatus.RUNNING);
    expect(engine.getTaskError('slow')).toMatchObject({ code: 'ERR_TASK_TIMEOUT' });
    await engine.shutdown();
  });

  it('lets tasks of other executors pass while it is full, lower priority included', async () => {
    const { engine, manual, register, advance } = setup(1);
    register('first');
    register('waits', { priority: TaskPriority.CRITICAL });
    const other = engine.registerTask({ name: 'async-low', priority: TaskPriority.LOW, fn: () => 'ran' });
    engine.startTask(other);
    await expect(engine.waitForTask(other)).resolves.toBe('ran');
    expect(engine.getTaskStatus('waits')).toBe(TaskStatus.PENDING);
    manual.resolve('first', 1);
    await advance(0);
    expect(manual.taskIds).toEqual(['first', 'waits']);
    await engine.shutdown();
  });
});
