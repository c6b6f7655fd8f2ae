import { describe, expect, it } from 'vitest';
import { NonRetryableError, TaskTimeoutError, type RetryEvent } from '../../src/index.js';
import { deferred, recordEvents, simulatedEngine, statusPath } from '../helpers.js';

describe('retries with exponential backoff (simulated clock)', () => {
  it('waits retryDelay * 2^(n-1) before retry n and reports the last error', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    const starts: number[] = [];
    let attempt = 0;
    const id = engine.registerTask({
      name: 'flaky',
      maxRetries: 3,
      retryDelay: 100,
      fn: async (ctx) => {
        starts.push(ctx.attempt);
        throw new Error(`attempt ${++attempt} failed`);
      },
    });
    engine.startTask(id);
    const outcome = engine.waitForTask(id).catch((e: Error) => e);
    await advance(0);
    expect(starts).toEqual([1]);
    await advance(99);
    expect(starts).toEqual([1]);
    await advance(1);
    expect(starts).toEqual([1, 2]);
    await advance(199);
    expect(starts).toEqual([1, 2]);
    await advance(1);
    expect(starts).toEqual([1, 2, 3]);
    await advance(400);
    expect(starts).toEqual([1, 2, 3, 4]);
    expect(((await outcome) as Error).message).toBe('attempt 4 failed');
    const retries = events.filter((e): e is RetryEvent => e.type === 'retry');
    expect(retries.map((e) => [e.attempt, e.delay])).toEqual([
      [2, 100],
      [3, 200],
      [4, 400],
    ]);
    expect((retries[0]?.error as Error).message).toBe('attempt 1 failed');
    expect(engine.getTask(id).attempts).toBe(4);
  });

  it('caps the delay at maxRetryDelay', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    const id = engine.registerTask({
      name: 'capped',
      maxRetries: 3,
      retryDelay: 100,
      maxRetryDelay: 150,
      fn: () => Promise.reject(new Error('x')),
    });
    engine.startTask(id);
    for (let i = 0; i < 5; i++) await advance(150);
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as RetryEvent).delay)).toEqual([100, 150, 150]);
    expect(engine.getTaskStatus(id)).toBe('FAILED');
  });

  it('caps every delay at what a timer can wait (2^31 - 1 ms) and refuses a longer timeout', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    const id = engine.registerTask({
      name: 'huge backoff',
      maxRetries: 1,
      retryDelay: 2 ** 31 - 1,
      maxRetryDelay: Infinity,
      fn: () => Promise.reject(new Error('x')),
    });
    engine.startTask(id);
    await advance(1);
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as RetryEvent).delay)).toEqual([2 ** 31 - 1]);
    await advance(1000);
    expect(engine.getTaskStatus(id)).toBe('PENDING'); // still in backoff, not fired early
    expect(() => engine.registerTask({ name: 'long', timeout: 30 * 86_400_000, fn: () => 1 })).toThrow(
      /`timeout` to be a finite number > 0 and <= 2147483647/,
    );
    expect(() => engine.registerTask({ name: 'long', retryDelay: 3e9, fn: () => 1 })).toThrow(/`retryDelay`.*<= 2147483647/);
  });

  it('holds no slot during backoff: another task runs meanwhile', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 1 });
    let tries = 0;
    const flaky = engine.registerTask({
      name: 'flaky',
      maxRetries: 1,
      retryDelay: 1000,
      fn: async () => (++tries === 1 ? Promise.reject(new Error('once')) : 'ok'),
    });
    const other = engine.registerTask({ name: 'other', fn: async () => 'other' });
    engine.startTask(flaky);
    engine.startTask(other);
    await advance(0);
    expect(engine.getTaskStatus(flaky)).toBe('PENDING');
    expect(engine.getTaskStatus(other)).toBe('COMPLETED');
    await advance(1000);
    expect(engine.getTaskStatus(flaky)).toBe('COMPLETED');
  });

  it('does not retry a NonRetryableError', async () => {
    const { engine, advance } = simulatedEngine();
    const id = engine.registerTask({ name: 'fatal', maxRetries: 5, fn: () => Promise.reject(new NonRetryableError('bad input')) });
    engine.startTask(id);
    await advance(0);
    expect(engine.getTaskStatus(id)).toBe('FAILED');
    expect(engine.getTask(id).attempts).toBe(1);
    expect(engine.getTaskError(id)).toBeInstanceOf(NonRetryableError);
  });

  it('cancels a task waiting out its backoff', async () => {
    const { engine, advance, clock } = simulatedEngine();
    const id = engine.registerTask({ name: 'flaky', maxRetries: 2, retryDelay: 5000, fn: () => Promise.reject(new Error('x')) });
    engine.startTask(id);
    await advance(0);
    engine.cancelTask(id);
    expect(engine.getTaskStatus(id)).toBe('CANCELLED');
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(0);
  });
});

describe('per-attempt timeout (simulated clock)', () => {
  it('aborts the signal with a TaskTimeoutError, frees the slot at once, and counts as a failed attempt', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 1 });
    const signals: AbortSignal[] = [];
    const slow = engine.registerTask({
      name: 'slow',
      timeout: 50,
      maxRetries: 1,
      retryDelay: 10,
      fn: (ctx) => {
        signals.push(ctx.signal);
        return new Promise(() => {}); // ignores its signal: abandoned
      },
    });
    const next = engine.registerTask({ name: 'next', fn: () => 'next ran' });
    engine.startTask(slow);
    engine.startTask(next);
    await advance(49);
    expect(engine.getTaskStatus(next)).toBe('PENDING');
    await advance(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBeInstanceOf(TaskTimeoutError);
    expect(engine.getTaskStatus(next)).toBe('COMPLETED');
    await advance(10);
    expect(signals).toHaveLength(2);
    await advance(50);
    expect(engine.getTaskStatus(slow)).toBe('FAILED');
    expect(engine.getTaskError(slow)).toMatchObject({ code: 'ERR_TASK_TIMEOUT', attempt: 2, timeout: 50 });
  });

  it('does not abort the signal on normal completion or failure', async () => {
    const { engine, advance } = simulatedEngine();
    const signals: AbortSignal[] = [];
    const ok = engine.registerTask({ name: 'ok', timeout: 100, fn: (ctx) => void signals.push(ctx.signal) });
    const bad = engine.registerTask({
      name: 'bad',
      timeout: 100,
      fn: (ctx) => {
        signals.push(ctx.signal);
        throw new Error('x');
      },
    });
    engine.startTask(ok);
    engine.startTask(bad);
    await advance(500);
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
  });

  it('aborts the signal with a TaskTimeoutError when the last attempt times out', async () => {
    const { engine, advance } = simulatedEngine();
    let signal: AbortSignal | undefined;
    const id = engine.registerTask({
      name: 'slow',
      timeout: 50,
      maxRetries: 0,
      fn: (ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
    });
    engine.startTask(id);
    await advance(49);
    expect(signal?.aborted).toBe(false);
    await advance(1);
    expect(engine.getTaskStatus(id)).toBe('FAILED');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(TaskTimeoutError);
    expect(signal?.reason).toMatchObject({ code: 'ERR_TASK_TIMEOUT', attempt: 1, timeout: 50 });
    expect(signal?.reason).toBe(engine.getTaskError(id));
  });

  it('retries a timed-out external task: RUNNING again after the backoff, then completeTask completes it', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    const id = engine.registerTask({ name: 'external', timeout: 50, maxRetries: 1, retryDelay: 100 });
    engine.startTask(id);
    expect(engine.getTaskStatus(id)).toBe('RUNNING');
    await advance(50);
    expect(engine.getTaskStatus(id)).toBe('PENDING');
    const retries = events.filter((e): e is RetryEvent => e.type === 'retry');
    expect(retries).toMatchObject([{ taskId: id, attempt: 2, delay: 100, error: { code: 'ERR_TASK_TIMEOUT', attempt: 1 } }]);
    expect(() => engine.completeTask(id, 'too early')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRANSITION' }));
    await advance(99);
    expect(engine.getTaskStatus(id)).toBe('PENDING');
    await advance(1);
    expect(engine.getTaskStatus(id)).toBe('RUNNING');
    expect(engine.getTask(id).attempts).toBe(2);
    engine.completeTask(id, 'second try');
    expect(engine.getTaskStatus(id)).toBe('COMPLETED');
    await expect(engine.waitForTask(id)).resolves.toBe('second try');
    expect(statusPath(events, id)).toEqual(['PENDING', 'RUNNING', 'PENDING', 'RUNNING', 'COMPLETED']);
  });
});

describe('cancel and outside completion of a running task', () => {
  it('aborts the signal, frees the slot at once and ignores the late result', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 1 });
    const events = recordEvents(engine);
    const late = deferred<string>();
    let signal: AbortSignal | undefined;
    const id = engine.registerTask({
      name: 'running',
      fn: (ctx) => {
        signal = ctx.signal;
        return late.promise;
      },
    });
    const next = engine.registerTask({ name: 'next' });
    engine.startTask(id);
    engine.startTask(next);
    engine.cancelTask(id, 'user request');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toMatchObject({ code: 'ERR_TASK_CANCELLED' });
    expect(engine.getTaskStatus(next)).toBe('RUNNING');
    late.resolve('ignored');
    await advance(0);
    expect(engine.getTaskResult(id)).toBeUndefined();
    expect(statusPath(events, id)).toEqual(['PENDING', 'RUNNING', 'CANCELLED']);
  });

  it('completeTask aborts a running function and keeps the given result', async () => {
    const { engine, advance } = simulatedEngine();
    const late = deferred<string>();
    let signal: AbortSignal | undefined;
    const id = engine.registerTask({
      name: 'overridden',
      fn: (ctx) => {
        signal = ctx.signal;
        return late.promise;
      },
    });
    engine.startTask(id);
    engine.completeTask(id, 'from outside');
    expect(signal?.aborted).toBe(true);
    late.resolve('from inside');
    await advance(0);
    expect(engine.getTaskResult(id)).toBe('from outside');
  });

  it('failTask aborts a running function with the given error as the signal reason', async () => {
    const { engine, advance } = simulatedEngine();
    const late = deferred<string>();
    let signal: AbortSignal | undefined;
    const id = engine.registerTask({
      name: 'failed from outside',
      maxRetries: 2,
      fn: (ctx) => {
        signal = ctx.signal;
        return late.promise;
      },
    });
    engine.startTask(id);
    const reason = new Error('operator says no');
    engine.failTask(id, reason);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(reason);
    late.resolve('from inside');
    await advance(0);
    expect(engine.getTaskStatus(id)).toBe('FAILED');
    expect(engine.getTaskError(id)).toBe(reason);
  });

  it('ignores progress from an attempt that is over', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    let progress: ((f: number) => void) | undefined;
    const id = engine.registerTask({
      name: 'p',
      timeout: 10,
      fn: (ctx) => {
        progress = (f) => ctx.progress(f);
        return new Promise(() => {});
      },
    });
    engine.startTask(id);
    await advance(10);
    progress?.(0.9);
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(0);
    expect(() => progress?.(7)).toThrow(/`fraction`.*0 to 1.*`7`/);
  });
});
