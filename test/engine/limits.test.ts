/**
 * Per-key limits and rate limits, as a crawler or an LLM pipeline uses them, on a simulated clock: a few connections
 * per domain, no head-of-line blocking, starts spaced by a sliding window, token costs, a 429 that pauses its key
 * without using up a retry, held tasks that are PENDING and hold no slot, and bad limits refused at registration.
 */
import { describe, expect, it } from 'vitest';
import { RateLimitedError, TaskStatus, type TaskContext, type TaskEngine } from '../../src/index.js';
import { deferred, recordEvents, simulatedEngine } from '../helpers.js';

/** Registers and starts `count` tasks under `limits`, each finishing when the test says; returns their controls. */
function crawl(engine: TaskEngine, prefix: string, count: number, limits: Record<string, string | { key: string; cost?: number }>) {
  const gates = Array.from({ length: count }, () => deferred());
  const ids = engine.registerTasks(
    gates.map((gate, i) => ({ id: `${prefix}${i}`, name: `${prefix}${i}`, limits, fn: () => gate.promise })),
    { start: true },
  );
  return { ids, finish: (i: number) => gates[i]?.resolve(`${prefix}${i}`) };
}

const running = (engine: TaskEngine, ids: readonly string[]) => ids.filter((id) => engine.getTaskStatus(id) === TaskStatus.RUNNING);

describe('per-key limits', () => {
  it('runs at most `concurrency` tasks per key, and never holds back another key or a task without limits', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 10, limits: { domain: { concurrency: 2 } } });
    const a = crawl(engine, 'a', 5, { domain: 'a.com' });
    const b = crawl(engine, 'b', 2, { domain: 'b.com' });
    const free = engine.registerTask({ name: 'free', fn: () => 'done' });
    engine.startTask(free);
    await advance(0);
    expect(running(engine, a.ids)).toEqual(['a0', 'a1']);
    expect(running(engine, b.ids)).toEqual(['b0', 'b1']);
    expect(engine.getTaskStatus(free)).toBe(TaskStatus.COMPLETED);
    expect(engine.getStats()).toMatchObject({ running: 4, queued: 3, limited: 3 });
    expect(engine.getTask('a2')).toMatchObject({
      status: 'PENDING',
      waitingOn: { dependencies: [], limit: { limiter: 'domain', key: 'a.com', until: undefined } },
    });
    a.finish(0);
    await advance(0);
    expect(running(engine, a.ids)).toEqual(['a1', 'a2']);
    for (let i = 1; i < 5; i++) a.finish(i);
    b.finish(0);
    b.finish(1);
    await engine.onIdle();
    expect(engine.getStats()).toMatchObject({ queued: 0, limited: 0, counts: { COMPLETED: 8 } });
  });

  it('lets a later task take a free slot while the earlier, higher-priority ones are held by their key', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 2, limits: { api: { concurrency: 1 } } });
    const held = crawl(engine, 'h', 4, { api: 'k' });
    const other = deferred();
    const later = engine.registerTask({ name: 'later', priority: 0, fn: () => other.promise });
    engine.startTask(later);
    await advance(0);
    // One slot for h0 (its key allows one); h1..h3 hold nothing, so the LOW task gets the other slot.
    expect(running(engine, [...held.ids, later])).toEqual(['h0', later]);
    other.resolve('ok');
    held.finish(0);
    await advance(0);
    expect(running(engine, held.ids)).toEqual(['h1']);
  });

  it('spaces the starts of a rate-limited key by its sliding window, with one timer, each at the moment the window allows', async () => {
    const { engine, clock, advance } = simulatedEngine({ concurrency: 10, limits: { api: { rate: { limit: 2, interval: 1000 } } } });
    const starts: Array<[string, number]> = [];
    engine.registerTasks(
      Array.from({ length: 5 }, (_, i) => ({
        id: `r${i}`,
        name: `r${i}`,
        limits: { api: 'key-1' },
        fn: () => void starts.push([`r${i}`, clock.now()]),
      })),
      { start: true },
    );
    await advance(0);
    expect(engine.getTask('r2').waitingOn?.limit).toEqual({ limiter: 'api', key: 'key-1', until: 1000 });
    await advance(999);
    expect(starts).toHaveLength(2);
    await advance(1);
    await advance(1000);
    await advance(1000);
    expect(starts).toEqual([
      ['r0', 0],
      ['r1', 0],
      ['r2', 1000],
      ['r3', 1000],
      ['r4', 2000],
    ]);
  });

  it("draws each start's cost from the window (tokens per minute)", async () => {
    const { engine, clock, advance } = simulatedEngine({ concurrency: 10, limits: { llm: { rate: { limit: 10_000, interval: 60_000 } } } });
    const starts: Array<[string, number]> = [];
    const summarize = (id: string, cost: number) => ({
      id,
      name: id,
      limits: { llm: { key: 'team-a', cost } },
      fn: () => void starts.push([id, clock.now()]),
    });
    engine.registerTasks([summarize('s1', 6000), summarize('s2', 3000), summarize('s3', 4000), summarize('s4', 1000)], { start: true });
    await advance(0);
    // s3 (4000) does not fit beside 9000 started; s4 (1000) does, and is not held behind it.
    expect(starts).toEqual([
      ['s1', 0],
      ['s2', 0],
      ['s4', 0],
    ]);
    await advance(60_000);
    expect(starts.at(-1)).toEqual(['s3', 60_000]);
  });

  it('pauses the key of a task that throws RateLimitedError, requeues it without using a retry, and reports it', async () => {
    const { engine, advance } = simulatedEngine({ concurrency: 10, limits: { llm: { concurrency: 5 } } });
    const events = recordEvents(engine);
    const attempts: number[] = [];
    engine.registerTask({
      id: 'call',
      name: 'call',
      limits: { llm: 'team-a' },
      maxRetries: 0,
      fn: (ctx: TaskContext) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new RateLimitedError({ retryAfter: 500 });
        return 'answer';
      },
    });
    engine.startTask('call');
    await advance(0);
    expect(events.filter((e) => e.type === 'rate-limited')).toEqual([
      expect.objectContaining({ type: 'rate-limited', taskId: 'call', limiter: 'llm', key: 'team-a', until: 500 }),
    ]);
    // Another task of the same key is held until the pause ends; one of another key is not.
    const sameKey = engine.registerTask({ name: 'same', limits: { llm: 'team-a' }, fn: () => 'same' });
    const otherKey = engine.registerTask({ name: 'other', limits: { llm: 'team-b' }, fn: () => 'other' });
    engine.startTasks([sameKey, otherKey]);
    await advance(0);
    expect(engine.getTaskStatus(otherKey)).toBe(TaskStatus.COMPLETED);
    expect(engine.getTask(sameKey).waitingOn?.limit).toEqual({ limiter: 'llm', key: 'team-a', until: 500 });
    await advance(500);
    await expect(engine.waitForTask('call')).resolves.toBe('answer');
    expect(attempts).toEqual([1, 2]);
    expect(engine.getTaskStatus(sameKey)).toBe(TaskStatus.COMPLETED);
  });

  it('waits out retryAfter also for a task without limits, and still fails on its own errors after that', async () => {
    const { engine, advance } = simulatedEngine();
    let calls = 0;
    engine.registerTask({
      id: 't',
      name: 't',
      fn: () => {
        calls++;
        if (calls <= 2) throw new RateLimitedError({ retryAfter: 100 });
        throw new Error('real failure');
      },
    });
    engine.startTask('t');
    await advance(0);
    await advance(100);
    expect(calls).toBe(2);
    await advance(100);
    await expect(engine.waitForTask('t')).rejects.toThrow('real failure');
    expect(engine.getTask('t').attempts).toBe(3);
  });

  it('drops a task cancelled while held, and lets the next one of its key run', async () => {
    const { engine, advance } = simulatedEngine({ limits: { d: { concurrency: 1 } } });
    const c = crawl(engine, 'c', 3, { d: 'k' });
    await advance(0);
    engine.cancelTask('c1');
    expect(engine.getStats().limited).toBe(1);
    c.finish(0);
    await advance(0);
    expect(running(engine, c.ids)).toEqual(['c2']);
    c.finish(2);
    await engine.onIdle();
    expect(engine.getTask('c1').attempts).toBe(0);
  });

  it('refuses bad limits at registration, naming the field', () => {
    const { engine } = simulatedEngine({ limits: { domain: { concurrency: 2 }, llm: { rate: { limit: 100, interval: 60_000 } } } });
    const refused = (limits: unknown, field: string) =>
      expect(() => engine.registerTask({ name: 'x', limits: limits as Record<string, string> })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', field }),
      );
    refused({ nope: 'a' }, 'limits.nope');
    refused({ domain: '' }, 'limits.domain');
    refused({ domain: { key: '' } }, 'limits.domain.key');
    refused({ llm: { key: 'k', cost: 101 } }, 'limits.llm.cost');
    refused({ llm: { key: 'k', cost: 0 } }, 'limits.llm.cost');
    refused({ domain: { key: 'k', extra: 1 } }, 'limits.domain.extra');
    refused('domain', 'limits');
    expect(() => engine.registerTask({ name: 'x', limits: { nope: 'a' } })).toThrow(/one of the engine's limiters \(`domain`, `llm`\)/);
  });

  it('refuses bad limiters at construction, naming the field', () => {
    const refused = (limits: unknown, field: string) =>
      expect(() => simulatedEngine({ limits: limits as Record<string, { concurrency: number }> })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', field }),
      );
    refused({ d: { concurrency: 0 } }, 'limits.d.concurrency');
    refused({ d: { concurrency: 1.5 } }, 'limits.d.concurrency');
    refused({ d: {} }, 'limits.d');
    refused({ d: { rate: { limit: 5 } } }, 'limits.d.rate.interval');
    refused({ d: { rate: { limit: -1, interval: 10 } } }, 'limits.d.rate.limit');
    refused({ d: { rate: 5 } }, 'limits.d.rate');
    refused({ d: { concurrency: 1, burst: 3 } }, 'limits.d.burst');
    refused([], 'limits');
  });

  it('leaves no timer behind at shutdown while tasks are held by a rate window', async () => {
    const { engine, clock, advance } = simulatedEngine({ limits: { api: { rate: { limit: 1, interval: 10_000 } } } });
    crawl(engine, 'x', 3, { api: 'k' });
    await advance(0);
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBeGreaterThan(0);
    await engine.shutdown();
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(0);
  });
});
