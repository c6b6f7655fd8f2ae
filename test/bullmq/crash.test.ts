/**
 * Remote workers that die or hang mid-job: real `taskchart worker` processes killed with SIGKILL, against the Redis
 * at 127.0.0.1:6379 (dist/, so `npm run build` first). A worker process's death is not the task's fault: its attempt
 * re-runs free (not counted against maxRetries) up to the task's `maxCrashes` (default 1), then counts as a failed
 * attempt. Without Redis these tests are skipped, except under CI.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { QueueEvents } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';
import { jobIdFor } from '../../src/bullmq/index.js';
import type { RetryEvent, TaskEvent } from '../../src/index.js';
import { REDIS_URL, probeRedis } from './harness.js';
import { cleanupAfterEach, newEngine, nextEvent, startWorker, stopProcess, watchQueue, type WorkerProcess } from './processes.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);
if (unreachable !== undefined) console.log(`test/bullmq/crash skipped: no Redis at ${REDIS_URL} (${unreachable})`);

cleanupAfterEach();

/** The lifecycle handlers and `hangsFor(ctx, hangs, value)`: attempts 1..hangs checkpoint, then run until aborted or killed. */
const HANDLERS = fileURLToPath(new URL('../fixtures/bullmq-long-running-handlers.mjs', import.meta.url));
/** A dead worker's lock lapses after this: its crash is seen within about a second of it. */
const QUICK_LOCK = ['--lock-duration', '1000'];

const isRetry =
  (taskId: string) =>
  (event: TaskEvent): event is RetryEvent =>
    event.type === 'retry' && event.taskId === taskId;

/** Which of `workers` printed `line` first. */
async function whichPrinted(workers: readonly WorkerProcess[], line: string): Promise<WorkerProcess> {
  const index = await Promise.any(workers.map((worker, i) => worker.lines.waitFor(line).then(() => i)));
  return workers[index] as WorkerProcess;
}

/**
 * Resolves when the queue has a heartbeat of job `jobId` (a progress update): it is in Redis, so the engine reads
 * it even if the worker dies right after (it reads the queue's events in order, long before it sees the crash).
 */
function queueHeartbeat(events: QueueEvents, jobId: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
      if (id !== jobId || (data as { heartbeat?: unknown })?.heartbeat !== true) return;
      events.off('progress', listener);
      resolve();
    };
    events.on('progress', listener);
  });
}

/** `promise`, or a rejection saying `what` if it has not settled within `ms` (a guard: the test fails instead of hanging). */
function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)));
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

describe.skipIf(unreachable !== undefined)('a worker killed mid-job', () => {
  it('re-runs the attempt free within 10 s on another worker, so a task with maxRetries 0 completes', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { queue, events: queueEvents } = await watchQueue(REDIS_URL, queueName);
    const workers = [await startWorker(REDIS_URL, queueName, [], HANDLERS), await startWorker(REDIS_URL, queueName, [], HANDLERS)];
    const { engine, events } = newEngine(REDIS_URL, queueName);
    engine.registerTask({ id: 'scene', name: 'scene', executor: 'remote', handler: 'hangsFor', args: [1, 'rendered'], retryDelay: 10 });
    const checkpointed = queueHeartbeat(queueEvents, jobIdFor('scene', 1));
    engine.startTask('scene');
    const victim = await whichPrinted(workers, 'event start scene 1');
    const survivor = workers.find((worker) => worker !== victim) as WorkerProcess;
    await checkpointed;
    const retried = nextEvent(engine, isRetry('scene'));
    const killedAt = Date.now();
    await stopProcess(victim.child, 'SIGKILL');

    const retry = await retried;
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    // Free: at once (no backoff), announced by a retry event that says why.
    expect(retry).toMatchObject({ attempt: 2, delay: 0, error: { code: 'ERR_WORKER_CRASHED', worker: 'process' } });
    // ctx.attempt counts the re-run, which resumes from the dead attempt's checkpoint.
    await expect(engine.waitForTask('scene')).resolves.toEqual({ value: 'rendered', attempt: 2, lastHeartbeat: { hungOnAttempt: 1 } });
    await survivor.lines.waitFor('event start scene 2');
    expect(engine.getTask('scene')).toMatchObject({ status: 'COMPLETED', attempts: 2, crashes: 1 });
    expect(events.filter(isRetry('scene'))).toHaveLength(1);
    expect(await queue.getJobState(jobIdFor('scene', 1))).toBe('unknown'); // removed: nobody runs the dead attempt again
  });

  it('counts a second crash after the free re-run against maxRetries: with maxRetries 0 the task fails', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const workers = [
      await startWorker(REDIS_URL, queueName, QUICK_LOCK, HANDLERS),
      await startWorker(REDIS_URL, queueName, QUICK_LOCK, HANDLERS),
    ];
    const { engine, events } = newEngine(REDIS_URL, queueName);
    engine.registerTask({ id: 'twice', name: 'twice', executor: 'remote', handler: 'hangsFor', args: [2, 'never'] });
    engine.startTask('twice');
    const first = await whichPrinted(workers, 'event start twice 1');
    const second = workers.find((worker) => worker !== first) as WorkerProcess;
    await stopProcess(first.child, 'SIGKILL');
    await second.lines.waitFor('event start twice 2');
    await stopProcess(second.child, 'SIGKILL');

    const error = await engine.waitForTask('twice').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_WORKER_CRASHED', worker: 'process' });
    expect(engine.getTask('twice')).toMatchObject({ status: 'FAILED', attempts: 2, crashes: 1 });
    expect(events.filter(isRetry('twice'))).toMatchObject([{ attempt: 2, delay: 0, error: { code: 'ERR_WORKER_CRASHED' } }]);
  });

  it('counts a second crash against maxRetries: with maxRetries 1 it is retried after its backoff and completes', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { events: queueEvents } = await watchQueue(REDIS_URL, queueName);
    const workers = [
      await startWorker(REDIS_URL, queueName, QUICK_LOCK, HANDLERS),
      await startWorker(REDIS_URL, queueName, QUICK_LOCK, HANDLERS),
      await startWorker(REDIS_URL, queueName, QUICK_LOCK, HANDLERS),
    ];
    const { engine, events } = newEngine(REDIS_URL, queueName);
    engine.registerTask({
      id: 'thrice',
      name: 'thrice',
      executor: 'remote',
      handler: 'hangsFor',
      args: [2, 'done'],
      maxRetries: 1,
      retryDelay: 20,
    });
    const checkpointed = [1, 2].map((attempt) => queueHeartbeat(queueEvents, jobIdFor('thrice', attempt)));
    engine.startTask('thrice');
    const first = await whichPrinted(workers, 'event start thrice 1');
    await checkpointed[0];
    await stopProcess(first.child, 'SIGKILL');
    const left = workers.filter((worker) => worker !== first);
    const second = await whichPrinted(left, 'event start thrice 2');
    await checkpointed[1];
    await stopProcess(second.child, 'SIGKILL');

    // Each attempt resumes from the latest checkpoint, whether the attempt before it re-ran free or counted.
    await expect(engine.waitForTask('thrice')).resolves.toEqual({ value: 'done', attempt: 3, lastHeartbeat: { hungOnAttempt: 2 } });
    expect(engine.getTask('thrice')).toMatchObject({ status: 'COMPLETED', attempts: 3, crashes: 1 });
    expect(events.filter(isRetry('thrice'))).toMatchObject([
      { attempt: 2, delay: 0, error: { code: 'ERR_WORKER_CRASHED' } },
      { attempt: 3, delay: 20, error: { code: 'ERR_WORKER_CRASHED' } },
    ]);
  }, 40_000);

  it('fails the task with ERR_WORKER_CRASHED when its maxCrashes is 0', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const workers = [await startWorker(REDIS_URL, queueName, [], HANDLERS), await startWorker(REDIS_URL, queueName, [], HANDLERS)];
    const { engine, events } = newEngine(REDIS_URL, queueName);
    engine.registerTask({ id: 'strict', name: 'strict', executor: 'remote', handler: 'hangsFor', args: [1, 'x'], maxCrashes: 0 });
    engine.startTask('strict');
    const victim = await whichPrinted(workers, 'event start strict 1');
    await stopProcess(victim.child, 'SIGKILL');

    await expect(engine.waitForTask('strict')).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', worker: 'process' });
    expect(engine.getTask('strict')).toMatchObject({ status: 'FAILED', attempts: 1, crashes: 0 });
    expect(events.filter(isRetry('strict'))).toEqual([]);
  });

  it('notices the crash when no other worker is alive to run BullMQ’s stalled check', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { queue } = await watchQueue(REDIS_URL, queueName);
    const only = await startWorker(REDIS_URL, queueName);
    const { engine } = newEngine(REDIS_URL, queueName);
    // maxCrashes 0: the crash fails the task, instead of a free re-run that no worker would take.
    engine.registerTask({
      id: 'lonely',
      name: 'lonely',
      executor: 'remote',
      handler: 'hangsOnFirstAttempt',
      args: ['never'],
      maxCrashes: 0,
    });
    engine.startTask('lonely');
    await only.lines.waitFor('event start lonely 1');
    const killedAt = Date.now();
    await stopProcess(only.child, 'SIGKILL');

    const error = (await engine.waitForTask('lonely').catch((e: unknown) => e)) as Error & { code: string };
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(error.code).toBe('ERR_WORKER_CRASHED');
    expect(error.message).toContain('stopped renewing its lock');
    expect(await queue.getJobState(jobIdFor('lonely', 1))).toBe('unknown');
  });

  it('frees the concurrency slot of a free re-run cancelled before any worker took it', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const only = await startWorker(REDIS_URL, queueName, QUICK_LOCK, HANDLERS);
    const { engine } = newEngine(REDIS_URL, queueName, { concurrency: 1 });
    engine.registerTask({ id: 'orphan', name: 'orphan', executor: 'remote', handler: 'hangsFor', args: [1, 'x'] });
    engine.startTask('orphan');
    await only.lines.waitFor('event start orphan 1');
    const retried = nextEvent(engine, isRetry('orphan'));
    await stopProcess(only.child, 'SIGKILL');
    await retried;
    // The re-run's job waits in the queue: no worker is alive to take it.
    await vi.waitFor(() => expect(engine.getTask('orphan').state).toBe('dispatched'), { timeout: 5000, interval: 5 });
    engine.cancelTask('orphan', 'no longer needed');
    expect(engine.getTask('orphan')).toMatchObject({ status: 'CANCELLED', crashes: 1 });

    engine.registerTask({ id: 'next', name: 'next', executor: 'remote', handler: 'echo', args: [1] });
    engine.startTask('next');
    await startWorker(REDIS_URL, queueName, [], HANDLERS);
    // The engine runs one task at a time: `next` runs only if the cancelled re-run gave its slot back.
    const result = within(
      engine.waitForTask('next'),
      10_000,
      () => `next still ${engine.getTask('next').status} (${engine.getTask('next').state}) 10 s after a worker came`,
    );
    await expect(result).resolves.toMatchObject({ value: 1 });
  });
});

describe.skipIf(unreachable !== undefined)('CPU-bound handlers', () => {
  it('run in worker threads with --pool, keeping the job lock alive while they spin', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    await startWorker(REDIS_URL, queueName, ['--pool', '--concurrency', '2', '--lock-duration', '1000']);
    const { engine } = newEngine(REDIS_URL, queueName);
    for (const id of ['a', 'b']) engine.registerTask({ id, name: id, executor: 'remote', handler: 'spin', args: [2500] });
    engine.startTask('a');
    engine.startTask('b');
    const [a, b] = (await Promise.all([engine.waitForTask('a'), engine.waitForTask('b')])) as Array<{ threadId: number }>;
    expect(a?.threadId).toBeGreaterThan(0);
    expect(b?.threadId).toBeGreaterThan(0);
    expect(a?.threadId).not.toBe(b?.threadId); // in parallel, one thread each
    expect(engine.getTask('a').attempts).toBe(1);
  });

  it('block the lock renewal without --pool, and are then taken for a crashed worker', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    await startWorker(REDIS_URL, queueName, ['--lock-duration', '1000']);
    const { engine } = newEngine(REDIS_URL, queueName);
    // maxCrashes 0: the first crash fails it (a free re-run would hog the worker again, and be taken for crashed again).
    engine.registerTask({ id: 'hog', name: 'hog', executor: 'remote', handler: 'spin', args: [2500], maxCrashes: 0 });
    engine.startTask('hog');
    await expect(engine.waitForTask('hog')).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED', worker: 'process' });
    expect(engine.getTask('hog')).toMatchObject({ attempts: 1, crashes: 0 });
  });
});

describe.skipIf(unreachable !== undefined)('a worker stopped with SIGTERM', () => {
  it('takes no new job, lets its running one finish, then exits 0', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const worker = await startWorker(REDIS_URL, queueName);
    const { engine } = newEngine(REDIS_URL, queueName);
    engine.registerTask({ id: 'finishing', name: 'finishing', executor: 'remote', handler: 'sleep', args: [800, 'finished'] });
    engine.startTask('finishing');
    await worker.lines.waitFor('event start finishing 1');
    const exited = new Promise<number | null>((resolve) => worker.child.once('exit', resolve));
    worker.child.kill('SIGTERM');
    await worker.lines.waitFor(/^worker: SIGTERM: finishing running jobs/);
    engine.registerTask({ id: 'later', name: 'later', executor: 'remote', handler: 'echo', args: [1], timeout: 1500 });
    engine.startTask('later');
    await expect(engine.waitForTask('finishing')).resolves.toBe('finished');
    expect(await exited).toBe(0);
    await expect(engine.waitForTask('later')).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' }); // nobody took it
    expect(worker.lines.has('event start later 1')).toBe(false);
  });

  it('hands back a job still running after --grace, and its free re-run runs on another worker', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const leaving = await startWorker(REDIS_URL, queueName, ['--grace', '300']);
    const { engine } = newEngine(REDIS_URL, queueName);
    // maxRetries 0: a worker shutting down is not the task's fault, so the handed-back attempt re-runs free.
    engine.registerTask({
      id: 'handed',
      name: 'handed',
      executor: 'remote',
      handler: 'hangsOnFirstAttempt',
      args: ['second try'],
      retryDelay: 10,
    });
    engine.startTask('handed');
    await leaving.lines.waitFor('event start handed 1');
    const staying = await startWorker(REDIS_URL, queueName);
    const retried = nextEvent(engine, isRetry('handed'));
    leaving.child.kill('SIGTERM');
    expect(await retried).toMatchObject({
      attempt: 2,
      delay: 0,
      error: { code: 'ERR_WORKER_CRASHED', worker: 'process', message: expect.stringContaining('worker shutdown') },
    });
    await expect(engine.waitForTask('handed')).resolves.toBe('second try');
    await staying.lines.waitFor('event start handed 2');
    expect(engine.getTask('handed')).toMatchObject({ status: 'COMPLETED', attempts: 2, crashes: 1 });
  });
});
