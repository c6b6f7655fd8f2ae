/**
 * Retry backoff: the delay before retry n (n >= 1) is
 * `retryDelay * 2^(n-1)`, capped at `maxRetryDelay` (and at MAX_DELAY, what
 * a timer can wait), then shortened by up to
 * `jitter` (a fraction in [0, 1]) using a deterministic hash of (key, n), so
 * retries of many tasks spread out while each delay stays reproducible.
 */
/** The longest delay a timer can wait (2^31 - 1 ms, about 24.8 days); longer ones would fire at once. */
export const MAX_DELAY = 2_147_483_647;

export interface BackoffPolicy {
  readonly retryDelay: number;
  readonly maxRetryDelay: number;
  readonly jitter: number;
}

export function backoffDelay(policy: BackoffPolicy, retry: number, key: string): number {
  const exponential = policy.retryDelay * 2 ** (retry - 1);
  const capped = Math.min(exponential, policy.maxRetryDelay, MAX_DELAY);
  if (policy.jitter === 0) return capped;
  return Math.round(capped * (1 - policy.jitter * unitHash(key, retry)));
}

/** FNV-1a of the key and retry number, mapped to [0, 1). */
export function unitHash(key: string, retry: number): number {
  let hash = 0x811c9dc5;
  const text = `${key}#${retry}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 0x100000000;
}
