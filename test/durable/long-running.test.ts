/**
 * Long and repeated work with a durable store: the results cache lives in the store (a pipeline run again after it
 * finished or crashed does not pay twice), checkpoints and the counts of free re-runs are committed and come back
 * with restore(), and deadlines count from the first start across processes.
 */
import { describe, expect, it } from 'vitest';
import type { TaskContext } from '../../src/index.js';
import { durableEngine, tempDbPath } from './helpers.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A two-step pipeline (fetch, then summarize what was fetched) with the results cache, and its handlers' runs. */
function pipeline(harness: ReturnType<typeof durableEngine>, runs: string[]) {
  harness.engine.defineTask('fetch', (_ctx: TaskContext, url: string) => {
    runs.push(`fetch ${url}`);
    return { url, body: `<html>${url}</html>` };
  });
  harness.engine.defineTask('summarize', (ctx: TaskContext) => {
    runs.push('summarize');
    return `summary of ${(ctx.dependencies[0]?.result as { url: string }).url}`;
  });
  return (suffix: string) =>
    harness.engine.registerTasks(
      [
        { id: `fetch-${suffix}`, name: 'fetch', handler: 'fetch', args: ['https://example.com'], cache: true },
        { id: `sum-${suffix}`, name: 'summarize', handler: 'summarize', dependencies: [`fetch-${suffix}`], cache: true },
      ],
      { start: true },
    );
}

describe('long and repeated work, durable', () => {
  it('keeps the results cache in the store: the same pipeline run by the next process completes from it, until clearCache()', async () => {
    const path = tempDbPath();
    const runs: string[] = [];
    const first = durableEngine(path);
    await first.engine.restore();
    pipeline(first, runs)('1');
    expect(await first.engine.waitForTask('sum-1')).toBe('summary of https://example.com');
    await first.engine.shutdown();

    const second = durableEngine(path);
    await second.engine.restore();
    const run = pipeline(second, runs);
    run('2');
    expect(await second.engine.waitForTask('sum-2')).toBe('summary of https://example.com');
    expect(runs).toEqual(['fetch https://example.com', 'summarize']); // nothing ran twice
    expect(second.engine.getTask('fetch-2')).toMatchObject({ cached: true, attempts: 0, result: { url: 'https://example.com' } });
    second.engine.clearCache();
    run('3');
    await second.engine.waitForTask('sum-3');
    expect(runs).toHaveLength(4);
    await second.engine.shutdown();

    // A cached task comes back as cached.
    const third = durableEngine(path);
    pipeline(third, runs);
    await third.engine.restore();
    expect(third.engine.getTask('sum-2')).toMatchObject({ status: 'COMPLETED', cached: true, result: 'summary of https://example.com' });
    await third.engine.shutdown();
  });

  it('writes a result to the cache in the commit of the task that completed it, so a crash right after loses neither', async () => {
    const path = tempDbPath();
    const runs: string[] = [];
    const first = durableEngine(path);
    await first.engine.restore();
    first.engine.defineTask('hang', () => new Promise(() => {}));
    pipeline(first, runs)('1');
    first.engine.registerTasks([{ id: 'hang', name: 'hang', handler: 'hang', dependencies: ['fetch-1'] }], { start: true });
    await first.engine.waitForTask('sum-1');
    first.crash();

    const second = durableEngine(path);
    const run = pipeline(second, runs);
    second.engine.defineTask('hang', () => 'resumed');
    expect(await second.engine.restore()).toMatchObject({ finished: 2, interrupted: 1, rerunFree: 1 });
    run('2');
    await second.engine.waitForTask('sum-2');
    expect(runs).toEqual(['fetch https://example.com', 'summarize']);
    await second.engine.shutdown();
  });

  it('commits heartbeat details with the next group commit: an attempt interrupted by a crash resumes from its checkpoint', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    let beat: ((page: number) => void) | undefined;
    first.engine.defineTask('crawl', (ctx: TaskContext) => {
      beat = (page) => ctx.heartbeat({ page });
      return new Promise(() => {});
    });
    first.engine.registerTask({ id: 'crawl', name: 'crawl', handler: 'crawl', maxRetries: 0 });
    first.engine.startTask('crawl');
    await flush();
    first.advance(250);
    for (let page = 0; page <= 6_999; page++) beat?.(page);
    await flush(); // the group commit
    expect(first.engine.getTask('crawl').lastHeartbeatAt).toBe(1_000_250);
    first.crash();

    const second = durableEngine(path, {}, 2_000_000);
    const resumedAt: unknown[] = [];
    second.engine.defineTask('crawl', (ctx: TaskContext) => {
      resumedAt.push([ctx.attempt, ctx.lastHeartbeat]);
      return 'crawled';
    });
    await second.engine.restore();
    expect(second.engine.getTask('crawl')).toMatchObject({ lastHeartbeatAt: 1_000_250, interruptions: 1 });
    second.advance(0);
    expect(await second.engine.waitForTask('crawl')).toBe('crawled');
    expect(resumedAt).toEqual([[2, { page: 6_999 }]]);
    await second.engine.shutdown();
  });

  it('counts a deadline from the first start across processes, and does not alert twice', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('hang', () => new Promise(() => {}));
    first.engine.registerTasks(
      [
        { id: 'missed', name: 'missed', handler: 'hang', deadline: 100 },
        { id: 'later', name: 'later', handler: 'hang', deadline: 10_000 },
      ],
      { start: true },
    );
    first.advance(100);
    await flush();
    expect(first.events.filter((e) => e.type === 'deadline').map((e) => e.taskId)).toEqual(['missed']);
    first.advance(1);
    await flush();
    first.crash();

    // Restarted 4 s after the first start: `later` has 6 s of its deadline left; `missed` was reported already.
    const second = durableEngine(path, {}, 1_004_000);
    second.engine.defineTask('hang', () => new Promise(() => {}));
    await second.engine.restore();
    expect(second.engine.getTask('missed').deadlineMissedAt).toBe(1_000_100);
    second.advance(5_999);
    expect(second.events.filter((e) => e.type === 'deadline')).toEqual([]);
    second.advance(1);
    expect(second.events.filter((e) => e.type === 'deadline').map((e) => [e.taskId, e.timestamp])).toEqual([['later', 1_010_000]]);
    await second.engine.shutdown();
  });
});
