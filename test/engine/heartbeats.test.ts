import { describe, expect, it } from 'vitest';
import { TaskStalledError, type RetryEvent, type TaskContext } from '../../src/index.js';
import { deferred, recordEvents, simulatedEngine, statusPath } from '../helpers.js';

describe('heartbeats and checkpoints (simulated clock)', () => {
  it('stalls an attempt that sends no heartbeat for heartbeatTimeout: aborted, failed with ERR_TASK_STALLED, retried like a timeout', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    const signals: AbortSignal[] = [];
    const id = engine.registerTask({
      name: 'hung',
      maxRetries: 1,
      retryDelay: 10,
      timeout: 3_600_000, // an hour: the heartbeat catches the hang long before
      heartbeatTimeout: 500,
      fn: (ctx) => {
        signals.push(ctx.signal);
        return new Promise(() => {}); // a hung await
      },
    });
    engine.startTask(id);
    const outcome = engine.waitForTask(id).catch((error: unknown) => error);
    await advance(499);
    expect(engine.getTask(id)).toMatchObject({ status: 'RUNNING', attempts: 1 });
    await advance(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBeInstanceOf(TaskStalledError);
    const retry = events.find((e): e is RetryEvent => e.type === 'retry');
    expect(retry).toMatchObject({ attempt: 2, delay: 10, error: { code: 'ERR_TASK_STALLED', heartbeatTimeout: 500, attempt: 1 } });
    expect((retry?.error as Error).message).toBe(
      'Task `hung` (' + id.slice(0, 8) + '…) stalled: attempt 1 sent no heartbeat (ctx.heartbeat() or ctx.progress()) for 500 ms',
    );
    await advance(10);
    expect(engine.getTask(id)).toMatchObject({ status: 'RUNNING', attempts: 2 });
    await advance(500);
    const error = await outcome;
    expect(error).toMatchObject({ code: 'ERR_TASK_STALLED', attempt: 2 });
    expect(statusPath(events, id)).toEqual(['PENDING', 'RUNNING', 'PENDING', 'RUNNING', 'FAILED']);
    expect(engine.getStats()).toMatchObject({ stalledAttempts: 2 });
  });

  it('keeps an attempt that beats (ctx.heartbeat or ctx.progress) alive however long it runs, and stalls it once it stops', async () => {
    const { engine, advance } = simulatedEngine();
    const beats: Array<(kind: 'heartbeat' | 'progress') => void> = [];
    const id = engine.registerTask({
      name: 'crawl',
      heartbeatTimeout: 100,
      fn: (ctx) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          beats.push((kind) => (kind === 'heartbeat' ? ctx.heartbeat() : ctx.progress(0.5)));
        }),
    });
    engine.startTask(id);
    await advance(0);
    const beat = beats[0] as (kind: 'heartbeat' | 'progress') => void;
    for (let i = 0; i < 20; i++) {
      await advance(90);
      beat(i % 2 === 0 ? 'heartbeat' : 'progress');
    }
    // 1,800 ms of running, never 100 ms without a beat.
    expect(engine.getTask(id)).toMatchObject({ status: 'RUNNING', lastHeartbeatAt: 1_800 });
    await advance(99);
    expect(engine.getTaskStatus(id)).toBe('RUNNING');
    await advance(1);
    expect(engine.getTask(id)).toMatchObject({ status: 'FAILED', error: { code: 'ERR_TASK_STALLED' } });
  });

  it("hands the last heartbeat's details to the next attempt as ctx.lastHeartbeat: a crawl resumes where it failed", async () => {
    const { engine, advance } = simulatedEngine();
    const resumedFrom: unknown[] = [];
    const id = engine.registerTask({
      name: 'crawl',
      maxRetries: 2,
      retryDelay: 0,
      fn: (ctx: TaskContext, pages: number) => {
        resumedFrom.push(ctx.lastHeartbeat);
        const start = ((ctx.lastHeartbeat as { page: number } | undefined)?.page ?? -1) + 1;
        for (let page = start; page < pages; page++) {
          if (ctx.attempt === 1 && page === 7_000) throw new Error('the site went down at page 7000');
          ctx.heartbeat({ page });
        }
        return start;
      },
      args: [10_000],
    });
    engine.startTask(id);
    await advance(0);
    await advance(0);
    expect(await engine.waitForTask(id)).toBe(7_000);
    expect(resumedFrom).toEqual([undefined, { page: 6_999 }]);
  });

  it('keeps the checkpoint as it was given (a copy), across an attempt that gives none, and refuses details it cannot clone', async () => {
    const { engine, advance } = simulatedEngine();
    const seen: unknown[] = [];
    const id = engine.registerTask({
      name: 'checkpoints',
      maxRetries: 2,
      retryDelay: 0,
      fn: (ctx) => {
        seen.push(ctx.lastHeartbeat);
        if (ctx.attempt === 1) {
          const state = { done: ['a'] };
          ctx.heartbeat(state);
          state.done.push('b'); // changed after: not what was checkpointed
          throw new Error('first');
        }
        if (ctx.attempt === 2) {
          ctx.heartbeat(); // alive, checkpoint unchanged
          expect(() => ctx.heartbeat({ callback: () => 1 })).toThrow(
            expect.objectContaining({
              code: 'ERR_INVALID_OPTION',
              field: 'details',
              message: 'Expected heartbeat `details` to be structured-cloneable data, but details.callback is a function',
            }),
          );
          throw new Error('second');
        }
        return 'done';
      },
    });
    engine.startTask(id);
    for (let i = 0; i < 3; i++) await advance(0);
    expect(await engine.waitForTask(id)).toBe('done');
    expect(seen).toEqual([undefined, { done: ['a'] }, { done: ['a'] }]);
  });

  it('ignores heartbeats of an attempt that is over, and watches nothing once the task has ended', async () => {
    const { engine, advance, clock } = simulatedEngine();
    let late: TaskContext | undefined;
    const gate = deferred<string>();
    const id = engine.registerTask({
      name: 'quick',
      heartbeatTimeout: 50,
      maxRetries: 1,
      retryDelay: 0,
      fn: (ctx) => {
        if (ctx.attempt === 1) {
          late = ctx;
          throw new Error('first fails');
        }
        return gate.promise;
      },
    });
    engine.startTask(id);
    await advance(0);
    await advance(0);
    late?.heartbeat({ stale: true }); // attempt 1 is over
    gate.resolve('ok');
    expect(await engine.waitForTask(id)).toBe('ok');
    expect(engine.getTask(id).lastHeartbeatAt).toBe(clock.now());
    await advance(1_000);
    expect(engine.getTask(id)).toMatchObject({ status: 'COMPLETED', result: 'ok' });
    expect(engine.getStats().stalledAttempts).toBe(0);
  });

  it('checks heartbeatTimeout at registration, and refuses it (and cache) on an external task', () => {
    const { engine } = simulatedEngine();
    expect(() => engine.registerTask({ name: 'x', fn: () => 1, heartbeatTimeout: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'heartbeatTimeout' }),
    );
    expect(() => engine.registerTask({ name: 'x', fn: () => 1, heartbeatTimeout: '5s' as unknown as number })).toThrow(
      'Expected `heartbeatTimeout` to be a finite number > 0 and <= 2147483647, got `5s` (string)',
    );
    expect(() => engine.registerTask({ name: 'ext', heartbeatTimeout: 100 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'heartbeatTimeout' }),
    );
    expect(() => engine.registerTask({ name: 'ext', cache: true })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'cache' }),
    );
  });
});
