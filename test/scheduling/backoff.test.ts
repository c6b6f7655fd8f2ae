import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/scheduling/backoff.js';

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
});
