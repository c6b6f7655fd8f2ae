/**
 * The order in which ready tasks take free slots, as a user sees it: priority first, across lanes (tasks needing
 * different resources or executors wait in different heaps of the ready queue), then start order (the order of
 * `startTask` calls), whatever the registration order. One slot, held by a blocker while the rest is queued, so
 * the order the functions are called in is the order of dispatch.
 */
import { describe, expect, it } from 'vitest';
import { TaskEngine, TaskPriority } from '../../src/index.js';
import { deferred, simulatedEngine } from '../helpers.js';
import { TestQueue } from '../fixtures/test-queue.js';

interface Plan {
  readonly name: string;
  readonly priority?: TaskPriority;
  readonly resources?: Readonly<Record<string, number>>;
}

/** Registers `plans` in this order, starts them in `startOrder` (names) behind a blocker, and returns the run order. */
async function runOrder(engine: TaskEngine, plans: readonly Plan[], startOrder: readonly string[]): Promise<string[]> {
  const order: string[] = [];
  const blocker = deferred();
  engine.startTask(engine.registerTask({ name: 'blocker', fn: () => blocker.promise }));
  const ids = new Map(
    plans.map((plan) => [
      plan.name,
      engine.registerTask({ ...plan, resources: { ...plan.resources }, fn: () => void order.push(plan.name) }),
    ]),
  );
  for (const name of startOrder) engine.startTask(ids.get(name) as string);
  expect(engine.getStats()).toMatchObject({ running: 1, queued: startOrder.length });
  blocker.resolve(undefined);
  await engine.onIdle();
  return order;
}

describe('priority order across lanes', () => {
  it('runs the highest priority first whatever resources each task needs', async () => {
    const engine = new TaskEngine({ concurrency: 1, resources: { db: 2, gpu: 2 } });
    const plans: Plan[] = [
      { name: 'db-low', priority: TaskPriority.LOW, resources: { db: 1 } },
      { name: 'gpu-high', priority: TaskPriority.HIGH, resources: { gpu: 1 } },
      { name: 'plain-normal', priority: TaskPriority.NORMAL },
      { name: 'db-critical', priority: TaskPriority.CRITICAL, resources: { db: 2 } },
      { name: 'gpu-low', priority: TaskPriority.LOW, resources: { gpu: 2 } },
      { name: 'both-high', priority: TaskPriority.HIGH, resources: { db: 1, gpu: 1 } },
    ];
    const order = await runOrder(
      engine,
      plans,
      plans.map((p) => p.name),
    );
    expect(order).toEqual(['db-critical', 'gpu-high', 'both-high', 'plain-normal', 'db-low', 'gpu-low']);
    await engine.shutdown();
  });

  it('keeps start order within a level across lanes: an earlier start in another lane runs first', async () => {
    const engine = new TaskEngine({ concurrency: 1, resources: { db: 1 } });
    const plans: Plan[] = [
      { name: 'plain-1', priority: TaskPriority.NORMAL },
      { name: 'db-2', priority: TaskPriority.NORMAL, resources: { db: 1 } },
      { name: 'plain-3', priority: TaskPriority.NORMAL },
      { name: 'db-4', priority: TaskPriority.NORMAL, resources: { db: 1 } },
    ];
    expect(await runOrder(engine, plans, ['db-4', 'plain-3', 'db-2', 'plain-1'])).toEqual(['db-4', 'plain-3', 'db-2', 'plain-1']);
    await engine.shutdown();
  });

  it('orders tasks of another executor with the rest: a HIGH task on a custom executor runs before NORMAL async ones', async () => {
    const queue = new TestQueue(); // deferredStart: dispatched means handed to the queue, holding the slot
    const engine = new TaskEngine({ concurrency: 1, executors: { queue } });
    const order: string[] = [];
    const blocker = deferred();
    const blockerId = engine.registerTask({ name: 'blocker', fn: () => blocker.promise });
    const normal = engine.registerTask({ name: 'async-normal', fn: () => void order.push('async-normal') });
    const high = engine.registerTask({ name: 'queue-high', priority: TaskPriority.HIGH, executor: 'queue', handler: 'work' });
    engine.startTask(blockerId);
    engine.startTask(normal);
    engine.startTask(high);
    blocker.resolve(undefined);
    await engine.waitForTask(blockerId);
    expect([...queue.attempts.keys()]).toEqual([`${high}#1`]);
    expect(engine.getTaskStatus(normal)).toBe('PENDING');
    queue.take(high);
    queue.finish(high, 'done');
    await engine.onIdle();
    expect(order).toEqual(['async-normal']);
    await engine.shutdown();
  });

  it('wakes a HIGH dependent before a LOW task already queued takes the slot its dependency frees', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const order: string[] = [];
    const dependency = deferred();
    const first = engine.registerTask({ name: 'dependency', fn: () => dependency.promise });
    const low = engine.registerTask({ name: 'low', priority: TaskPriority.LOW, fn: () => void order.push('low') });
    const dependent = engine.registerTask({
      name: 'dependent',
      priority: TaskPriority.HIGH,
      dependencies: [first],
      fn: () => void order.push('dependent'),
    });
    engine.startTask(first);
    engine.startTask(low);
    engine.startTask(dependent);
    expect(engine.getTaskStatus(dependent)).toBe('WAITING');
    dependency.resolve(undefined);
    await engine.onIdle();
    expect(order).toEqual(['dependent', 'low']);
    await engine.shutdown();
  });
});

describe('start order, not registration order', () => {
  it('runs tasks of one level in the order they were started', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const plans: Plan[] = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name }));
    expect(await runOrder(engine, plans, ['d', 'b', 'e', 'a', 'c'])).toEqual(['d', 'b', 'e', 'a', 'c']);
    await engine.shutdown();
  });

  it('orders each level by start order when registration, start and priority all differ', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const plans: Plan[] = [
      { name: 'high-a', priority: TaskPriority.HIGH },
      { name: 'low-b', priority: TaskPriority.LOW },
      { name: 'high-c', priority: TaskPriority.HIGH },
      { name: 'low-d', priority: TaskPriority.LOW },
    ];
    expect(await runOrder(engine, plans, ['low-d', 'high-c', 'low-b', 'high-a'])).toEqual(['high-c', 'high-a', 'low-d', 'low-b']);
    await engine.shutdown();
  });

  it('places a dependent by when it was started, not by when its dependency completed', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const order: string[] = [];
    const dependency = deferred();
    const first = engine.registerTask({ name: 'dependency', fn: () => dependency.promise });
    const later = engine.registerTask({ name: 'started-second', fn: () => void order.push('started-second') });
    const dependent = engine.registerTask({ name: 'started-first', dependencies: [first], fn: () => void order.push('started-first') });
    engine.startTask(first);
    engine.startTask(dependent);
    engine.startTask(later);
    dependency.resolve(undefined);
    await engine.onIdle();
    expect(order).toEqual(['started-first', 'started-second']);
    await engine.shutdown();
  });

  it('keeps a retried task in its original place among tasks started after it', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 1 });
    const order: string[] = [];
    const blocker = deferred();
    let tries = 0;
    const flaky = engine.registerTask({
      name: 'flaky',
      maxRetries: 1,
      retryDelay: 10,
      fn: () => {
        order.push(`flaky#${++tries}`);
        if (tries === 1) throw new Error('first try fails');
      },
    });
    const slow = engine.registerTask({ name: 'slow', fn: () => blocker.promise.then(() => void order.push('slow')) });
    const next = engine.registerTask({ name: 'next', fn: () => void order.push('next') });
    engine.startTask(flaky);
    engine.startTask(slow);
    engine.startTask(next);
    await advance(10); // flaky's backoff ends while slow holds the slot: flaky and next are both queued
    expect(engine.getStats()).toMatchObject({ running: 1, queued: 2 });
    blocker.resolve(undefined);
    await advance(0);
    expect(order).toEqual(['flaky#1', 'slow', 'flaky#2', 'next']);
    await engine.shutdown();
  });
});
