/**
 * Long and repeated work in the remote runtime (docs/long-running.md): heartbeats from a handler in a real
 * `taskchart worker` process (they ride on job progress updates), the checkpoint handed to the next attempt in
 * the job data, the stall watch against a handler that stops beating, the results cache and deadline alerts;
 * against the Redis at 127.0.0.1:6379 (dist/, so `npm run build` first). Worker deaths and free re-runs are in
 * crash.test.ts. Without Redis these tests are skipped, except under CI.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jobIdFor } from '../../src/bullmq/index.js';
import type { DeadlineEvent, RetryEvent, StatusEvent, TaskEvent } from '../../src/index.js';
import { REDIS_URL, probeRedis } from './harness.js';
import { cleanupAfterEach, isStatus, newEngine, nextEvent, startWorker, stopProcess, watchQueue } from './processes.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);
if (unreachable !== undefined) console.log(`test/bullmq/long-running skipped: no Redis at ${REDIS_URL} (${unreachable})`);

cleanupAfterEach();

const HANDLERS = fileURLToPath(new URL('../fixtures/bullmq-long-running-handlers.mjs', import.meta.url));

const isRetry =
  (taskId: string) =>
  (event: TaskEvent): event is RetryEvent =>
    event.type === 'retry' && event.taskId === taskId;

/** A fresh queue watched by the test, one worker process with the long-running handlers, and an engine sending to it. */
async function remoteWorld() {
  const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
  const { queue } = await watchQueue(REDIS_URL, queueName);
  const worker = await startWorker(REDIS_URL, queueName, [], HANDLERS);
  const { engine, events } = newEngine(REDIS_URL, queueName);
  return { queue, worker, engine, events };
}

describe.skipIf(unreachable !== undefined)('remote heartbeats', () => {
  it('hands the last heartbeat details of a failed remote attempt to the next one as ctx.lastHeartbeat, in its job data', async () => {
    const { queue, engine, events } = await remoteWorld();
    engine.registerTask({
      id: 'crawl',
      name: 'crawl',
      executor: 'remote',
      handler: 'checkpointThenFail',
      args: [3],
      maxRetries: 1,
      retryDelay: 10,
    });
    engine.startTask('crawl');
    // The detail-less beat after page 3 keeps the checkpoint; the first attempt was handed none.
    await expect(engine.waitForTask('crawl')).resolves.toEqual({ attempt: 2, lastHeartbeat: { page: 3 } });
    expect(events.find(isRetry('crawl'))?.error).toMatchObject({ message: 'attempt 1 saw lastHeartbeat undefined' });
    expect((await queue.getJob(jobIdFor('crawl', 2)))?.data).toMatchObject({ lastHeartbeat: { page: 3 } });
    expect((await queue.getJob(jobIdFor('crawl', 1)))?.data).not.toHaveProperty('lastHeartbeat');
  });

  it('moves getTask(id).lastHeartbeatAt when a heartbeat from the worker process arrives', async () => {
    const { engine } = await remoteWorld();
    engine.registerTask({
      id: 'late beat',
      name: 'late beat',
      executor: 'remote',
      handler: 'beatAfter',
      args: [400],
      heartbeatTimeout: 10_000,
    });
    const running = nextEvent(engine, isStatus('late beat', 'RUNNING'));
    engine.startTask('late beat');
    await running;
    const { startedAt, lastHeartbeatAt: atStart } = engine.getTask('late beat');
    expect(atStart).toBe(startedAt); // the watch counts from when a worker took the job
    await expect(engine.waitForTask('late beat')).resolves.toBe('beaten');
    const { lastHeartbeatAt, finishedAt } = engine.getTask('late beat');
    expect(lastHeartbeatAt).toBeGreaterThanOrEqual((startedAt as number) + 200); // the handler beat 400 ms after it began
    expect(lastHeartbeatAt).toBeLessThanOrEqual(finishedAt as number);
  });

  it('refuses heartbeat details JSON would change or drop with ERR_INVALID_OPTION inside the handler', async () => {
    const { engine } = await remoteWorld();
    engine.registerTask({ id: 'odd details', name: 'odd details', executor: 'remote', handler: 'nonJsonHeartbeats' });
    engine.startTask('odd details');
    const refusal = { name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION', field: 'details' };
    await expect(engine.waitForTask('odd details')).resolves.toEqual([refusal, refusal, refusal]);
  });
});

describe.skipIf(unreachable !== undefined)('remote heartbeatTimeout', () => {
  it('stalls a handler that stops beating, aborts its signal in the worker, and retries it with its checkpoint', async () => {
    const { worker, engine, events } = await remoteWorld();
    engine.registerTask({
      id: 'stuck',
      name: 'stuck',
      executor: 'remote',
      handler: 'checkpointThenHang',
      args: [7],
      heartbeatTimeout: 600,
      maxRetries: 1,
      retryDelay: 10,
    });
    const retried = nextEvent(engine, isRetry('stuck'));
    engine.startTask('stuck');
    const retry = await retried;
    expect(retry).toMatchObject({ attempt: 2, error: { code: 'ERR_TASK_STALLED', attempt: 1, heartbeatTimeout: 600 } });
    const running = events.find((e): e is StatusEvent => e.type === 'status' && e.taskId === 'stuck' && e.status === 'RUNNING');
    expect(retry.timestamp - (running?.timestamp as number)).toBeGreaterThanOrEqual(600);
    const abortedAt = await worker.lines.waitFor('event aborted stuck 1');
    expect(abortedAt - retry.timestamp).toBeLessThan(1000);
    await expect(engine.waitForTask('stuck')).resolves.toEqual({ attempt: 2, lastHeartbeat: { cursor: 7 } });
    expect(engine.getStats().stalledAttempts).toBe(1);
  });

  it('fails a stalled remote task with ERR_TASK_STALLED when no retry is left', async () => {
    const { worker, engine } = await remoteWorld();
    engine.registerTask({ id: 'hung', name: 'hung', executor: 'remote', handler: 'hangsFor', args: [1, 'never'], heartbeatTimeout: 500 });
    engine.startTask('hung');
    await expect(engine.waitForTask('hung')).rejects.toMatchObject({ name: 'TaskStalledError', code: 'ERR_TASK_STALLED' });
    await worker.lines.waitFor('event aborted hung 1');
    expect(engine.getTask('hung')).toMatchObject({ status: 'FAILED', attempts: 1 });
  });
});

describe.skipIf(unreachable !== undefined)('remote results cache', () => {
  it('completes a second identical remote task from the cache, without a job for a worker', async () => {
    const { queue, worker, engine, events } = await remoteWorld();
    const spec = { name: 'echo', executor: 'remote', handler: 'echo', args: [{ n: 1 }], cache: true };
    engine.registerTask({ ...spec, id: 'first' });
    engine.startTask('first');
    const result = await engine.waitForTask('first');
    expect(result).toEqual({ value: { n: 1 }, attempt: 1, name: 'echo' });

    engine.registerTask({ ...spec, id: 'second' });
    engine.startTask('second');
    await expect(engine.waitForTask('second')).resolves.toEqual(result);
    expect(engine.getTask('second')).toMatchObject({ status: 'COMPLETED', cached: true, attempts: 0 });
    const completed = events.find((e): e is StatusEvent => e.type === 'status' && e.taskId === 'second' && e.status === 'COMPLETED');
    expect(completed).toMatchObject({ previous: 'PENDING', cached: true });
    expect(await queue.getJobState(jobIdFor('second', 1))).toBe('unknown'); // never sent

    engine.registerTask({ ...spec, id: 'other', args: [{ n: 2 }] }); // other args: another key
    engine.startTask('other');
    await expect(engine.waitForTask('other')).resolves.toMatchObject({ value: { n: 2 } });
    await stopProcess(worker.child); // every line it printed is read
    expect(worker.lines.texts().filter((line) => line.startsWith('event start'))).toEqual(['event start first 1', 'event start other 1']);
  });
});

describe.skipIf(unreachable !== undefined)('remote deadlines', () => {
  it('raises a deadline event for a remote task still running at its deadline, and the task still completes', async () => {
    const { engine, events } = await remoteWorld();
    engine.registerTask({ id: 'slow', name: 'slow', executor: 'remote', handler: 'sleep', args: [800, 'slept'], deadline: 200 });
    engine.registerTask({ id: 'quick', name: 'quick', executor: 'remote', handler: 'echo', args: [1], deadline: 10_000 });
    const missed = nextEvent(engine, (e): e is DeadlineEvent => e.type === 'deadline');
    const startedAt = Date.now();
    engine.startTask('slow');
    engine.startTask('quick');
    const alert = await missed;
    expect(alert).toMatchObject({ taskId: 'slow', deadline: 200 });
    expect(alert.timestamp - startedAt).toBeGreaterThanOrEqual(200);
    await expect(engine.waitForTask('slow')).resolves.toBe('slept');
    await expect(engine.waitForTask('quick')).resolves.toMatchObject({ value: 1 });
    expect(engine.getTask('slow')).toMatchObject({ status: 'COMPLETED', deadlineMissedAt: alert.timestamp });
    expect(engine.getTask('quick').deadlineMissedAt).toBeUndefined();
    expect(events.filter((e) => e.type === 'deadline')).toHaveLength(1);
    expect(engine.getStats().deadlinesMissed).toBe(1);
  });
});
