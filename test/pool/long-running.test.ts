/**
 * Long and repeated work in the pool runtime (docs/long-running.md): heartbeats and checkpoints from a worker
 * thread, the stall watch (`heartbeatTimeout`) against threads that stop beating, the results cache (`cache`) for
 * module tasks, and a crashed thread still counting as a failed attempt. Stall timing runs on a simulated clock:
 * the threads are real, the engine's time moves only when the test says. The worker entry runs from dist/
 * (`npm run build` first).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskEngine, ofType, type RetryEvent, type StatusEvent, type TaskEvent } from '../../src/index.js';
import { recordEvents, statusPath } from '../helpers.js';
import { poolEngine, simulatedPoolEngine } from './engines.js';

const longRunning = new URL('../fixtures/pool-long-running.mjs', import.meta.url);
const tasks = new URL('../fixtures/pool-tasks.mjs', import.meta.url);
const files: string[] = [];

/** A file path of its own for this test, removed afterwards. */
function scratchFile(): string {
  const path = join(tmpdir(), `taskchart-pool-cache-${randomUUID()}.log`);
  files.push(path);
  return path;
}

/** `Atomics.waitAsync` (Node 16+; typed only from lib es2024, above this project's target). */
const waitAsync = (Atomics as unknown as { waitAsync(view: Int32Array, index: number, value: number): { value: Promise<string> | string } })
  .waitAsync;
/** Resolves with `view[index]` once a worker has stored a non-zero value there, without blocking the event loop. */
async function untilSet(view: Int32Array, index: number): Promise<number> {
  while (Atomics.load(view, index) === 0) await waitAsync(view, index, 0).value;
  return Atomics.load(view, index);
}

/** Lets the worker blocked on flags[0] go on (to its step `step`). */
function release(view: Int32Array, step: number): void {
  Atomics.store(view, 0, step);
  Atomics.notify(view, 0);
}

/**
 * Resolves once the engine has taken a heartbeat at simulated time `at`. A heartbeat raises no event of its own,
 * so this reads `getTask(id).lastHeartbeatAt` until the worker's message has arrived.
 */
async function untilHeartbeatAt(engine: TaskEngine, id: string, at: number): Promise<void> {
  await vi.waitFor(() => expect(engine.getTask(id).lastHeartbeatAt).toBe(at), { timeout: 10_000, interval: 2 });
}

const isRetryOf =
  (taskId: string) =>
  (event: TaskEvent): event is RetryEvent =>
    event.type === 'retry' && event.taskId === taskId;

afterEach(() => {
  for (const path of files.splice(0)) rmSync(path, { force: true });
});

describe('pool runtime: heartbeats and checkpoints', () => {
  it('hands the last heartbeat details of a failed attempt to the next attempt as ctx.lastHeartbeat', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const id = engine.registerTask({
      name: 'crawl',
      module: longRunning,
      export: 'checkpointThenFail',
      args: [3],
      maxRetries: 1,
      retryDelay: 1,
    });
    engine.startTask(id);
    // The detail-less beat after page 3 keeps the checkpoint; the first attempt was handed none.
    await expect(engine.waitForTask(id)).resolves.toEqual({ attempt: 2, lastHeartbeat: { page: 3 } });
    const retry = events.find(isRetryOf(id));
    expect(retry?.error).toMatchObject({ message: 'attempt 1 saw lastHeartbeat undefined' });
    expect(engine.getTask(id).attempts).toBe(2);
  });

  it('moves getTask(id).lastHeartbeatAt with each heartbeat, and an attempt that beats outlives its heartbeatTimeout', async () => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const flags = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const view = new Int32Array(flags);
    const id = engine.registerTask({
      name: 'beating',
      module: longRunning,
      export: 'beatWhenReleased',
      args: [flags, 5],
      heartbeatTimeout: 200,
    });
    engine.startTask(id);
    expect(engine.getTask(id)).toMatchObject({ status: 'RUNNING', lastHeartbeatAt: 0 }); // the watch counts from the start
    for (let beat = 1; beat <= 5; beat++) {
      await advance(150); // less than heartbeatTimeout since the last beat, 750 ms in all
      expect(engine.getTaskStatus(id)).toBe('RUNNING');
      release(view, beat);
      await untilHeartbeatAt(engine, id, 150 * beat);
    }
    await expect(engine.waitForTask(id)).resolves.toEqual({ beats: 5 });
    expect(engine.getTask(id)).toMatchObject({ status: 'COMPLETED', attempts: 1, lastHeartbeatAt: 750 });
    expect(events.filter(isRetryOf(id))).toEqual([]);
    expect(engine.getStats().stalledAttempts).toBe(0);
  });

  it('counts ctx.progress from a worker thread as a heartbeat', async () => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const flags = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const view = new Int32Array(flags);
    const id = engine.registerTask({
      name: 'progressing',
      module: longRunning,
      export: 'progressWhenReleased',
      args: [flags, 4],
      heartbeatTimeout: 200,
    });
    engine.startTask(id);
    for (let step = 1; step <= 4; step++) {
      const reported = firstValueFrom(
        engine.events.pipe(
          ofType('progress'),
          filter((e) => e.taskId === id && e.message === `step ${step}`),
        ),
      );
      await advance(150);
      expect(engine.getTaskStatus(id)).toBe('RUNNING');
      release(view, step);
      await reported;
      expect(engine.getTask(id).lastHeartbeatAt).toBe(150 * step);
    }
    await expect(engine.waitForTask(id)).resolves.toEqual({ steps: 4 });
    expect(engine.getTask(id)).toMatchObject({ attempts: 1 });
  });

  it.each([
    ['with', 200],
    ['without', undefined],
  ])('reports the running attempt’s start as lastHeartbeatAt until it beats, %s heartbeatTimeout', async (_, heartbeatTimeout) => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const flags = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const id = engine.registerTask({
      name: 'resumed',
      module: longRunning,
      export: 'beatFailThenWait',
      args: [flags],
      maxRetries: 1,
      retryDelay: 1000,
      ...(heartbeatTimeout !== undefined && { heartbeatTimeout }),
    });
    const retried = firstValueFrom(engine.events.pipe(filter(isRetryOf(id))));
    engine.startTask(id);
    await retried;
    expect(engine.getTask(id).lastHeartbeatAt).toBe(0); // attempt 1 beat at 0
    await advance(1000);
    // Attempt 2 runs from 1000 and has not beaten: docs/long-running.md, "when the running (or last) attempt last
    // sent a heartbeat or progress (its start until then)".
    expect(engine.getTask(id)).toMatchObject({ status: 'RUNNING', attempts: 2, lastHeartbeatAt: 1000 });
    release(new Int32Array(flags), 1);
    await expect(engine.waitForTask(id)).resolves.toEqual({ attempt: 2, lastHeartbeat: { page: 1 } });
  });

  it('refuses heartbeat details that cannot be cloned with ERR_INVALID_OPTION inside the task, keeping the checkpoint', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const id = engine.registerTask({ name: 'refused', module: longRunning, export: 'uncloneableHeartbeats', maxRetries: 1, retryDelay: 1 });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toEqual({ lastHeartbeat: { page: 1 } });
    const refusal = { name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION', field: 'details' };
    const { message } = events.find(isRetryOf(id))?.error as Error;
    expect(JSON.parse(message)).toEqual([refusal, refusal]);
  });
});

describe('pool runtime: heartbeatTimeout', () => {
  it('stalls a thread looping without beats, terminates it, and retries with the checkpoint on a fresh thread', async () => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const flags = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT); // [released, looping thread id]
    const view = new Int32Array(flags);
    const id = engine.registerTask({
      name: 'stuck',
      module: longRunning,
      export: 'checkpointThenLoop',
      args: [flags, 7],
      heartbeatTimeout: 200,
      maxRetries: 1,
      retryDelay: 10,
    });
    const next = engine.registerTask({ name: 'next', module: tasks, export: 'whereAmI' });
    engine.startTask(id);
    engine.startTask(next);
    await advance(100);
    release(view, 1);
    const loopingThread = await untilSet(view, 1);
    await untilHeartbeatAt(engine, id, 100);
    await advance(150); // 250: past heartbeatTimeout from the start, not from the beat
    expect(engine.getTaskStatus(id)).toBe('RUNNING');
    await advance(50); // 300: heartbeatTimeout after the beat
    expect(engine.getTask(id)).toMatchObject({ status: 'PENDING', state: 'retrying', attempts: 1 });
    const retry = events.find(isRetryOf(id));
    expect(retry).toMatchObject({ attempt: 2, delay: 10, timestamp: 300, error: { code: 'ERR_TASK_STALLED', attempt: 1 } });
    await advance(10);
    // With one worker allowed, the retry and the next task can only run once the looping thread is gone.
    const rerun = await engine.waitForTask<{ attempt: number; lastHeartbeat: unknown; threadId: number }>(id);
    expect(rerun).toMatchObject({ attempt: 2, lastHeartbeat: { cursor: 7 } });
    expect(rerun.threadId).not.toBe(loopingThread);
    await expect(engine.waitForTask(next)).resolves.toMatchObject({ isMainThread: false });
    expect(engine.getStats().stalledAttempts).toBe(1);
  });

  it('fails a stalled attempt with ERR_TASK_STALLED when no retry is left, and the pool runs the next task', async () => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const id = engine.registerTask({ name: 'hung', module: longRunning, export: 'hangWithoutBeating', heartbeatTimeout: 200 });
    const next = engine.registerTask({ name: 'next', module: tasks, export: 'whereAmI' });
    engine.startTask(id);
    engine.startTask(next);
    await advance(199);
    expect(engine.getTaskStatus(id)).toBe('RUNNING');
    await advance(1);
    expect(engine.getTaskStatus(id)).toBe('FAILED');
    const error = await engine.waitForTask(id).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TaskStalledError', code: 'ERR_TASK_STALLED', heartbeatTimeout: 200, attempt: 1 });
    expect(statusPath(events, id)).toEqual(['PENDING', 'RUNNING', 'FAILED']);
    await expect(engine.waitForTask(next)).resolves.toMatchObject({ isMainThread: false });
  });

  it('retries stalled attempts only up to maxRetries, each on a fresh thread', async () => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const id = engine.registerTask({
      name: 'hung twice',
      module: longRunning,
      export: 'hangWithoutBeating',
      heartbeatTimeout: 100,
      maxRetries: 1,
      retryDelay: 5,
    });
    engine.startTask(id);
    await advance(100);
    expect(events.filter(isRetryOf(id))).toMatchObject([{ attempt: 2, error: { code: 'ERR_TASK_STALLED' } }]);
    await advance(5);
    await vi.waitFor(() => expect(engine.getTaskStatus(id)).toBe('RUNNING'), { timeout: 10_000, interval: 2 });
    await advance(100);
    await expect(engine.waitForTask(id)).rejects.toMatchObject({ code: 'ERR_TASK_STALLED', attempt: 2 });
    expect(engine.getTask(id).attempts).toBe(2);
    expect(engine.getStats().stalledAttempts).toBe(2);
  });
});

describe('pool runtime: the results cache', () => {
  it('completes a second task with the same module, export and args from the cache, without running it in a thread', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const runs = scratchFile();
    const spec = { name: 'double', module: longRunning, export: 'countedRun', args: [runs, 21], cache: true };
    const first = engine.registerTask({ ...spec, id: 'first' });
    engine.startTask(first);
    await expect(engine.waitForTask(first)).resolves.toEqual({ doubled: 42 });

    const second = engine.registerTask({ ...spec, id: 'second' });
    engine.startTask(second);
    await expect(engine.waitForTask(second)).resolves.toEqual({ doubled: 42 });
    expect(engine.getTask(second)).toMatchObject({ status: 'COMPLETED', cached: true, attempts: 0, startedAt: undefined });
    expect(engine.getTask(first)).toMatchObject({ cached: false, attempts: 1 });
    const completed = (taskId: string) =>
      events.find((e): e is StatusEvent => e.type === 'status' && e.taskId === taskId && e.status === 'COMPLETED');
    expect(completed(second)?.cached).toBe(true);
    expect(completed(first)).not.toHaveProperty('cached');
    expect(statusPath(events, second)).toEqual(['PENDING', 'COMPLETED']);

    const other = engine.registerTask({ ...spec, id: 'other', args: [runs, 22] }); // other args: another key
    engine.startTask(other);
    await expect(engine.waitForTask(other)).resolves.toEqual({ doubled: 44 });
    expect(readFileSync(runs, 'utf8').split('\n').filter(Boolean)).toEqual(['first', 'other']);
    expect(engine.getStats().cacheHits).toBe(1);
  });
});

describe('pool runtime: a crashed thread', () => {
  it('counts as a failed attempt: with maxRetries 0 the task fails with ERR_WORKER_CRASHED, no free re-run', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const id = engine.registerTask({ name: 'exits', module: tasks, export: 'exitProcess' });
    engine.startTask(id);
    const error = await engine.waitForTask(id).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'WorkerCrashedError', code: 'ERR_WORKER_CRASHED', worker: 'thread' });
    expect(engine.getTask(id)).toMatchObject({ status: 'FAILED', attempts: 1, crashes: 0 });
    expect(events.filter(isRetryOf(id))).toEqual([]);
  });

  it('is retried with its backoff, counted against maxRetries and not as a crash', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const id = engine.registerTask({ name: 'exits once', module: tasks, export: 'exitOnFirstAttempt', maxRetries: 1, retryDelay: 5 });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toEqual(expect.any(Number));
    expect(events.filter(isRetryOf(id))).toMatchObject([{ attempt: 2, delay: 5, error: { code: 'ERR_WORKER_CRASHED', worker: 'thread' } }]);
    expect(engine.getTask(id)).toMatchObject({ status: 'COMPLETED', attempts: 2, crashes: 0 });
  });
});
