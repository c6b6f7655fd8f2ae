import { describe, expect, it } from 'vitest';
import { MemoryResultCache } from '../../src/cache/memory-cache.js';
import { InvalidOptionError } from '../../src/errors.js';

/** The keys still stored, found by looking each of `keys` up at time 0 (a hit makes it the most recent: in order). */
function storedOf(cache: MemoryResultCache, keys: readonly string[]): string[] {
  return keys.filter((key) => cache.get(key, 0) !== undefined);
}

describe('MemoryResultCache', () => {
  it('misses a key never set, and hits one set, giving its result', () => {
    const cache = new MemoryResultCache(10);
    expect(cache.get('a', 0)).toBeUndefined();
    cache.set('a', { rows: [1, 2] }, undefined);
    expect(cache.get('a', 0)).toMatchObject({ result: { rows: [1, 2] } });
    expect(cache.size).toBe(1);
  });

  it('hits a stored undefined result, which a miss is not', () => {
    const cache = new MemoryResultCache(10);
    cache.set('a', undefined, undefined);
    const hit = cache.get('a', 0);
    expect(hit).toBeDefined();
    expect(hit?.result).toBeUndefined();
  });

  it('evicts the least recently set key when one more than maxEntries is set', () => {
    const cache = new MemoryResultCache(3);
    cache.set('a', 1, undefined);
    cache.set('b', 2, undefined);
    cache.set('c', 3, undefined);
    cache.set('d', 4, undefined);
    expect(cache.size).toBe(3);
    expect(storedOf(cache, ['a', 'b', 'c', 'd'])).toEqual(['b', 'c', 'd']);
  });

  it('counts a hit as a use: the key hit last is evicted last', () => {
    const cache = new MemoryResultCache(3);
    cache.set('a', 1, undefined);
    cache.set('b', 2, undefined);
    cache.set('c', 3, undefined);
    cache.get('a', 0); // now b, c, a from least to most recent
    cache.set('d', 4, undefined);
    expect(storedOf(cache, ['a', 'b', 'c', 'd'])).toEqual(['a', 'c', 'd']);
    cache.get('c', 0); // a, d, c
    cache.set('e', 5, undefined);
    cache.set('f', 6, undefined);
    expect(storedOf(cache, ['a', 'c', 'd', 'e', 'f'])).toEqual(['c', 'e', 'f']);
  });

  it('counts a miss as no use', () => {
    const cache = new MemoryResultCache(2);
    cache.set('a', 1, undefined);
    cache.set('b', 2, undefined);
    expect(cache.get('z', 0)).toBeUndefined();
    cache.set('c', 3, undefined);
    expect(storedOf(cache, ['a', 'b', 'c'])).toEqual(['b', 'c']);
  });

  it('replaces the result of a key set again, making it the most recent without growing', () => {
    const cache = new MemoryResultCache(2);
    cache.set('a', 1, undefined);
    cache.set('b', 2, undefined);
    cache.set('a', 10, undefined);
    expect(cache.size).toBe(2);
    cache.set('c', 3, undefined);
    expect(cache.get('a', 0)).toMatchObject({ result: 10 });
    expect(cache.get('b', 0)).toBeUndefined();
  });

  it('hits until just before expiresAt, and misses and deletes the entry from expiresAt on', () => {
    const cache = new MemoryResultCache(10);
    cache.set('a', 'fresh', 1_000);
    expect(cache.get('a', 999)).toMatchObject({ result: 'fresh' });
    expect(cache.get('a', 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get('a', 0)).toBeUndefined(); // deleted, not only hidden: an earlier time does not bring it back
  });

  it('takes a new expiresAt when a key is set again', () => {
    const cache = new MemoryResultCache(10);
    cache.set('a', 1, 100);
    cache.set('a', 2, 500);
    expect(cache.get('a', 300)).toMatchObject({ result: 2 });
    cache.set('a', 3, undefined);
    expect(cache.get('a', Number.MAX_SAFE_INTEGER)).toMatchObject({ result: 3 });
  });

  it('keeps an entry with no expiresAt at any time', () => {
    const cache = new MemoryResultCache(10);
    cache.set('a', 1, undefined);
    expect(cache.get('a', Infinity)).toMatchObject({ result: 1 });
  });

  it('reads time only from its argument, not the wall clock', () => {
    const cache = new MemoryResultCache(10);
    const longAgo = 5; // the wall clock is far past this expiresAt; the caller's clock is not
    cache.set('a', 1, longAgo);
    expect(cache.get('a', 4)).toMatchObject({ result: 1 });
    cache.set('b', 2, Date.now() + 3_600_000); // in an hour by the wall clock, long past by the caller's
    expect(cache.get('b', Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });

  it('keeps an expired entry counted in size until it is looked up or evicted', () => {
    const cache = new MemoryResultCache(2);
    cache.set('old', 1, 10);
    cache.set('b', 2, undefined);
    expect(cache.size).toBe(2);
    cache.set('c', 3, undefined); // evicts `old`, the least recently used
    expect(cache.size).toBe(2);
    expect(storedOf(cache, ['old', 'b', 'c'])).toEqual(['b', 'c']);
  });

  it('deletes one key, saying whether it was there', () => {
    const cache = new MemoryResultCache(10);
    cache.set('a', 1, undefined);
    cache.set('b', 2, undefined);
    expect(cache.delete('a')).toBe(true);
    expect(cache.delete('a')).toBe(false);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toMatchObject({ result: 2 });
    expect(cache.size).toBe(1);
  });

  it('clears every entry, and stores again after', () => {
    const cache = new MemoryResultCache(3);
    for (const key of ['a', 'b', 'c']) cache.set(key, key, undefined);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(storedOf(cache, ['a', 'b', 'c'])).toEqual([]);
    cache.set('d', 4, undefined);
    expect(cache.get('d', 0)).toMatchObject({ result: 4 });
  });

  it('keeps one entry with maxEntries 1', () => {
    const cache = new MemoryResultCache(1);
    cache.set('a', 1, undefined);
    cache.set('b', 2, undefined);
    expect(storedOf(cache, ['a', 'b'])).toEqual(['b']);
  });

  it.each([0, -1, 1.5, NaN, Infinity, '10'])('refuses maxEntries %s, naming it', (maxEntries) => {
    expect(() => new MemoryResultCache(maxEntries as number)).toThrow(InvalidOptionError);
    expect(() => new MemoryResultCache(maxEntries as number)).toThrow(/Expected `maxEntries` to be an integer from 1 and up, got/);
  });
});
