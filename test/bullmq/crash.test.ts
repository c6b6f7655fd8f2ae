/**
 * Remote workers that die or hang mid-job: real `taskchart worker` processes killed with SIGKILL, against the Redis
 * at 127.0.0.1:6379 (dist/, so `npm run build` first). Without Redis these tests are skipped, except under CI.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jobIdFor } from '../../src/bullmq/index.js';
import type { RetryEvent, TaskEvent } from '../../src/index.js';
import { REDIS_URL, probeRedis } from './harness.js';
import { cleanupAfterEach, newEngine, nextEvent, startWorker, stopProcess, watchQueue, type WorkerProcess } from './processes.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);
if (unreachable !== undefined) console.log(`test/bullmq/crash skipped: no Redis at ${REDIS_URL} (${unreachable})`);

cleanupAfterEach();

const isRetry =
  (taskId: string) =>
  (event: TaskEvent): event is RetryEvent =>
    event.type === 'retry' && event.taskId === taskId;

/** Which of `workers` printed `line` first. */
async function whichPrinted(workers: readonly WorkerProcess[], line: string): Promise<WorkerProcess> {
  const index = await Promise.any(workers.map((worker, i) => worker.lines.waitFor(line).then(() => i)));
  return workers[index] as WorkerProcess;
}

describe.skipIf(unreachable !== undefined)('a worker killed mid-job', () => {
  it('fails the attempt with ERR_WORKER_CRASHED within 10 s, and the retry runs on another worker', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { queue } = await watchQueue(REDIS_URL, queueName);
    const workers = [await startWorker(REDIS_URL, queueName), await startWorker(REDIS_URL, queueName)];
    const { engine } = newEngine(REDIS_URL, queueName);
    engine.registerTask({
      id: 'scene',
      name: 'scene',
      executor: 'remote',
      handler: 'hangsOnFirstAttempt',
      args: ['rendered'],
      maxRetries: 1,
      retryDelay: 10,
    });
    engine.startTask('scene');
    const victim = await whichPrinted(workers, 'event start scene 1');
    const survivor = workers.find((worker) => worker !== victim) as WorkerProcess;
    const retried = nextEvent(engine, isRetry('scene'));
    const killedAt = Date.now();
    await stopProcess(victim.child, 'SIGKILL');

    const retry = await retried;
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(retry).toMatchObject({ attempt: 2, error: { code: 'ERR_WORKER_CRASHED' } });
    await expect(engine.waitForTask('scene')).resolves.toBe('rendered');
    await survivor.lines.waitFor('event start scene 2');
    expect(engine.getTask('scene')).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    expect(await queue.getJobState(jobIdFor('scene', 1))).toBe('unknown'); // removed: nobody runs the dead attempt again
  });

  it('notices the crash when no other worker is alive to run BullMQ’s stalled check', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    const { queue } = await watchQueue(REDIS_URL, queueName);
    const only = await startWorker(REDIS_URL, queueName);
    const { engine } = newEngine(REDIS_URL, queueName);
    engine.registerTask({ id: 'lonely', name: 'lonely', executor: 'remote', handler: 'hangsOnFirstAttempt', args: ['never'] });
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
    engine.registerTask({ id: 'hog', name: 'hog', executor: 'remote', handler: 'spin', args: [2500] });
    engine.startTask('hog');
    await expect(engine.waitForTask('hog')).rejects.toMatchObject({ code: 'ERR_WORKER_CRASHED' });
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

  it('hands back a job still running after --grace, and the retry runs on another worker', async () => {
    const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
    await watchQueue(REDIS_URL, queueName);
    const leaving = await startWorker(REDIS_URL, queueName, ['--grace', '300']);
    const { engine } = newEngine(REDIS_URL, queueName);
    engine.registerTask({
      id: 'handed',
      name: 'handed',
      executor: 'remote',
      handler: 'hangsOnFirstAttempt',
      args: ['second try'],
      maxRetries: 1,
      retryDelay: 10,
    });
    engine.startTask('handed');
    await leaving.lines.waitFor('event start handed 1');
    const staying = await startWorker(REDIS_URL, queueName);
    const retried = nextEvent(engine, isRetry('handed'));
    leaving.child.kill('SIGTERM');
    expect(await retried).toMatchObject({
      attempt: 2,
      error: { code: 'ERR_WORKER_CRASHED', message: expect.stringContaining('worker shutdown') },
    });
    await expect(engine.waitForTask('handed')).resolves.toBe('second try');
    await staying.lines.waitFor('event start handed 2');
  });
});
