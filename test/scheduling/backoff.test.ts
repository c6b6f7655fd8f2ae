import { describe, expect, it } from 'vitest';
import { MAX_DELAY, backoffDelay, unitHash } from '../../src/scheduling/backoff.js';

/** FNV-1a, 32 bits, over the UTF-8 bytes: an independent reference for ASCII keys. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash >>> 0;
}

describe('backoffDelay', () => {
  it('doubles from retryDelay: retryDelay * 2^(n-1)', () => {
    const policy = { retryDelay: 100, maxRetryDelay: Infinity, jitter: 0 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, 't'))).toEqual([100, 200, 400, 800]);
  });

  it('caps the delay at maxRetryDelay', () => {
    const policy = { retryDelay: 100, maxRetryDelay: 250, jitter: 0 };
    expect([1, 2, 3].map((n) => backoffDelay(policy, n, 't'))).toEqual([100, 200, 250]);
  });

  it('shortens by at most the jitter fraction, reproducibly per task and retry', () => {
    const policy = { retryDelay: 1000, maxRetryDelay: Infinity, jitter: 0.5 };
    const delays = Array.from({ length: 50 }, (_, i) => backoffDelay(policy, 1, `task-${i}`));
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(500);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(1000);
    expect(new Set(delays).size).toBeGreaterThan(10);
    expect(backoffDelay(policy, 1, 'task-3')).toBe(delays[3]);
  });

  it('keeps a fractional delay as given when there is no jitter', () => {
    const policy = { retryDelay: 1.5, maxRetryDelay: Infinity, jitter: 0 };
    expect([1, 2].map((n) => backoffDelay(policy, n, 't'))).toEqual([1.5, 3]);
  });

  it('never waits longer than a timer can, whatever maxRetryDelay says', () => {
    const policy = { retryDelay: 2 ** 30, maxRetryDelay: Infinity, jitter: 0 };
    expect(backoffDelay(policy, 4, 't')).toBe(MAX_DELAY);
  });

  it('hashes the key and retry number with FNV-1a into [0, 1)', () => {
    expect(fnv1a('a')).toBe(0xe40c292c); // the published test vector
    for (const [key, retry] of [
      ['t', 1],
      ['task-42', 3],
      ['fetch:seville', 7],
    ] as const) {
      expect(unitHash(key, retry)).toBe(fnv1a(`${key}#${retry}`) / 2 ** 32);
    }
  });
});
