import { describe, expect, it } from 'vitest';
import { TaskEngine, TaskPriority } from '../../src/index.js';
import { deferred, flush, simulatedEngine } from '../helpers.js';

describe('priority, concurrency and named resources', () => {
  it('runs ready tasks CRITICAL first, then HIGH, NORMAL, LOW, FIFO within a level', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const order: string[] = [];
    const blocker = deferred();
    engine.startTask(engine.registerTask({ name: 'blocker', fn: () => blocker.promise }));
    const levels: Array<[string, TaskPriority]> = [
      ['low-1', TaskPriority.LOW],
      ['normal-1', TaskPriority.NORMAL],
      ['critical-1', TaskPriority.CRITICAL],
      ['high-1', TaskPriority.HIGH],
      ['normal-2', TaskPriority.NORMAL],
      ['critical-2', TaskPriority.CRITICAL],
      ['low-2', TaskPriority.LOW],
    ];
    for (const [name, priority] of levels) {
      engine.startTask(engine.registerTask({ name, priority, fn: () => void order.push(name) }));
    }
    blocker.resolve(undefined);
    await engine.onIdle();
    expect(order).toEqual(['critical-1', 'critical-2', 'high-1', 'normal-1', 'normal-2', 'low-1', 'low-2']);
  });

  it('never runs more than `concurrency` tasks at once, and fills a freed slot at once', async () => {
    const engine = new TaskEngine({ concurrency: 3 });
    const gates = Array.from({ length: 10 }, () => deferred());
    let running = 0;
    let peak = 0;
    const ids = gates.map((gate, i) =>
      engine.registerTask({
        name: `t${i}`,
        fn: async () => {
          peak = Math.max(peak, ++running);
          await gate.promise;
          running--;
        },
      }),
    );
    for (const id of ids) engine.startTask(id);
    expect(engine.getStats()).toMatchObject({ running: 3, queued: 7 });
    gates[0]?.resolve(undefined);
    await engine.waitForTask(ids[0] as string);
    expect(engine.getStats().running).toBe(3);
    for (const gate of gates) gate.resolve(undefined);
    await engine.onIdle();
    expect(peak).toBe(3);
  });

  it('holds named resource units while running and lets tasks without them pass', async () => {
    const engine = new TaskEngine({ concurrency: 4, resources: { db: 1 } });
    const dbGate = deferred();
    const first = engine.registerTask({ name: 'db-1', resources: { db: 1 }, fn: () => dbGate.promise });
    const second = engine.registerTask({ name: 'db-2', priority: TaskPriority.CRITICAL, resources: { db: 1 }, fn: () => 'second' });
    const free = engine.registerTask({ name: 'no-db', priority: TaskPriority.LOW, fn: () => 'free' });
    for (const id of [first, second, free]) engine.startTask(id);
    expect(engine.getTaskStatus(second)).toBe('PENDING');
    await expect(engine.waitForTask(free)).resolves.toBe('free');
    expect(engine.getTaskStatus(second)).toBe('PENDING');
    dbGate.resolve(undefined);
    await expect(engine.waitForTask(second)).resolves.toBe('second');
  });

  it('releases resource units at once on cancel', () => {
    const engine = new TaskEngine({ resources: { gpu: 2 } });
    const hog = engine.registerTask({ name: 'hog', resources: { gpu: 2 } });
    const next = engine.registerTask({ name: 'next', resources: { gpu: 1 } });
    engine.startTask(hog);
    engine.startTask(next);
    expect(engine.getTaskStatus(next)).toBe('PENDING');
    engine.cancelTask(hog);
    expect(engine.getTaskStatus(next)).toBe('RUNNING');
  });

  it('frees resource units while a task waits out its retry backoff and when an attempt times out', async () => {
    const { engine, advance } = simulatedEngine({ resources: { db: 1 } });
    let tries = 0;
    const flaky = engine.registerTask({
      name: 'flaky',
      resources: { db: 1 },
      maxRetries: 1,
      retryDelay: 1000,
      fn: () => (++tries === 1 ? Promise.reject(new Error('first attempt')) : 'second attempt'),
    });
    const slow = engine.registerTask({ name: 'slow', resources: { db: 1 }, timeout: 50, fn: () => new Promise(() => {}) });
    const last = engine.registerTask({ name: 'last', resources: { db: 1 } });
    for (const id of [flaky, slow, last]) engine.startTask(id);
    await advance(0);
    // flaky's first attempt failed: it waits out its backoff without holding the db unit.
    expect(engine.getTaskStatus(flaky)).toBe('PENDING');
    expect(engine.getTaskStatus(slow)).toBe('RUNNING');
    expect(engine.getTaskStatus(last)).toBe('PENDING');
    await advance(50);
    // slow timed out (no retry left): its unit goes to last, still during flaky's backoff.
    expect(engine.getTaskStatus(slow)).toBe('FAILED');
    expect(engine.getTaskStatus(last)).toBe('RUNNING');
    await advance(1000);
    expect(engine.getTaskStatus(flaky)).toBe('PENDING'); // backoff over, but last holds the unit
    engine.completeTask(last);
    await expect(engine.waitForTask(flaky)).resolves.toBe('second attempt');
  });

  it('keeps a retried task its place in start order: it runs before a same-priority task started after it', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 1 });
    const order: string[] = [];
    const holder = deferred();
    const flaky = engine.registerTask({
      name: 'flaky',
      maxRetries: 1,
      retryDelay: 100,
      fn: (ctx) => {
        order.push(`flaky#${ctx.attempt}`);
        if (ctx.attempt === 1) throw new Error('once');
      },
    });
    const hold = engine.registerTask({ name: 'holder', fn: () => holder.promise.then(() => void order.push('holder')) });
    const later = engine.registerTask({ name: 'later', fn: () => void order.push('later') });
    engine.startTask(flaky);
    await advance(0); // flaky's first attempt failed: backoff until t=100
    engine.startTask(hold);
    engine.startTask(later);
    expect(engine.getTaskStatus(hold)).toBe('RUNNING');
    await advance(100); // flaky is ready again while holder keeps the only slot: flaky and later both wait for it
    expect(order).toEqual(['flaky#1']);
    holder.resolve(undefined);
    await engine.waitForTask(later);
    expect(order).toEqual(['flaky#1', 'holder', 'flaky#2', 'later']);
    expect(engine.getTaskStatus(flaky)).toBe('COMPLETED');
  });

  it('refuses an unknown pool or more units than its capacity at registration', () => {
    const engine = new TaskEngine({ resources: { db: 2 } });
    expect(() => engine.registerTask({ name: 'x', resources: { cache: 1 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('`cache`') }),
    );
    expect(() => engine.registerTask({ name: 'x', resources: { db: 3 } })).toThrow(/`resources.db`.*capacity 2.*`3`/);
  });

  it('keeps a WAITING task out of the ready queue until its dependencies complete', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const order: string[] = [];
    const dep = deferred();
    const a = engine.registerTask({ name: 'a', fn: () => dep.promise.then(() => void order.push('a')) });
    const b = engine.registerTask({ name: 'b', priority: TaskPriority.CRITICAL, dependencies: [a], fn: () => void order.push('b') });
    const c = engine.registerTask({ name: 'c', priority: TaskPriority.LOW, fn: () => void order.push('c') });
    for (const id of [a, b, c]) engine.startTask(id);
    dep.resolve(undefined);
    await flush();
    await engine.onIdle();
    expect(order).toEqual(['a', 'b', 'c']);
  });
});
