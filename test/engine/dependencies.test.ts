import { describe, expect, it } from 'vitest';
import { DependencyFailedError, TaskEngine } from '../../src/index.js';
import { deferred, flush, simulatedEngine } from '../helpers.js';

describe('dependencies', () => {
  it('runs a task only after all its dependencies COMPLETED', async () => {
    const engine = new TaskEngine({ concurrency: 4 });
    const gates = { a: deferred(), b: deferred() };
    const ran: string[] = [];
    const a = engine.registerTask({ id: 'a', name: 'a', fn: () => gates.a.promise });
    const b = engine.registerTask({ id: 'b', name: 'b', fn: () => gates.b.promise });
    const c = engine.registerTask({ id: 'c', name: 'c', dependencies: [a, b], fn: () => void ran.push('c') });
    for (const id of [c, a, b]) engine.startTask(id);
    expect(engine.getTaskStatus(c)).toBe('WAITING');
    gates.a.resolve(1);
    await flush();
    expect(engine.getTaskStatus(c)).toBe('WAITING');
    expect(ran).toEqual([]);
    gates.b.resolve(2);
    await engine.waitForTask(c);
    expect(ran).toEqual(['c']);
  });

  it('fails dependents of a failed task transitively, without running them, with the cause chain', async () => {
    const engine = new TaskEngine();
    const ran: string[] = [];
    const boom = new Error('boom');
    engine.registerTasks([
      { id: 'root', name: 'root', fn: () => Promise.reject(boom) },
      { id: 'child', name: 'child', dependencies: ['root'], fn: () => void ran.push('child') },
      { id: 'grandchild', name: 'grandchild', dependencies: ['child'], fn: () => void ran.push('grandchild') },
      { id: 'unstarted', name: 'unstarted', dependencies: ['root'], fn: () => void ran.push('unstarted') },
    ]);
    for (const id of ['grandchild', 'child', 'root']) engine.startTask(id);
    await expect(engine.waitForTask('root')).rejects.toBe(boom);
    const child = engine.getTaskError('child') as DependencyFailedError;
    expect(child).toBeInstanceOf(DependencyFailedError);
    expect(child).toMatchObject({ code: 'ERR_DEPENDENCY_FAILED', dependencyId: 'root', cause: boom });
    const grandchild = engine.getTaskError('grandchild') as DependencyFailedError;
    expect(grandchild).toMatchObject({ code: 'ERR_DEPENDENCY_FAILED', dependencyId: 'child', cause: child });
    expect(engine.getTaskStatus('unstarted')).toBe('FAILED');
    expect(ran).toEqual([]);
    expect(engine.getTask('child').attempts).toBe(0);
  });

  it('cancels dependents of a cancelled task, started or not', () => {
    const engine = new TaskEngine();
    engine.registerTasks([
      { id: 'a', name: 'a' },
      { id: 'b', name: 'b', dependencies: ['a'] },
      { id: 'c', name: 'c', dependencies: ['b'] },
    ]);
    engine.startTask('b');
    engine.cancelTask('a', 'not needed');
    expect(['a', 'b', 'c'].map((id) => engine.getTaskStatus(id))).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
    expect(engine.getTaskError('c')).toMatchObject({ code: 'ERR_TASK_CANCELLED', message: expect.stringContaining('`b`') });
  });

  it('fails at start a task registered against an already-failed dependency', async () => {
    const engine = new TaskEngine();
    const a = engine.registerTask({ name: 'a', fn: () => Promise.reject(new Error('x')) });
    engine.startTask(a);
    await engine.waitForTask(a).catch(() => {});
    const late = engine.registerTask({ name: 'late', dependencies: [a], fn: () => 1 });
    expect(engine.getTaskStatus(late)).toBe('PENDING');
    engine.startTask(late);
    expect(engine.getTaskStatus(late)).toBe('FAILED');
    expect(engine.getTaskError(late)).toMatchObject({ code: 'ERR_DEPENDENCY_FAILED' });
  });

  it('cancels at start a task registered against an already-cancelled dependency, without running it', async () => {
    const engine = new TaskEngine();
    const ran: string[] = [];
    const a = engine.registerTask({ name: 'a' });
    engine.cancelTask(a, 'not needed');
    const late = engine.registerTask({ name: 'late', dependencies: [a], fn: () => void ran.push('late') });
    expect(engine.getTaskStatus(late)).toBe('PENDING');
    engine.startTask(late);
    expect(engine.getTaskStatus(late)).toBe('CANCELLED');
    expect(engine.getTaskError(late)).toMatchObject({
      code: 'ERR_TASK_CANCELLED',
      message: expect.stringContaining(`its dependency \`a\` (${a.slice(0, 8)}…) was cancelled`),
    });
    await expect(engine.waitForTask(late)).rejects.toMatchObject({ code: 'ERR_TASK_CANCELLED' });
    expect(ran).toEqual([]);
  });

  it('treats a cleaned-up COMPLETED dependency as met', async () => {
    const engine = new TaskEngine();
    const a = engine.registerTask({ name: 'a', fn: () => 1 });
    const b = engine.registerTask({ name: 'b', dependencies: [a], fn: () => 2 });
    engine.startTask(a);
    await engine.waitForTask(a);
    await engine.cleanupTask(a);
    engine.startTask(b);
    await expect(engine.waitForTask(b)).resolves.toBe(2);
  });

  it('keeps an id that a remembered task depends on from being reused after cleanupTask', async () => {
    const engine = new TaskEngine();
    engine.registerTask({ id: 'x', name: 'x', fn: () => 1 });
    engine.registerTask({ id: 'b', name: 'b', dependencies: ['x'], fn: () => 'b' });
    engine.startTask('x');
    await engine.waitForTask('x');
    await engine.cleanupTask('x');
    // A new `x` would be a different task that `b` never depended on, and `x -> b -> x` a cycle the batch check cannot see.
    expect(() => engine.registerTask({ id: 'x', name: 'x again', dependencies: ['b'], fn: () => 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_DUPLICATE_TASK', message: expect.stringMatching(/`x` is still in use.*`b` depends on it/) }),
    );
    engine.startTask('b');
    await expect(engine.waitForTask('b')).resolves.toBe('b');
    await engine.cleanupTask('b');
    expect(engine.registerTask({ id: 'x', name: 'x again', fn: () => 2 })).toBe('x');
  });

  it('does not count a dependency twice when a subscriber starts a dependent from its COMPLETED event', async () => {
    const engine = new TaskEngine();
    const gate = deferred();
    const ran: string[] = [];
    engine.registerTasks([
      { id: 'a', name: 'a', fn: () => 'a' },
      { id: 'b', name: 'b', fn: () => gate.promise },
      { id: 'd', name: 'd', dependencies: ['a', 'b'], fn: () => void ran.push('d') },
    ]);
    engine.events.subscribe((event) => {
      if (event.type === 'status' && event.taskId === 'a' && event.status === 'COMPLETED') engine.startTask('d');
    });
    engine.startTask('b');
    engine.startTask('a');
    await engine.waitForTask('a');
    await flush();
    expect(engine.getTaskStatus('d')).toBe('WAITING');
    expect(ran).toEqual([]);
    gate.resolve('b');
    await engine.waitForTask('d');
    expect(ran).toEqual(['d']);
  });

  it('emits `registered` only once the whole batch is in, so starting from it respects forward references', async () => {
    const engine = new TaskEngine();
    engine.events.subscribe((event) => {
      if (event.type === 'registered') engine.startTask(event.taskId);
    });
    const boom = new Error('early failed');
    const ran: string[] = [];
    engine.registerTasks([
      { id: 'late', name: 'late', dependencies: ['early'], fn: () => void ran.push('late') },
      { id: 'early', name: 'early', fn: () => Promise.reject(boom) },
    ]);
    await expect(engine.waitForTask('late')).rejects.toMatchObject({ code: 'ERR_DEPENDENCY_FAILED', cause: boom });
    expect(ran).toEqual([]);
  });

  it('fails dependents at once when a timeout fails their dependency, before its waitForTask rejection is handled', async () => {
    const { engine, advance } = simulatedEngine();
    engine.registerTasks([
      { id: 'slow', name: 'slow', timeout: 50, fn: () => new Promise(() => {}) },
      { id: 'next', name: 'next', dependencies: ['slow'], fn: () => 1 },
    ]);
    engine.startTask('slow');
    engine.startTask('next');
    let seen: string | undefined;
    const handled = engine.waitForTask('slow').catch(() => {
      seen = engine.getTaskStatus('next');
    });
    await advance(50);
    await handled;
    expect(seen).toBe('FAILED');
  });

  it("never emits a task's status before its `registered` event, even when a subscriber changes a later task of the batch", () => {
    const engine = new TaskEngine();
    const seen: string[] = [];
    engine.events.subscribe((event) => {
      seen.push(`${event.type}:${event.taskId}${event.type === 'status' ? `:${event.status}` : ''}`);
      if (event.type === 'registered' && event.taskId === 'p') engine.cancelTask('q');
    });
    engine.registerTasks([
      { id: 'p', name: 'p' },
      { id: 'q', name: 'q' },
    ]);
    expect(seen).toEqual(['registered:p', 'registered:q', 'status:q:CANCELLED']);
  });

  it('refuses unknown dependency ids, naming both ids, and registers nothing of the batch', () => {
    const engine = new TaskEngine();
    expect(() =>
      engine.registerTasks([
        { id: 'ok', name: 'ok' },
        { id: 'bad', name: 'bad', dependencies: ['ghost'] },
      ]),
    ).toThrow(/`bad`.*`ghost`/);
    expect(() => engine.getTask('ok')).toThrow(expect.objectContaining({ code: 'ERR_TASK_NOT_FOUND' }));
    expect(engine.getStats().total).toBe(0);
  });

  it('refuses a cycle with the ids in the message, and registers nothing of the batch', () => {
    const engine = new TaskEngine();
    let error: unknown;
    try {
      engine.registerTasks([
        { id: 'x', name: 'x' },
        { id: 'a', name: 'a', dependencies: ['c', 'x'] },
        { id: 'b', name: 'b', dependencies: ['a'] },
        { id: 'c', name: 'c', dependencies: ['b'] },
      ]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'ERR_DEPENDENCY_CYCLE' });
    expect((error as { cycle: string[] }).cycle.slice(0, -1).sort()).toEqual(['a', 'b', 'c']);
    expect((error as Error).message).toMatch(/`a`.*`b`|`b`.*`c`|`c`.*`a`/);
    expect(engine.getStats().total).toBe(0);
    expect(() => engine.registerTask({ id: 'self', name: 'self', dependencies: ['self'] })).toThrow(
      expect.objectContaining({ code: 'ERR_DEPENDENCY_CYCLE' }),
    );
  });

  it('accepts forward references inside one batch', async () => {
    const engine = new TaskEngine();
    const ids = engine.registerTasks([
      { id: 'late', name: 'late', dependencies: ['early'], fn: () => 'late' },
      { id: 'early', name: 'early', fn: () => 'early' },
    ]);
    expect(ids).toEqual(['late', 'early']);
    engine.startTask('late');
    engine.startTask('early');
    await expect(engine.waitForTask('late')).resolves.toBe('late');
  });

  it('fails a 20,000-long chain of dependents at once, without overflowing the stack', async () => {
    const engine = new TaskEngine();
    const specs = [{ id: 't0', name: 't0', fn: () => Promise.reject(new Error('first')) }];
    for (let i = 1; i < 20_000; i++) specs.push({ id: `t${i}`, name: `t${i}`, dependencies: [`t${i - 1}`] } as never);
    engine.registerTasks(specs);
    for (let i = 19_999; i >= 0; i--) engine.startTask(`t${i}`);
    await engine.waitForTask('t0').catch(() => {});
    expect(engine.getTaskStatus('t19999')).toBe('FAILED');
    expect(engine.getStats().counts.FAILED).toBe(20_000);
  });
});
