/**
 * Executors that start attempts later (`deferredStart`, as a remote queue does): a dispatched attempt is PENDING
 * and holds its slot until the executor reports that a worker took it; the timeout bounds that wait and counts
 * afresh from the start. Driven here by an in-memory executor the test controls, on a simulated clock; the same
 * rules against a real Redis and real workers are in test/bullmq.
 */
import { describe, expect, it } from 'vitest';
import { TaskStatus, WorkerCrashedError, type ExecutorWaitEvent, type RetryEvent } from '../../src/index.js';
import { TestQueue } from '../fixtures/test-queue.js';
import { recordEvents, simulatedEngine, statusPath } from '../helpers.js';

function setup(concurrency = 4) {
  const queue = new TestQueue();
  const sim = simulatedEngine({ concurrency, executors: { queue } });
  const events = recordEvents(sim.engine);
  const register = (id: string, extra: Record<string, unknown> = {}) => {
    sim.engine.registerTask({ id, name: id, executor: 'queue', handler: 'work', ...extra });
    sim.engine.startTask(id);
  };
  return { ...sim, queue, events, register };
}

describe('deferred start: RUNNING from when a worker takes the attempt', () => {
  it('keeps a dispatched attempt PENDING until it is taken, then RUNNING until it completes', async () => {
    const { engine, queue, events, register, advance } = setup();
    register('a');
    await advance(0);
    expect(queue.attempts.has('a#1')).toBe(true);
    expect(engine.getTask('a')).toMatchObject({ status: 'PENDING', state: 'dispatched', attempts: 1, startedAt: undefined });
    expect(engine.getStats()).toMatchObject({ dispatched: 1, running: 0, queued: 0 });
    queue.take('a');
    expect(engine.getTask('a')).toMatchObject({ status: 'RUNNING', state: 'running', attempts: 1 });
    expect(engine.getStats()).toMatchObject({ dispatched: 0, running: 1 });
    queue.take('a'); // a second report changes nothing
    queue.finish('a', 42);
    await expect(engine.waitForTask('a')).resolves.toBe(42);
    expect(statusPath(events, 'a')).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    await engine.shutdown();
  });

  it('holds a concurrency slot from dispatch: with concurrency 1 the next task waits for the first to end', async () => {
    const { engine, queue, register, advance } = setup(1);
    register('a');
    register('b');
    await advance(0);
    expect([...queue.attempts.keys()]).toEqual(['a#1']);
    expect(engine.getStats()).toMatchObject({ dispatched: 1, queued: 1 });
    queue.take('a');
    queue.finish('a', 1);
    await engine.waitForTask('a');
    await advance(0);
    expect([...queue.attempts.keys()]).toEqual(['a#1', 'b#1']);
    queue.finish('b', 2); // settled without a reported start: it ran, so it was RUNNING first
    await expect(engine.waitForTask('b')).resolves.toBe(2);
    await engine.shutdown();
  });

  it("re-runs an attempt whose worker process died free of maxRetries (maxCrashes 1), then counts; a re-run's slot is freed like any other", async () => {
    const { engine, queue, events, register, advance } = setup(1);
    register('a', { maxRetries: 0 });
    register('b');
    await advance(0);
    queue.take('a');
    queue.fail('a', new WorkerCrashedError('the worker died', { worker: 'process' }));
    await advance(0);
    const retry = events.find((e): e is RetryEvent => e.type === 'retry');
    expect(retry).toMatchObject({ taskId: 'a', attempt: 2, delay: 0, error: { code: 'ERR_WORKER_CRASHED', worker: 'process' } });
    // Its slot went to b meanwhile (the re-run queues behind it, with no backoff).
    expect(engine.getTask('a')).toMatchObject({ state: 'queued', attempts: 1, crashes: 1 });
    queue.finish('b', 'b done');
    await engine.waitForTask('b');
    await advance(0);
    expect(engine.getTask('a')).toMatchObject({ state: 'dispatched', attempts: 2, crashes: 1 });
    expect(queue.attempts.has('a#2')).toBe(true);
    // Cancelled while dispatched: its slot is free at once (a task with a crash counted leaves `dispatched` as any other).
    engine.cancelTask('a');
    register('c');
    await advance(0);
    expect(queue.attempts.has('c#1')).toBe(true);
    expect(engine.getStats()).toMatchObject({ dispatched: 1 });
    await engine.shutdown();
  });

  it('re-runs free an attempt whose worker process died before its start was reported (still dispatched)', async () => {
    const { engine, queue, register, advance } = setup();
    register('a', { maxRetries: 0 });
    await advance(0);
    expect(engine.getTask('a').state).toBe('dispatched');
    queue.fail('a', new WorkerCrashedError('the worker died before it said it took the job', { worker: 'process' }));
    await advance(0);
    expect(engine.getTask('a')).toMatchObject({ state: 'dispatched', attempts: 2, crashes: 1 });
    queue.take('a', 2);
    queue.finish('a', 'second time', 2);
    await expect(engine.waitForTask('a')).resolves.toBe('second time');
    await engine.shutdown();
  });

  it('fails an attempt whose worker died past maxCrashes as a counted one, and a crashed pool thread (worker: thread) always', async () => {
    const { engine, queue, register, advance } = setup();
    register('a', { maxRetries: 0, maxCrashes: 0 });
    register('b', { maxRetries: 0 });
    await advance(0);
    queue.take('a');
    queue.take('b');
    queue.fail('a', new WorkerCrashedError('the worker died', { worker: 'process' }));
    queue.fail('b', new WorkerCrashedError('the thread died', { worker: 'thread' }));
    await advance(0);
    expect(engine.getTask('a')).toMatchObject({ status: 'FAILED', attempts: 1, crashes: 0, error: { code: 'ERR_WORKER_CRASHED' } });
    expect(engine.getTask('b')).toMatchObject({ status: 'FAILED', attempts: 1, crashes: 0 });
    await engine.shutdown();
  });

  it('counts the timeout from the take, not from the dispatch', async () => {
    const { engine, queue, register, advance } = setup();
    register('a', { timeout: 1000 });
    await advance(900); // waiting in the queue for 900 ms
    queue.take('a');
    await advance(900); // 1800 ms since dispatch, 900 since the take: still within its timeout
    expect(engine.getTaskStatus('a')).toBe(TaskStatus.RUNNING);
    await advance(100);
    expect(engine.getTaskStatus('a')).toBe(TaskStatus.FAILED);
    const error = engine.getTaskError('a') as Error & { code: string };
    expect(error.code).toBe('ERR_TASK_TIMEOUT');
    expect(error.message).toBe('Task `a` timed out after 1000 ms (attempt 1)');
    expect(queue.abortReason('a')).toBe(error);
    await engine.shutdown();
  });

  it('bounds the wait for a worker by the timeout: an attempt nobody takes fails (or retries) and is withdrawn', async () => {
    const { engine, queue, events, register, advance } = setup(1);
    register('a', { timeout: 500, maxRetries: 1, retryDelay: 100 });
    register('b');
    await advance(499);
    expect(engine.getTask('a')).toMatchObject({ status: 'PENDING', state: 'dispatched' });
    await advance(1);
    const first = queue.abortReason('a', 1) as Error & { code: string };
    expect(first.code).toBe('ERR_TASK_TIMEOUT');
    expect(first.message).toContain('waiting for a worker to take it');
    // Its slot is free at once: b is dispatched while a waits out its backoff.
    await advance(0);
    expect(queue.attempts.has('b#1')).toBe(true);
    expect(engine.getTask('a')).toMatchObject({ status: 'PENDING', state: 'retrying' });
    queue.take('b');
    queue.finish('b', 'b');
    await engine.waitForTask('b');
    await advance(100);
    queue.take('a', 2);
    queue.finish('a', 'second', 2);
    await expect(engine.waitForTask('a')).resolves.toBe('second');
    expect(statusPath(events, 'a')).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
    expect(events.filter((e) => e.type === 'retry' && e.taskId === 'a')).toHaveLength(1);
    await engine.shutdown();
  });

  it('cancels a dispatched attempt: the executor is told, the slot is free, a late start or result is ignored', async () => {
    const { engine, queue, events, register, advance } = setup(1);
    register('a');
    register('b');
    await advance(0);
    engine.cancelTask('a', 'not needed');
    expect(engine.getTaskStatus('a')).toBe(TaskStatus.CANCELLED);
    expect((queue.abortReason('a') as { code: string }).code).toBe('ERR_TASK_CANCELLED');
    await advance(0);
    expect(queue.attempts.has('b#1')).toBe(true);
    queue.take('a');
    expect(engine.getTaskStatus('a')).toBe(TaskStatus.CANCELLED);
    expect(statusPath(events, 'a')).toEqual(['PENDING', 'CANCELLED']);
    expect(engine.getStats()).toMatchObject({ dispatched: 1, counts: expect.objectContaining({ CANCELLED: 1 }) });
    await engine.shutdown();
  });

  it('fails (or retries) an attempt that could not be sent, without it ever being RUNNING', async () => {
    const { engine, queue, events, register, advance } = setup();
    register('a', { maxRetries: 1, retryDelay: 10 });
    await advance(0);
    queue.fail('a', new Error('could not add the job'));
    await advance(0);
    expect(engine.getTask('a')).toMatchObject({ status: 'PENDING', state: 'retrying' });
    await advance(10);
    queue.fail('a', new Error('still could not'), 2);
    await expect(engine.waitForTask('a')).rejects.toThrow('still could not');
    expect(statusPath(events, 'a')).toEqual(['PENDING', 'FAILED']);
    await engine.shutdown();
  });

  it('makes a wait for an unreachable backend visible in events and stats, until it is handed over', async () => {
    const { engine, queue, events, register, advance } = setup();
    register('a');
    await advance(0);
    const down = new Error('Redis at 127.0.0.1:6379 is unreachable');
    queue.request('a').unavailable(down);
    queue.request('a').unavailable(down); // repeated reports make one event
    expect(engine.getStats()).toMatchObject({ dispatched: 1, unavailable: 1 });
    queue.request('a').unavailable(undefined);
    expect(engine.getStats()).toMatchObject({ dispatched: 1, unavailable: 0 });
    queue.request('a').unavailable(down);
    queue.take('a'); // leaving `dispatched` clears it
    expect(engine.getStats()).toMatchObject({ dispatched: 0, unavailable: 0, running: 1 });
    const waits = events.filter((e): e is ExecutorWaitEvent => e.type === 'executor-wait');
    expect(waits.map((e) => [e.taskId, e.attempt, e.executor, e.waiting, e.error])).toEqual([
      ['a', 1, 'queue', true, down],
      ['a', 1, 'queue', false, undefined],
      ['a', 1, 'queue', true, down],
    ]);
    queue.finish('a', 'ok');
    await engine.waitForTask('a');
    await engine.shutdown();
  });

  it('is not idle while an attempt waits in the queue', async () => {
    const { engine, queue, register, advance } = setup();
    register('a');
    await advance(0);
    let idle = false;
    void engine.onIdle().then(() => (idle = true));
    await advance(0);
    expect(idle).toBe(false);
    queue.take('a');
    queue.finish('a', 1);
    await engine.waitForTask('a');
    await advance(0);
    expect(idle).toBe(true);
    await engine.shutdown();
  });

  it('refuses completeTask and failTask from outside while no worker has taken the attempt', async () => {
    const { engine, register, advance } = setup();
    register('a');
    await advance(0);
    expect(() => engine.completeTask('a', 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRANSITION' }));
    expect(() => engine.updateTaskProgress('a', 0.5)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRANSITION' }));
    await engine.shutdown();
  });
});
