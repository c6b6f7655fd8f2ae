/**
 * When a remote attempt is RUNNING, what happens while Redis is down, and re-attaching after a restart: an engine
 * with a BullMQExecutor and real `taskchart worker` processes (dist/, so `npm run build` first). Redis is the one at
 * 127.0.0.1:6379, except for the outage tests, which start their own `redis-server` on another port and kill it.
 * Without Redis these tests are skipped, except under CI, where they fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BullMQExecutor, jobIdFor } from '../../src/bullmq/index.js';
import { TaskEngine } from '../../src/index.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { REDIS_URL, probeRedis, queueEvent } from './harness.js';
import { cleanupAfterEach, defer, isStatus, isWait, newEngine, nextEvent, startWorker, stopProcess, watchQueue } from './processes.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);
if (unreachable !== undefined) console.log(`test/bullmq/lifecycle skipped: no Redis at ${REDIS_URL} (${unreachable})`);

cleanupAfterEach();

/** A `redis-server` of this test's own, on a free port, that the test can kill and start again (with no data kept). */
class OwnRedis {
  readonly port = 20_000 + Math.floor(Math.random() * 20_000);
  readonly url = `redis://127.0.0.1:${this.port}`;
  #child: ChildProcess | undefined;

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.#child = child;
    for (;;) {
      const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.ping();
        return;
      } catch {
        if (child.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited with ${child.exitCode}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        client.disconnect();
      }
    }
  }

  /** Gone at once, as a crashed or unplugged server is. */
  async kill(): Promise<void> {
    if (this.#child !== undefined) await stopProcess(this.#child, 'SIGKILL');
  }
}

describe.skipIf(unreachable !== undefined)('a remote attempt is RUNNING from when a worker takes its job', () => {
  it('stays PENDING, holding its slot, while no worker takes it; its timeout counts from the take', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    // A worker that is there but takes nothing until SIGCONT: its start-up time is not part of the wait.
    const worker = await startWorker(REDIS_URL, queueName);
    worker.child.kill('SIGSTOP');
    defer(() => worker.child.kill('SIGCONT'));
    const { engine, events } = newEngine(REDIS_URL, queueName, { concurrency: 1 });
    engine.registerTask({ id: 'render', name: 'render', executor: 'remote', handler: 'sleep', args: [700, 'rendered'], timeout: 1200 });
    engine.registerTask({ id: 'next', name: 'next', executor: 'remote', handler: 'echo', args: [1] });
    engine.startTask('render');
    engine.startTask('next');
    expect(engine.getTask('render')).toMatchObject({ status: 'PENDING', state: 'dispatched', attempts: 1 });
    expect(engine.getStats()).toMatchObject({ dispatched: 1, queued: 1, running: 0 });
    // The worker is stopped for 800 ms: with the timeout counted from the dispatch, 800 + 700 ms of work would overrun 1200 ms.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(engine.getTaskStatus('render')).toBe('PENDING');
    const running = nextEvent(engine, isStatus('render', 'RUNNING'));
    worker.child.kill('SIGCONT');
    await running;
    await expect(engine.waitForTask('render')).resolves.toBe('rendered');
    await expect(engine.waitForTask('next')).resolves.toMatchObject({ value: 1 });
    const statuses = events.filter((e) => e.type === 'status' && e.taskId === 'render').map((e) => e.type === 'status' && e.status);
    expect(statuses).toEqual(['RUNNING', 'COMPLETED']);
    const task = engine.getTask('render');
    expect((task.startedAt as number) - (task.createdAt as number)).toBeGreaterThanOrEqual(800);
  });

  it('with no live worker, the timeout bounds the wait, and the job is withdrawn from the queue', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { queue, events: queueEvents } = await watchQueue(REDIS_URL, queueName);
    const { engine } = newEngine(REDIS_URL, queueName);
    const jobId = jobIdFor('orphan', 1);
    const added = queueEvent(queueEvents, 'waiting', jobId);
    const removed = queueEvent(queueEvents, 'removed', jobId);
    engine.registerTask({ id: 'orphan', name: 'orphan', executor: 'remote', handler: 'echo', args: [1], timeout: 500 });
    engine.startTask('orphan');
    await added;
    const error = await engine.waitForTask('orphan').catch((e: unknown) => e as Error & { code: string });
    expect(error).toMatchObject({ code: 'ERR_TASK_TIMEOUT' });
    expect((error as Error).message).toContain('waiting for a worker to take it');
    await removed;
    expect(await queue.getJobState(jobId)).toBe('unknown');
  });
});

describe.skipIf(unreachable !== undefined)('task ids used again', () => {
  it('replaces the kept finished job of an earlier run with the same task id, and runs the task again', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { queue } = await watchQueue(REDIS_URL, queueName);
    const { lines } = await startWorker(REDIS_URL, queueName);
    const earlier = newEngine(REDIS_URL, queueName);
    earlier.engine.registerTask({ id: 'nightly', name: 'nightly', executor: 'remote', handler: 'echo', args: ['monday'] });
    earlier.engine.startTask('nightly');
    await expect(earlier.engine.waitForTask('nightly')).resolves.toMatchObject({ value: 'monday' });
    await earlier.engine.shutdown();
    expect(await queue.getJobState(jobIdFor('nightly', 1))).toBe('completed'); // kept for keepFinished

    const later = newEngine(REDIS_URL, queueName);
    later.engine.registerTask({ id: 'nightly', name: 'nightly', executor: 'remote', handler: 'echo', args: ['tuesday'] });
    later.engine.startTask('nightly');
    await expect(later.engine.waitForTask('nightly')).resolves.toMatchObject({ value: 'tuesday' });
    await lines.waitFor('event start nightly 1'); // stdout may arrive after the outcome
  });

  it('fails an attempt whose job id another engine is running, without touching that job', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { queue } = await watchQueue(REDIS_URL, queueName);
    const { lines } = await startWorker(REDIS_URL, queueName);
    const one = newEngine(REDIS_URL, queueName);
    one.engine.registerTask({ id: 'shared', name: 'shared', executor: 'remote', handler: 'sleep', args: [1000, 'first'] });
    const running = nextEvent(one.engine, isStatus('shared', 'RUNNING'));
    one.engine.startTask('shared');
    await running;
    const two = newEngine(REDIS_URL, queueName);
    two.engine.registerTask({ id: 'shared', name: 'shared', executor: 'remote', handler: 'sleep', args: [1000, 'second'] });
    two.engine.startTask('shared');
    await expect(two.engine.waitForTask('shared')).rejects.toThrow(/already holds a active job `tc\.shared\.a1`/);
    await expect(one.engine.waitForTask('shared')).resolves.toBe('first');
    await lines.waitFor('event start shared 1'); // stdout may arrive after the outcome
    expect(await queue.getJobState(jobIdFor('shared', 1))).toBe('completed');
  });
});

describe.skipIf(unreachable !== undefined)('while Redis is unreachable', () => {
  it('registering still works; the attempt waits visibly and carries on when Redis is back', async () => {
    const redis = new OwnRedis();
    await redis.start();
    defer(() => redis.kill());
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await startWorker(redis.url, queueName);
    const { engine } = newEngine(redis.url, queueName, {}, { unavailableTimeout: 60_000, closeTimeout: 500 });
    engine.registerTask({ id: 'before', name: 'before', executor: 'remote', handler: 'echo', args: ['up'] });
    engine.startTask('before');
    await expect(engine.waitForTask('before')).resolves.toMatchObject({ value: 'up' });

    await redis.kill();
    const waiting = nextEvent(engine, isWait(true));
    engine.registerTask({ id: 'during', name: 'during', executor: 'remote', handler: 'echo', args: ['down'] });
    engine.startTask('during');
    const event = await waiting;
    expect(event).toMatchObject({ taskId: 'during', attempt: 1, executor: 'remote' });
    expect(engine.getStats()).toMatchObject({ dispatched: 1, unavailable: 1 });
    expect(engine.getTaskStatus('during')).toBe('PENDING');

    const handedOver = nextEvent(engine, isWait(false));
    await redis.start(); // empty: the job was never added
    await handedOver;
    await expect(engine.waitForTask('during')).resolves.toMatchObject({ value: 'down' });
    expect(engine.getStats()).toMatchObject({ dispatched: 0, unavailable: 0 });
  });

  it('sends a waiting job again when Redis comes back without its data', async () => {
    const redis = new OwnRedis();
    await redis.start();
    defer(() => redis.kill());
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { engine } = newEngine(redis.url, queueName, {}, { unavailableTimeout: 60_000, closeTimeout: 500 });
    engine.registerTask({ id: 'kept', name: 'kept', executor: 'remote', handler: 'echo', args: ['again'] });
    engine.startTask('kept');
    const probe = new Redis(redis.url, { maxRetriesPerRequest: null });
    probe.on('error', () => {});
    defer(() => probe.disconnect());
    while ((await probe.exists(`bull:${queueName}:${jobIdFor('kept', 1)}`)) === 0) await new Promise((resolve) => setTimeout(resolve, 20));

    await redis.kill();
    await redis.start(); // empty: the waiting job is gone, with no event to say so
    await startWorker(redis.url, queueName);
    await expect(engine.waitForTask('kept')).resolves.toMatchObject({ value: 'again', attempt: 1 });
  });

  it('fails the attempt with ERR_EXECUTOR_UNAVAILABLE after unavailableTimeout, and the engine carries on', async () => {
    const redis = new OwnRedis();
    await redis.start();
    defer(() => redis.kill());
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { engine } = newEngine(redis.url, queueName, {}, { unavailableTimeout: 1000, closeTimeout: 500 });
    engine.registerTask({ id: 'warm-up', name: 'warm-up', executor: 'remote', handler: 'echo', args: [0], timeout: 200 });
    engine.startTask('warm-up'); // connects the executor (no worker: it times out waiting)
    await engine.waitForTask('warm-up').catch(() => undefined);
    await redis.kill();
    engine.registerTask({
      id: 'stranded',
      name: 'stranded',
      executor: 'remote',
      handler: 'echo',
      args: [1],
      maxRetries: 1,
      retryDelay: 10,
    });
    engine.registerTask({ id: 'local', name: 'local', fn: () => 'still works' });
    engine.startTask('stranded');
    engine.startTask('local');
    await expect(engine.waitForTask('local')).resolves.toBe('still works');
    const error = (await engine.waitForTask('stranded').catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('ERR_EXECUTOR_UNAVAILABLE');
    expect(error.message).toContain(`Redis at ${redis.url}`);
    expect(error.message).toContain('unreachable for 1000 ms');
    expect(engine.getTask('stranded').attempts).toBe(2); // retried once, as any failed attempt
    await engine.shutdown();
  });
});

describe.skipIf(unreachable !== undefined)('a durable engine restarted re-attaches to its remote attempts', () => {
  function durable(path: string, queueName: string) {
    const store = new SqliteStore({ path });
    const executor = new BullMQExecutor({ connection: REDIS_URL, queue: queueName, closeTimeout: 500 });
    const engine = new TaskEngine({ store, executors: { remote: executor } });
    defer(() => engine.shutdown().catch(() => undefined));
    /** The process "dies": the store is closed under the engine, and its executor stops listening. */
    const crash = async () => {
      store.close();
      await executor.close();
    };
    return { engine, crash };
  }

  function tempPath(): string {
    const dir = mkdtempSync(join(tmpdir(), 'taskchart-reattach-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    return join(dir, 'tasks.db');
  }

  it('takes the result of a job still running when the engine died, without running it twice', async () => {
    const path = tempPath();
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const { lines } = await startWorker(REDIS_URL, queueName);
    const first = durable(path, queueName);
    first.engine.registerTask({ id: 'long', name: 'long', executor: 'remote', handler: 'sleep', args: [1500, 'from the first job'] });
    const running = nextEvent(first.engine, isStatus('long', 'RUNNING'));
    first.engine.startTask('long');
    await running;
    await first.crash();

    const second = durable(path, queueName);
    expect(await second.engine.restore()).toMatchObject({ resumed: 1, reattached: 1, interrupted: 0 });
    await expect(second.engine.waitForTask('long')).resolves.toBe('from the first job');
    expect(second.engine.getTask('long').attempts).toBe(1);
    await lines.waitFor('event finished long 1');
    expect(lines.has('event start long 2')).toBe(false);
  });

  it('takes the result of a job that finished while no engine was listening', async () => {
    const path = tempPath();
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { events: queueEvents } = await watchQueue(REDIS_URL, queueName);
    const { lines } = await startWorker(REDIS_URL, queueName);
    const first = durable(path, queueName);
    first.engine.registerTask({ id: 'quick', name: 'quick', executor: 'remote', handler: 'sleep', args: [300, 'finished unobserved'] });
    const running = nextEvent(first.engine, isStatus('quick', 'RUNNING'));
    first.engine.startTask('quick');
    await running;
    const completed = queueEvent(queueEvents, 'completed', jobIdFor('quick', 1));
    await first.crash();
    await completed;

    const second = durable(path, queueName);
    expect(await second.engine.restore()).toMatchObject({ reattached: 1 });
    await expect(second.engine.waitForTask('quick')).resolves.toBe('finished unobserved');
    expect(lines.has('event start quick 2')).toBe(false);
  });
});

describe.skipIf(unreachable !== undefined)('cancels that a worker could miss', () => {
  it('reach a running job after the worker lost its pub/sub connection while the cancel was sent', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const { lines } = await startWorker(REDIS_URL, queueName);
    const { engine } = newEngine(REDIS_URL, queueName);
    engine.registerTask({ id: 'deaf', name: 'deaf', executor: 'remote', handler: 'stubborn', args: [0] });
    engine.startTask('deaf');
    await lines.waitFor('event start deaf 1');
    const admin = new Redis(REDIS_URL);
    defer(() => admin.disconnect());
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'); // the worker's subscriber reconnects after about 50 ms
    engine.cancelTask('deaf', 'while deaf');
    await lines.waitFor('event aborted deaf 1', 5000);
  });
});
