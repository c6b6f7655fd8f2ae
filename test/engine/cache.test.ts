import { describe, expect, it } from 'vitest';
import { type CacheSkippedEvent, type StatusEvent } from '../../src/index.js';
import { recordEvents, simulatedEngine } from '../helpers.js';

/** An engine with a handler `fetch` that counts its runs. */
function cachingEngine(options: Parameters<typeof simulatedEngine>[0] = {}) {
  const harness = simulatedEngine(options);
  const runs: unknown[][] = [];
  harness.engine.defineTask('fetch', (_ctx, ...args: unknown[]) => {
    runs.push(args);
    return { page: args[0], length: runs.length };
  });
  return { ...harness, runs };
}

describe('the results cache (in memory)', () => {
  it('completes a task whose key has a fresh result without running it: cached, no attempt, its dependents run as after any completion', async () => {
    const { engine, runs } = cachingEngine();
    const events = recordEvents(engine);
    const first = engine.registerTask({ name: 'fetch', handler: 'fetch', args: [{ url: 'a', depth: 1 }], cache: true });
    engine.startTask(first);
    const result = await engine.waitForTask(first);
    // Same handler and args (key order differs): a hit.
    const [second, after] = engine.registerTasks(
      [
        { id: 'second', name: 'fetch again', handler: 'fetch', args: [{ depth: 1, url: 'a' }], cache: true },
        { id: 'after', name: 'after', fn: (ctx) => ctx.dependencies[0]?.result, dependencies: ['second'] },
      ],
      { start: true },
    );
    expect(await engine.waitForTask(after as string)).toEqual(result);
    expect(runs).toHaveLength(1);
    expect(engine.getTask(second as string)).toMatchObject({ status: 'COMPLETED', cached: true, attempts: 0, result });
    expect(engine.getTask(first)).toMatchObject({ cached: false, attempts: 1 });
    const completed = events.filter((e): e is StatusEvent => e.type === 'status' && e.status === 'COMPLETED');
    expect(completed.map((e) => [e.taskId, e.previous, e.cached])).toEqual([
      [first, 'RUNNING', undefined],
      ['second', 'PENDING', true],
      ['after', 'RUNNING', undefined],
    ]);
    expect(events.some((e) => e.taskId === 'second' && e.type === 'status' && e.status === 'RUNNING')).toBe(false);
    expect(engine.getStats()).toMatchObject({ cacheHits: 1 });
  });

  it('keys on what runs, its args and its dependencies’ results: a change in any of them is a miss', async () => {
    const { engine, runs } = cachingEngine();
    engine.defineTask('other', () => 'other');
    const run = async (spec: Parameters<typeof engine.registerTask>[0]) => {
      const [id] = engine.registerTasks([{ ...spec, cache: true }], { start: true });
      await engine.waitForTask(id as string);
      return engine.getTask(id as string).cached;
    };
    expect(await run({ name: 'f', handler: 'fetch', args: [1] })).toBe(false);
    expect(await run({ name: 'f', handler: 'fetch', args: [1] })).toBe(true);
    expect(await run({ name: 'f', handler: 'fetch', args: [2] })).toBe(false);
    expect(await run({ name: 'f', handler: 'fetch', args: ['1'] })).toBe(false);
    expect(await run({ name: 'f', handler: 'other', args: [1] })).toBe(false);
    // The same args behind dependencies with different results.
    const [x, y] = engine.registerTasks(
      [
        { name: 'x', fn: () => 'x' },
        { name: 'y', fn: () => 'y' },
      ],
      { start: true },
    );
    await engine.onIdle();
    expect(await run({ name: 'f', handler: 'fetch', args: [1], dependencies: [x as string] })).toBe(false);
    expect(await run({ name: 'f', handler: 'fetch', args: [1], dependencies: [x as string] })).toBe(true);
    expect(await run({ name: 'f', handler: 'fetch', args: [1], dependencies: [y as string] })).toBe(false);
    expect(runs).toHaveLength(5);
  });

  it('shares results between tasks that give the same cache.key, and keeps them ttl ms', async () => {
    const { engine, advance, runs } = cachingEngine();
    const run = async (args: unknown[]) => {
      const [id] = engine.registerTasks([{ name: 'f', handler: 'fetch', args, cache: { key: 'homepage', ttl: 1_000 } }], { start: true });
      await engine.waitForTask(id as string);
      return engine.getTask(id as string);
    };
    expect((await run(['a'])).cached).toBe(false);
    await advance(999);
    expect(await run(['b'])).toMatchObject({ cached: true, result: { page: 'a' } }); // the key is the caller's
    await advance(1);
    expect(await run(['c'])).toMatchObject({ cached: false, result: { page: 'c' } }); // expired at ttl
    expect(runs).toEqual([['a'], ['c']]);
  });

  it('caches only COMPLETED results: a failed task is run again', async () => {
    const { engine } = simulatedEngine();
    let runs = 0;
    engine.defineTask('flaky', () => {
      runs++;
      if (runs === 1) throw new Error('first run fails');
      return 'ok';
    });
    const [a] = engine.registerTasks([{ name: 'a', handler: 'flaky', cache: true }], { start: true });
    await expect(engine.waitForTask(a as string)).rejects.toThrow('first run fails');
    const [b] = engine.registerTasks([{ name: 'b', handler: 'flaky', cache: true }], { start: true });
    expect(await engine.waitForTask(b as string)).toBe('ok');
    const [c] = engine.registerTasks([{ name: 'c', handler: 'flaky', cache: true }], { start: true });
    expect(await engine.waitForTask(c as string)).toBe('ok');
    expect([engine.getTask(b as string).cached, engine.getTask(c as string).cached, runs]).toEqual([false, true, 2]);
  });

  it('runs a task uncached, with a cache-skipped warning, when its args cannot be encoded into a key', async () => {
    const { engine } = simulatedEngine();
    const events = recordEvents(engine);
    let runs = 0;
    const spec = { name: 'callback', fn: (_ctx: unknown, done: () => number) => (runs++, done()), args: [() => 42], cache: true };
    const [a] = engine.registerTasks([spec], { start: true });
    expect(await engine.waitForTask(a as string)).toBe(42);
    const [b] = engine.registerTasks([spec], { start: true });
    expect(await engine.waitForTask(b as string)).toBe(42);
    expect(runs).toBe(2);
    const skipped = events.filter((e): e is CacheSkippedEvent => e.type === 'cache-skipped');
    expect(skipped.map((e) => e.taskId)).toEqual([a, b]);
    expect(skipped[0]?.error).toMatchObject({ code: 'ERR_CACHE_KEY', path: 'args[0]' });
    expect((skipped[0]?.error as Error).message).toBe(
      'Cannot compute a cache key: args[0] is a function; pass only data, or give the task its own `cache.key`',
    );
  });

  it('keeps at most cacheSize results, the least recently used out, and empties on clearCache()', async () => {
    const { engine, runs } = cachingEngine({ cacheSize: 2 });
    const run = async (page: string) => {
      const [id] = engine.registerTasks([{ name: page, handler: 'fetch', args: [page], cache: true }], { start: true });
      await engine.waitForTask(id as string);
      return engine.getTask(id as string).cached;
    };
    await run('a');
    await run('b');
    expect(await run('a')).toBe(true); // a is now the most recent
    await run('c'); // evicts b
    expect([await run('a'), await run('c'), await run('b')]).toEqual([true, true, false]);
    engine.clearCache();
    expect(await run('c')).toBe(false);
    expect(runs.map((args) => args[0])).toEqual(['a', 'b', 'c', 'b', 'c']);
  });

  it('checks cache and cacheSize at the boundary', () => {
    const { engine } = simulatedEngine();
    const refused = (spec: object) => {
      try {
        engine.registerTask({ name: 'x', fn: () => 1, ...spec });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refused({ cache: 'yes' })).toMatchObject({ code: 'ERR_INVALID_OPTION', field: 'cache' });
    expect(refused({ cache: { key: '' } })).toMatchObject({ field: 'cache.key' });
    expect(refused({ cache: { ttl: -1 } })).toMatchObject({ field: 'cache.ttl' });
    expect(refused({ cache: { tll: 5 } })).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(refused({ cache: false })).toBeUndefined();
    expect(() => simulatedEngine({ cacheSize: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'cacheSize' }));
  });
});
