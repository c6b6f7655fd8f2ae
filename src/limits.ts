/**
 * The `limits` option of the engine (named per-key limiters) and of a task spec (which key of each limiter the task
 * runs under, and what each start costs), checked at the boundary. What they mean at run time is
 * src/scheduling/key-limits.ts.
 */
import type { LimitClaim, LimiterOptions } from './scheduling/key-limits.js';
import { MAX_DELAY } from './scheduling/backoff.js';
import { invalid, isPlainObject, ownFields } from './validate.js';

/** A limiter as the engine option gives it. */
export interface LimiterSpec {
  /** Tasks running per key, an integer >= 1. */
  concurrency?: number;
  /** Per key: at most `limit` units (each start draws its task's cost, default 1) within any `interval` ms. */
  rate?: { limit: number; interval: number };
}

/** A task's claim on one limiter: the key, or the key and the cost of each start (default 1). */
export type LimitSpec = string | { key: string; cost?: number };

const LIMITER_KEYS: ReadonlySet<string> = new Set(['concurrency', 'rate']);
const RATE_KEYS: ReadonlySet<string> = new Set(['limit', 'interval']);
const CLAIM_KEYS: ReadonlySet<string> = new Set(['key', 'cost']);

export const NO_CLAIMS: readonly LimitClaim[] = Object.freeze([]);

/** The engine's `limits` option. */
export function resolveLimiters(value: unknown): ReadonlyMap<string, LimiterOptions> {
  const limiters = new Map<string, LimiterOptions>();
  if (value === undefined) return limiters;
  if (!isPlainObject(value)) throw invalid('limits', 'a plain object of limiter names to { concurrency?, rate? }', value);
  for (const [name, given] of Object.entries(ownFields('limits', value, 'any', 'limits.'))) {
    const field = `limits.${name}`;
    if (!isPlainObject(given)) throw invalid(field, 'a plain object { concurrency?, rate? }', given);
    const options = ownFields(field, given, LIMITER_KEYS, `${field}.`);
    if (options.concurrency === undefined && options.rate === undefined) {
      throw invalid(field, 'at least one of `concurrency` and `rate`', given);
    }
    const resolved: { concurrency?: number; rate?: { limit: number; interval: number } } = {};
    if (options.concurrency !== undefined) resolved.concurrency = positiveInteger(`${field}.concurrency`, options.concurrency);
    if (options.rate !== undefined) {
      if (!isPlainObject(options.rate)) throw invalid(`${field}.rate`, 'a plain object { limit, interval }', options.rate);
      const rate = ownFields(`${field}.rate`, options.rate, RATE_KEYS, `${field}.rate.`);
      const limit = positiveInteger(`${field}.rate.limit`, rate.limit);
      const interval = positiveInteger(`${field}.rate.interval`, rate.interval);
      if (interval > MAX_DELAY) throw invalid(`${field}.rate.interval`, `an integer >= 1 and <= ${MAX_DELAY} (ms)`, interval);
      resolved.rate = Object.freeze({ limit, interval });
    }
    limiters.set(name, Object.freeze(resolved));
  }
  return limiters;
}

/** A task spec's `limits`, against the engine's limiters: its claims, sorted by limiter name. */
export function resolveClaims(value: unknown, limiters: ReadonlyMap<string, LimiterOptions>): readonly LimitClaim[] {
  if (value === undefined) return NO_CLAIMS;
  if (!isPlainObject(value)) throw invalid('limits', 'a plain object of limiter names to a key or { key, cost }', value);
  const fields = ownFields('limits', value, 'any', 'limits.');
  const claims: LimitClaim[] = [];
  for (const limiter of Object.keys(fields).sort()) {
    const field = `limits.${limiter}`;
    const options = limiters.get(limiter);
    if (options === undefined) {
      const known =
        limiters.size === 0 ? 'none: the engine has no `limits` option' : [...limiters.keys()].map((n) => `\`${n}\``).join(', ');
      throw invalid(field, `the name of one of the engine's limiters (${known})`, limiter);
    }
    const given = fields[limiter];
    let key: unknown = given;
    let cost: unknown = 1;
    if (isPlainObject(given)) {
      const claim = ownFields(field, given, CLAIM_KEYS, `${field}.`);
      key = claim.key;
      if (claim.cost !== undefined) cost = claim.cost;
    }
    if (typeof key !== 'string' || key.length === 0) {
      throw invalid(isPlainObject(given) ? `${field}.key` : field, 'a non-empty string key (or { key, cost })', key);
    }
    const units = positiveInteger(`${field}.cost`, cost);
    if (options.rate !== undefined && units > options.rate.limit) {
      throw invalid(
        `${field}.cost`,
        `an integer >= 1 and <= the limiter's rate.limit (${options.rate.limit}): a start costing more could never run`,
        units,
      );
    }
    claims.push(Object.freeze({ limiter, key, cost: units }));
  }
  return claims.length === 0 ? NO_CLAIMS : Object.freeze(claims);
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw invalid(field, 'a positive integer', value);
  return value;
}
