import { describe, expect, it } from 'vitest';
import { TaskEngine, TaskStatus, type TaskEvent } from '../../src/index.js';
import { deferred, flush, recordEvents, simulatedEngine, statusPath } from '../helpers.js';

describe('task lifecycle through the verbs', () => {
  it('runs a task to COMPLETED and reports result, attempts and timestamps', async () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({ name: 'double', fn: async (_ctx, x: number) => x * 2, args: [21] });
    expect(engine.getTaskStatus(id)).toBe(TaskStatus.PENDING);
    engine.startTask(id);
    expect(engine.getTaskStatus(id)).toBe(TaskStatus.RUNNING);
    await expect(engine.waitForTask(id)).resolves.toBe(42);
    const info = engine.getTask(id);
    expect(info).toMatchObject({ id, name: 'double', status: 'COMPLETED', attempts: 1, result: 42, error: undefined });
    expect(info.startedAt).toBeGreaterThanOrEqual(info.createdAt);
    expect(info.finishedAt).toBeGreaterThanOrEqual(info.startedAt as number);
    expect(engine.getTaskResult(id)).toBe(42);
    expect(engine.getTaskError(id)).toBeUndefined();
  });

  it('generates unique ids when none is given and refuses a duplicate id', () => {
    const engine = new TaskEngine();
    const a = engine.registerTask({ name: 'a' });
    const b = engine.registerTask({ name: 'b' });
    expect(a).not.toBe(b);
    engine.registerTask({ id: 'x', name: 'x' });
    expect(() => engine.registerTask({ id: 'x', name: 'again' })).toThrow(expect.objectContaining({ code: 'ERR_DUPLICATE_TASK' }));
  });

  it('lets the caller drive an external task: RUNNING once it has a slot, then completeTask', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const events = recordEvents(engine);
    const id = engine.registerTask({ name: 'external' });
    engine.startTask(id);
    expect(engine.getTaskStatus(id)).toBe('RUNNING');
    engine.updateTaskProgress(id, 0.25, 'a quarter');
    expect(engine.getTask(id)).toMatchObject({ progress: 0.25, message: 'a quarter' });
    engine.completeTask(id, { rows: 3 });
    expect(engine.getTaskStatus(id)).toBe('COMPLETED');
    await expect(engine.waitForTask(id)).resolves.toEqual({ rows: 3 });
    expect(events.filter((e) => e.type === 'progress')).toMatchObject([{ progress: 0.25, message: 'a quarter' }]);
  });

  it('fails a running task with failTask, without retries', async () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({ name: 'external', maxRetries: 3 });
    engine.startTask(id);
    engine.failTask(id, new Error('operator says no'));
    expect(engine.getTaskStatus(id)).toBe('FAILED');
    expect(engine.getTask(id).attempts).toBe(1);
    await expect(engine.waitForTask(id)).rejects.toThrow('operator says no');
  });

  it('throws ERR_INVALID_TRANSITION naming verb and state, and changes nothing', () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({ name: 'not started' });
    const before = engine.getTask(id);
    expect(() => engine.completeTask(id, 1)).toThrow(/completeTask.*PENDING.*RUNNING/);
    expect(() => engine.failTask(id, new Error('x'))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRANSITION' }));
    expect(() => engine.updateTaskProgress(id, 0.5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRANSITION' }));
    expect(engine.getTask(id)).toEqual(before);
    engine.startTask(id);
    expect(() => engine.startTask(id)).toThrow(/startTask.*RUNNING/);
    engine.cancelTask(id);
    expect(() => engine.cancelTask(id)).toThrow(/cancelTask.*CANCELLED/);
    expect(() => engine.registerResource(id, () => {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRANSITION' }));
  });

  it('refuses unknown ids with ERR_TASK_NOT_FOUND from every verb: thrown, or rejected by those returning a promise', async () => {
    const engine = new TaskEngine();
    const verbs: Array<() => unknown> = [
      () => engine.startTask('nope'),
      () => engine.getTaskStatus('nope'),
      () => engine.getTask('nope'),
      () => engine.cancelTask('nope'),
      () => engine.completeTask('nope'),
    ];
    for (const verb of verbs) expect(verb).toThrow(expect.objectContaining({ code: 'ERR_TASK_NOT_FOUND' }));
    await expect(engine.waitForTask('nope')).rejects.toMatchObject({ code: 'ERR_TASK_NOT_FOUND' });
    await expect(engine.cleanupTask('nope')).rejects.toMatchObject({ code: 'ERR_TASK_NOT_FOUND' });
  });

  it('emits registered, then status events in order, COMPLETED before waitForTask resolves', async () => {
    const engine = new TaskEngine();
    const events: TaskEvent[] = [];
    engine.events.subscribe((event) => events.push(event));
    const id = engine.registerTask({ name: 'ordered', fn: async () => 'done' });
    engine.startTask(id);
    await engine.waitForTask(id);
    const seenAtResolve = events.length;
    expect(events[0]).toMatchObject({ type: 'registered', taskId: id, name: 'ordered' });
    expect(statusPath(events, id)).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    expect(events.slice(0, seenAtResolve).some((e) => e.type === 'status' && e.status === 'COMPLETED')).toBe(true);
    for (const event of events) expect(typeof event.timestamp).toBe('number');
  });

  it('emits FAILED and CANCELLED status events before waitForTask rejects, for a failed dependent too', async () => {
    const engine = new TaskEngine();
    const events = recordEvents(engine);
    const gate = deferred();
    engine.registerTasks([
      { id: 'fails', name: 'fails', fn: () => gate.promise },
      { id: 'dependent', name: 'dependent', dependencies: ['fails'], fn: () => 'never' },
      { id: 'cancelled', name: 'cancelled', fn: () => new Promise(() => {}) },
    ]);
    for (const id of ['dependent', 'fails', 'cancelled']) engine.startTask(id);
    const seenAtRejection: Record<string, unknown> = {};
    const watch = (id: string, status: string) =>
      engine.waitForTask(id).then(
        () => (seenAtRejection[id] = 'resolved'),
        (error: { code?: string }) => {
          const seen = events.some((e) => e.type === 'status' && e.taskId === id && e.status === status);
          seenAtRejection[id] = [seen, error.code];
        },
      );
    const settled = Promise.all([watch('fails', 'FAILED'), watch('dependent', 'FAILED'), watch('cancelled', 'CANCELLED')]);
    engine.cancelTask('cancelled', 'not needed');
    gate.reject(Object.assign(new Error('boom'), { code: 'E_BOOM' }));
    await settled;
    expect(seenAtRejection).toEqual({
      fails: [true, 'E_BOOM'],
      dependent: [true, 'ERR_DEPENDENCY_FAILED'],
      cancelled: [true, 'ERR_TASK_CANCELLED'],
    });
  });

  it('enters exactly one terminal status even when a cancelled attempt later resolves', async () => {
    const engine = new TaskEngine();
    const events = recordEvents(engine);
    const gate = deferred<string>();
    const id = engine.registerTask({ name: 'stubborn', fn: () => gate.promise });
    engine.startTask(id);
    engine.cancelTask(id, 'changed my mind');
    gate.resolve('too late');
    await flush();
    expect(engine.getTaskStatus(id)).toBe('CANCELLED');
    expect(engine.getTaskResult(id)).toBeUndefined();
    expect(engine.getTaskError(id)).toMatchObject({ code: 'ERR_TASK_CANCELLED', message: expect.stringContaining('changed my mind') });
    const terminal = events.filter((e) => e.type === 'status' && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.status));
    expect(terminal).toHaveLength(1);
  });

  it('is not changed through what getTask returns or through the args array given at registration', async () => {
    const engine = new TaskEngine();
    const gate = deferred();
    engine.registerTask({ id: 'a', name: 'a', fn: () => gate.promise });
    const args: [number, number] = [1, 2];
    engine.registerTask({ id: 'b', name: 'b', dependencies: ['a'], fn: (_ctx, x: number, y: number) => x + y, args });
    expect(() => (engine.getTask('b').dependencies as string[]).splice(0)).toThrow(TypeError);
    args[0] = 100;
    engine.startTask('b');
    engine.startTask('a');
    expect(engine.getTaskStatus('b')).toBe('WAITING');
    gate.resolve(undefined);
    await expect(engine.waitForTask('b')).resolves.toBe(3);
  });

  it('reports the machine state, finer than the status, in getTask', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 1 });
    const gate = deferred();
    engine.registerTask({ id: 'busy', name: 'busy', fn: () => gate.promise });
    engine.registerTask({
      id: 'flaky',
      name: 'flaky',
      maxRetries: 1,
      retryDelay: 100,
      fn: (ctx) => (ctx.attempt === 1 ? Promise.reject(new Error('once')) : 'ok'),
    });
    engine.startTask('flaky');
    engine.startTask('busy');
    await flush();
    expect(engine.getTask('flaky')).toMatchObject({ status: 'PENDING', state: 'retrying' });
    expect(engine.getTask('busy')).toMatchObject({ status: 'RUNNING', state: 'running' });
    await advance(100);
    expect(engine.getTask('flaky')).toMatchObject({ status: 'PENDING', state: 'queued' });
    gate.resolve('done');
    await engine.waitForTask('flaky');
    expect(engine.getTask('flaky')).toMatchObject({ status: 'COMPLETED', state: 'completed' });
  });

  it('reports how a task was asked to run in getTask().settings, also once it has finished', async () => {
    const engine = new TaskEngine({ resources: { db: 2 } });
    engine.defineTask('load', () => 'loaded');
    const id = engine.registerTask({
      name: 'load',
      handler: 'load',
      maxRetries: 2,
      retryDelay: 50,
      timeout: 1000,
      resources: { db: 1 },
      trigger: 'all_done',
    });
    const expected = {
      executor: 'async',
      kind: 'handler',
      handler: 'load',
      module: undefined,
      maxRetries: 2,
      retryDelay: 50,
      timeout: 1000,
      trigger: 'all_done',
      resources: { db: 1 },
      durable: false,
    };
    expect(engine.getTask(id).settings).toEqual(expected);
    engine.startTask(id);
    await engine.waitForTask(id);
    expect(engine.getTask(id).settings).toEqual(expected);
    expect(engine.getTask(engine.registerTask({ name: 'external' })).settings).toMatchObject({
      kind: 'external',
      timeout: undefined,
      resources: {},
    });
  });

  it('runs a named handler given with defineTask', async () => {
    const engine = new TaskEngine();
    engine.defineTask('greet', async (ctx, who: string) => `hello ${who} from ${ctx.name}`);
    const id = engine.registerTask({ name: 'greeter', handler: 'greet', args: ['ada'] });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toBe('hello ada from greeter');
    expect(() => engine.registerTask({ name: 'x', handler: 'missing' })).toThrow(/`handler`.*defineTask.*`missing`/);
    expect(() => engine.defineTask('greet', async () => 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('wraps a thrown non-Error into an Error that keeps the value as cause', async () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({
      name: 'throws a string',
      fn: () => {
        throw 'plain string';
      },
    });
    engine.startTask(id);
    const error = await engine.waitForTask(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).cause).toBe('plain string');
  });

  it('gives the task function its context: id, name, attempt, signal', async () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({
      id: 'ctx',
      name: 'context',
      fn: (ctx) => ({ id: ctx.id, name: ctx.name, attempt: ctx.attempt, aborted: ctx.signal.aborted }),
    });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toEqual({ id: 'ctx', name: 'context', attempt: 1, aborted: false });
  });

  it('reports counts, queue and mean times in getStats', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const gate = deferred();
    const first = engine.registerTask({ name: 'first', fn: () => gate.promise });
    const second = engine.registerTask({ name: 'second', fn: async () => 1 });
    engine.registerTask({ name: 'never started' });
    engine.startTask(first);
    engine.startTask(second);
    expect(engine.getStats()).toMatchObject({
      counts: { PENDING: 2, RUNNING: 1, WAITING: 0, COMPLETED: 0 },
      total: 3,
      running: 1,
      queued: 1,
    });
    gate.resolve(undefined);
    await engine.waitForTask(second);
    const stats = engine.getStats();
    expect(stats.counts.COMPLETED).toBe(2);
    expect(stats.finished).toBe(2);
    expect(stats.meanRunTime).toBeGreaterThanOrEqual(0);
    expect(stats.meanWaitTime).toBeGreaterThanOrEqual(0);
  });

  it('measures mean wait and run times exactly: wait from startTask to the first attempt, run per attempt', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 1 });
    const attempts = [deferred(), deferred()];
    const only = deferred();
    const first = engine.registerTask({ name: 'first', maxRetries: 1, retryDelay: 50, fn: (ctx) => attempts[ctx.attempt - 1]?.promise });
    const second = engine.registerTask({ name: 'second', fn: () => only.promise });
    await advance(10); // registered at t=0, started at t=10
    engine.startTask(first); // runs at once: waits 0
    engine.startTask(second);
    await advance(100);
    attempts[0]?.reject(new Error('first attempt')); // first's attempt 1 ran 100 ms; second runs at t=110: waited 100
    await advance(300); // first's backoff ends at t=160, but second holds the slot
    only.resolve('second'); // second ran 300 ms; first's attempt 2 runs at t=410
    await advance(50);
    attempts[1]?.resolve('first'); // attempt 2 ran 50 ms
    await engine.waitForTask(first);
    const stats = engine.getStats();
    expect(engine.getTask(first).attempts).toBe(2);
    expect(stats.meanWaitTime).toBe((0 + 100) / 2);
    expect(stats.meanRunTime).toBe((100 + 300 + 50) / 3);
  });

  it('onIdle resolves while a started task waits on a never-started dependency, but not during a retry backoff', async () => {
    const { engine, advance } = simulatedEngine();
    const neverStarted = engine.registerTask({ name: 'never started' });
    const waiting = engine.registerTask({ name: 'waiting', dependencies: [neverStarted], fn: () => 'w' });
    engine.startTask(waiting);
    expect(engine.getTaskStatus(waiting)).toBe('WAITING');
    let idle = false;
    void engine.onIdle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(true);

    const flaky = engine.registerTask({
      name: 'flaky',
      maxRetries: 1,
      retryDelay: 1000,
      fn: (ctx) => (ctx.attempt === 1 ? Promise.reject(new Error('once')) : 'ok'),
    });
    engine.startTask(flaky);
    let idleAgain = false;
    void engine.onIdle().then(() => (idleAgain = true));
    await advance(0);
    expect(engine.getStats().retrying).toBe(1);
    await advance(999);
    expect(idleAgain).toBe(false);
    await advance(1);
    expect(engine.getTaskStatus(flaky)).toBe('COMPLETED');
    expect(idleAgain).toBe(true);
    expect(engine.getTaskStatus(waiting)).toBe('WAITING');
  });
});
