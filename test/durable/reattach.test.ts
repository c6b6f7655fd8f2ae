/**
 * A durable engine whose executor's work outlives the process (`deferredStart`, a remote queue): after a crash,
 * `restore()` hands an attempt that was dispatched or RUNNING back to the executor as the same attempt, marked
 * `resumed`, instead of counting it as interrupted; `shutdown({ mode: 'suspend' })` writes it back uncounted.
 * (The BullMQ executor's side of re-attaching, against a real Redis, is in test/bullmq.)
 */
import { describe, expect, it } from 'vitest';
import { TestQueue } from '../fixtures/test-queue.js';
import { flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

function remoteEngine(path: string, concurrency = 4) {
  const queue = new TestQueue();
  const harness = durableEngine(path, { concurrency, executors: { remote: queue } });
  return { ...harness, queue };
}

describe('restore() re-attaches to remote attempts in flight', () => {
  it('hands a dispatched and a RUNNING attempt back to the executor as the same attempts, resumed', async () => {
    const path = tempDbPath();
    const first = remoteEngine(path);
    for (const id of ['queued-remotely', 'running-remotely', 'done']) {
      first.engine.registerTask({ id, name: id, executor: 'remote', handler: 'render', timeout: 60_000, maxRetries: 0 });
      first.engine.startTask(id);
    }
    await flush();
    first.queue.take('running-remotely');
    first.queue.take('done');
    first.queue.finish('done', 'finished before the crash');
    await first.engine.waitForTask('done');
    await flush();
    expect(first.store.lastState('queued-remotely')).toBe('dispatched');
    expect(first.store.lastState('running-remotely')).toBe('running');
    first.crash();

    const second = remoteEngine(path, 1);
    const report = await second.engine.restore();
    expect(report).toMatchObject({ restored: 3, finished: 1, resumed: 2, reattached: 2, interrupted: 0 });
    await flush();
    // Both are handed over again at once, even beyond this engine's concurrency of 1: they are in flight already.
    for (const id of ['queued-remotely', 'running-remotely']) {
      expect(second.queue.request(id).resumed).toBe(true);
      expect(second.engine.getTask(id)).toMatchObject({ status: 'PENDING', state: 'dispatched', attempts: 1 });
    }
    expect(second.engine.getStats()).toMatchObject({ dispatched: 2 });
    second.queue.take('running-remotely');
    second.queue.finish('running-remotely', 'result of the attempt started by the first process');
    await expect(second.engine.waitForTask('running-remotely')).resolves.toBe('result of the attempt started by the first process');
    second.queue.take('queued-remotely');
    second.queue.fail('queued-remotely', new Error('render failed'));
    await expect(second.engine.waitForTask('queued-remotely')).rejects.toThrow('render failed');
    expect(second.engine.getTask('queued-remotely')).toMatchObject({ status: 'FAILED', attempts: 1 });
    await second.engine.shutdown();
  });

  it('counts a re-attached attempt under its limiter key: a new task of that key waits for it', async () => {
    const path = tempDbPath();
    const limits = { gpu: { concurrency: 1 } };
    const first = durableEngine(path, { executors: { remote: new TestQueue() }, limits });
    first.engine.registerTask({ id: 'in-flight', name: 'in-flight', executor: 'remote', handler: 'render', limits: { gpu: 'card-0' } });
    first.engine.startTask('in-flight');
    await flush();
    first.crash();

    const queue = new TestQueue();
    const second = durableEngine(path, { executors: { remote: queue }, limits });
    await second.engine.restore();
    await flush();
    second.engine.registerTask({ id: 'next', name: 'next', executor: 'remote', handler: 'render', limits: { gpu: 'card-0' } });
    second.engine.startTask('next');
    await flush();
    expect(second.engine.getTask('next').waitingOn?.limit).toMatchObject({ limiter: 'gpu', key: 'card-0' });
    queue.take('in-flight');
    queue.finish('in-flight', 'done');
    await second.engine.waitForTask('in-flight');
    await flush();
    expect(second.engine.getTask('next')).toMatchObject({ state: 'dispatched', waitingOn: undefined });
    await second.engine.shutdown();
  });

  it('suspends a dispatched attempt as not started: the next process sends it anew, uncounted', async () => {
    const path = tempDbPath();
    const first = remoteEngine(path);
    first.engine.registerTask({ id: 'a', name: 'a', executor: 'remote', handler: 'render' });
    first.engine.startTask('a');
    await flush();
    await first.engine.shutdown({ mode: 'suspend' });
    expect((first.queue.abortReason('a') as { code: string }).code).toBe('ERR_ENGINE_SHUT_DOWN');
    expect(first.store.lastState('a')).toBe('queued');

    const second = remoteEngine(path);
    expect(await second.engine.restore()).toMatchObject({ resumed: 1, reattached: 0 });
    await flush();
    expect(second.queue.request('a').resumed).toBe(false);
    expect(second.queue.request('a').attempt).toBe(1);
    second.queue.take('a');
    second.queue.finish('a', 'ok');
    await expect(second.engine.waitForTask('a')).resolves.toBe('ok');
    await second.engine.shutdown();
  });
});
