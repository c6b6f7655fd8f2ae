/**
 * The error contract in the remote runtime: every error that settles a remote task comes back from a real
 * `taskchart worker` process (dist/, so `npm run build` first) as the same TaskChartError class with the same
 * code; with `--pool` it crosses a thread boundary first. Redis at 127.0.0.1:6379; skipped without it, except under CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BullMQExecutor } from '../../src/bullmq/index.js';
import { InvalidOptionError, NonRetryableError, ResultNotCloneableError, TaskEngine, UnknownHandlerError } from '../../src/index.js';
import { CLI, Lines, REDIS_URL, probeRedis } from './harness.js';

const HANDLERS = fileURLToPath(new URL('../fixtures/bullmq-error-handlers.mjs', import.meta.url));

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);

describe.skipIf(unreachable !== undefined)('remote runtime: errors that settle a task', () => {
  let child: ChildProcess | undefined;
  let engine: TaskEngine | undefined;
  let queueName = '';

  /** A worker process (in threads with `pool`) on a fresh queue, and an engine sending to it. */
  async function setup(pool = false): Promise<TaskEngine> {
    queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const args = [CLI, 'worker', HANDLERS, '--redis', REDIS_URL, '--queue', queueName, ...(pool ? ['--pool'] : [])];
    child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Lines(child).waitFor(/^worker: queue /);
    engine = new TaskEngine({ executors: { remote: new BullMQExecutor({ connection: REDIS_URL, queue: queueName }) } });
    return engine;
  }

  afterEach(async () => {
    await engine?.shutdown();
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection: client });
    await queue.obliterate({ force: true });
    await queue.close();
    client.disconnect();
    engine = undefined;
    child = undefined;
  });

  async function errorOf(e: TaskEngine, handler: string, maxRetries = 0): Promise<{ error: unknown; attempts: number }> {
    const id = e.registerTask({ name: handler, executor: 'remote', handler, maxRetries, retryDelay: 1 });
    e.startTask(id);
    const error = await e.waitForTask(id).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    return { error, attempts: e.getTask(id).attempts };
  }

  it('reports a disposer that throws in the remote worker as a resource-error event, the task still COMPLETED', async () => {
    const e = await setup();
    const reported: unknown[] = [];
    e.events.subscribe((event) => {
      if (event.type === 'resource-error') reported.push(event);
    });
    const id = e.registerTask({ name: 'socket', executor: 'remote', handler: 'disposerThrows' });
    e.startTask(id);
    await expect(e.waitForTask(id)).resolves.toBe('done');
    await e.shutdown(); // disposals settled
    expect(reported).toEqual([
      expect.objectContaining({ taskId: id, name: 'socket', error: expect.objectContaining({ message: 'could not close the socket' }) }),
    ]);
    expect(e.getTaskStatus(id)).toBe('COMPLETED');
  });

  it('fails with ERR_UNKNOWN_HANDLER naming the handlers the worker has', async () => {
    const { error } = await errorOf(await setup(), 'render');
    expect(error).toBeInstanceOf(UnknownHandlerError);
    expect(error).toMatchObject({ code: 'ERR_UNKNOWN_HANDLER', handler: 'render' });
    expect((error as Error).message).toMatch(/its handlers: .*returnsDate/);
  });

  it('fails with ERR_RESULT_NOT_CLONEABLE when the result cannot travel as JSON, naming where', async () => {
    const e = await setup();
    const date = await errorOf(e, 'returnsDate');
    expect(date.error).toBeInstanceOf(ResultNotCloneableError);
    expect(date.error).toMatchObject({ code: 'ERR_RESULT_NOT_CLONEABLE', problem: expect.stringMatching(/^the result\.at is a Date/) });
    const fn = await errorOf(e, 'returnsFunction');
    expect(fn.error).toBeInstanceOf(ResultNotCloneableError);
  });

  it('refuses a bad progress fraction and a non-function disposer with the same class as the main thread', async () => {
    const e = await setup();
    const progress = await errorOf(e, 'progressPastOne');
    expect(progress.error).toBeInstanceOf(InvalidOptionError);
    expect(progress.error).toMatchObject({ code: 'ERR_INVALID_OPTION', field: 'fraction' });
    const dispose = await errorOf(e, 'registersNumber');
    expect(dispose.error).toMatchObject({ code: 'ERR_INVALID_OPTION', field: 'dispose' });
  });

  it('brings a NonRetryableError back as its class, and does not retry it', async () => {
    const { error, attempts } = await errorOf(await setup(), 'throwsNonRetryable', 2);
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(attempts).toBe(1);
  });

  it('with --pool, brings ERR_RESULT_NOT_CLONEABLE across the thread and the queue as its class', async () => {
    const e = await setup(true);
    const fn = await errorOf(e, 'returnsFunction');
    expect(fn.error).toBeInstanceOf(ResultNotCloneableError);
    expect(fn.error).toMatchObject({ problem: 'result.rows[0].format is a function' });
    // A Date leaves the thread, but not as JSON: the worker's own check catches it.
    const date = await errorOf(e, 'returnsDate');
    expect(date.error).toMatchObject({ code: 'ERR_RESULT_NOT_CLONEABLE', problem: expect.stringMatching(/Date/) });
  });
});
