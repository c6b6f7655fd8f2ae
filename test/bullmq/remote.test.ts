/**
 * The remote executor end to end: an engine with a BullMQExecutor and a real
 * `taskchart worker` process (dist/, so run `npm run build` first) on the
 * Redis at 127.0.0.1:6379. Without Redis these tests are skipped, except
 * under CI, where they fail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BullMQExecutor, jobIdFor } from '../../src/bullmq/index.js';
import { TaskEngine, type TaskEvent } from '../../src/index.js';
import { REDIS_URL, probeRedis, queueEvent, startWorld, type RemoteWorld } from './harness.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);
if (unreachable !== undefined) console.log(`test/bullmq skipped: no Redis at ${REDIS_URL} (${unreachable})`);

describe.skipIf(unreachable !== undefined)('BullMQExecutor with a taskchart worker process', () => {
  let world: RemoteWorld | undefined;
  let engine: TaskEngine | undefined;

  async function setup(concurrency = 1): Promise<{ world: RemoteWorld; engine: TaskEngine }> {
    world = await startWorld(concurrency);
    engine = new TaskEngine({ executors: { remote: new BullMQExecutor({ connection: REDIS_URL, queue: world.queueName }) } });
    return { world, engine };
  }

  afterEach(async () => {
    await engine?.shutdown();
    await world?.close();
    engine = undefined;
    world = undefined;
  });

  it('runs a remote task by handler name and returns its result intact', async () => {
    const { engine } = await setup();
    const id = engine.registerTask({
      id: 'echo/1 x',
      name: 'echo',
      executor: 'remote',
      handler: 'echo',
      args: [{ n: 1, list: ['a', null, true], nested: { x: 1.5 } }],
    });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toEqual({
      value: { n: 1, list: ['a', null, true], nested: { x: 1.5 } },
      attempt: 1,
      name: 'echo',
    });
  });

  it('rebuilds a remote error with its name, message, code and cause', async () => {
    const { engine } = await setup();
    const id = engine.registerTask({ id: 'bad', name: 'fail', executor: 'remote', handler: 'fail', args: ['E_REFUSED'] });
    engine.startTask(id);
    const error = (await engine.waitForTask(id).catch((e: unknown) => e)) as Error & { code?: unknown };
    expect(error).toBeInstanceOf(Error);
    expect({ name: error.name, message: error.message, code: error.code }).toEqual({
      name: 'ValidationError',
      message: 'refused bad',
      code: 'E_REFUSED',
    });
    expect((error.cause as Error).message).toBe('inner');
    expect(engine.getTaskStatus(id)).toBe('FAILED');
  });

  it('retries a failed attempt as a new job with the next attempt number', async () => {
    const { engine, world } = await setup();
    const id = engine.registerTask({
      id: 'flaky',
      name: 'fail',
      executor: 'remote',
      handler: 'fail',
      args: ['E'],
      maxRetries: 1,
      retryDelay: 10,
    });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).rejects.toMatchObject({ code: 'E' });
    await world.lines.waitFor('event start flaky 1'); // stdout may arrive after the outcome
    await world.lines.waitFor('event start flaky 2'); // stdout may arrive after the outcome
  });

  it("reports a remote task's progress as engine progress events", async () => {
    const { engine } = await setup();
    const seen: TaskEvent[] = [];
    engine.events.subscribe((event) => seen.push(event));
    const id = engine.registerTask({ id: 'p', name: 'progressing', executor: 'remote', handler: 'progressing' });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toBe('done');
    const progress = seen
      .filter((e) => e.type === 'progress')
      .map((e) => [(e as { progress: number }).progress, (e as { message?: string }).message]);
    expect(progress).toEqual([
      [0.25, 'quarter'],
      [0.75, 'three quarters'],
    ]);
  });

  it("aborts the worker's ctx.signal within a second of a timeout, and ignores the late result", async () => {
    const { engine, world } = await setup();
    const id = engine.registerTask({ id: 'slow', name: 'stubborn', executor: 'remote', handler: 'stubborn', args: [200], timeout: 1500 });
    const completed = queueEvent(world.events, 'completed', jobIdFor(id, 1));
    engine.startTask(id);
    await world.lines.waitFor('event start slow 1');
    const error = await engine.waitForTask(id).catch((e: unknown) => e);
    const timedOutAt = Date.now();
    expect(error).toMatchObject({ code: 'ERR_TASK_TIMEOUT' });
    const abortedAt = await world.lines.waitFor('event aborted slow 1');
    expect(abortedAt - timedOutAt).toBeLessThan(1000);
    await world.lines.waitFor('event returned slow 1');
    await world.lines.waitFor('event disposed slow 1');
    await completed; // the late result reached Redis ...
    expect(engine.getTaskStatus(id)).toBe('FAILED'); // ... and changed nothing
    expect(engine.getTaskResult(id)).toBeUndefined();
    expect(engine.getTaskError(id)).toBe(error);
  });

  it("aborts a running remote task's ctx.signal within a second of cancelTask", async () => {
    const { engine, world } = await setup();
    const id = engine.registerTask({ id: 'c', name: 'stubborn', executor: 'remote', handler: 'stubborn', args: [0] });
    engine.startTask(id);
    await world.lines.waitFor('event start c 1');
    const cancelledAt = Date.now();
    engine.cancelTask(id, 'no longer needed');
    expect((await world.lines.waitFor('event aborted c 1')) - cancelledAt).toBeLessThan(1000);
    await world.lines.waitFor('event disposed c 1');
    expect(engine.getTaskStatus(id)).toBe('CANCELLED');
  });

  it('removes a waiting job from the queue when its task is cancelled', async () => {
    const { engine, world } = await setup(1);
    const blocker = engine.registerTask({ id: 'blocker', name: 'stubborn', executor: 'remote', handler: 'stubborn', args: [0] });
    engine.startTask(blocker);
    await world.lines.waitFor('event start blocker 1');
    const waiting = engine.registerTask({ id: 'queued', name: 'echo', executor: 'remote', handler: 'echo', args: [1] });
    const jobId = jobIdFor(waiting, 1);
    const added = queueEvent(world.events, 'waiting', jobId);
    const removed = queueEvent(world.events, 'removed', jobId);
    engine.startTask(waiting);
    await added;
    engine.cancelTask(waiting);
    await removed;
    expect(await world.queue.getJob(jobId)).toBeUndefined();
    const blockerDone = queueEvent(world.events, 'completed', jobIdFor(blocker, 1));
    engine.cancelTask(blocker);
    await blockerDone;
    expect(await world.queue.getJobCounts('waiting', 'active')).toEqual({ waiting: 0, active: 0 });
    expect(world.lines.has('event start queued 1')).toBe(false);
  });

  it('refuses at registration a remote task without a handler or with args JSON would change', async () => {
    const { engine } = await setup();
    expect(() => engine.registerTask({ name: 'x', executor: 'remote', fn: () => 1 })).toThrow(/Expected a `handler`/);
    expect(() => engine.registerTask({ name: 'x', executor: 'remote', handler: 'echo', args: [{ when: new Date(0) }] })).toThrow(
      /args\[0\]\.when is a Date/,
    );
    expect(() => engine.registerTask({ name: 'x', executor: 'remote', handler: 'echo', args: [undefined] })).toThrow(
      /args\[0\] is undefined/,
    );
  });
});
