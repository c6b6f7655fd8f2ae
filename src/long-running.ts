/**
 * The spec fields of long and repeated work (docs/long-running.md), checked at the boundary: `heartbeatTimeout`,
 * `cache`, `deadline`, `maxInterruptions` and `maxCrashes`. What they mean at run time: the task statechart
 * (STALLED, CACHE_HIT, free re-runs), src/actors/heartbeats.ts, src/actors/result-cache.ts and the supervisor's
 * deadline alerts.
 */
import { InvalidOptionError } from './errors.js';
import { MAX_DELAY } from './scheduling/backoff.js';
import { invalid, isPlainObject, optionalInteger, optionalNumber, ownFields } from './validate.js';

/** `cache` as a spec gives it. */
export type CacheSpec = boolean | { key?: string; ttl?: number };

/** A task's results cache settings: its own key (else the default hash), and how long a result stays fresh (ms). */
export interface ResolvedCache {
  readonly key: string | undefined;
  readonly ttl: number | undefined;
}

export interface LongRunningSettings {
  readonly heartbeatTimeout: number | undefined;
  readonly cache: ResolvedCache | undefined;
  readonly deadline: number | undefined;
  readonly maxInterruptions: number;
  readonly maxCrashes: number;
}

/** The engine-wide defaults of a spec's free re-runs (engine options `maxInterruptions`, `maxCrashes`). */
export interface RerunDefaults {
  readonly maxInterruptions: number;
  readonly maxCrashes: number;
}

export const DEFAULT_RERUNS: RerunDefaults = Object.freeze({ maxInterruptions: 1, maxCrashes: 1 });

const CACHE_KEYS: ReadonlySet<string> = new Set(['key', 'ttl']);
const DEFAULT_CACHE: ResolvedCache = Object.freeze({ key: undefined, ttl: undefined });

/** Reads the fields from a spec whose own fields were checked already; `external`: the task has nothing to run. */
export function resolveLongRunning(spec: Record<string, unknown>, external: boolean, defaults: RerunDefaults): LongRunningSettings {
  const heartbeatTimeout = optionalNumber('heartbeatTimeout', spec.heartbeatTimeout, { min: 0, exclusive: true, max: MAX_DELAY });
  const cache = resolveCache(spec.cache);
  if (external && heartbeatTimeout !== undefined) {
    throw new InvalidOptionError(
      'heartbeatTimeout',
      'Expected `heartbeatTimeout` only on a task that runs (`fn`, `handler` or `module`), got it on an external task: nothing of it would send heartbeats',
    );
  }
  if (external && cache !== undefined) {
    throw new InvalidOptionError(
      'cache',
      'Expected `cache` only on a task that runs (`fn`, `handler` or `module`), got it on an external task, whose result its caller gives',
    );
  }
  return {
    heartbeatTimeout,
    cache,
    deadline: optionalNumber('deadline', spec.deadline, { min: 0, exclusive: true, max: MAX_DELAY }),
    maxInterruptions: optionalInteger('maxInterruptions', spec.maxInterruptions, 0, defaults.maxInterruptions),
    maxCrashes: optionalInteger('maxCrashes', spec.maxCrashes, 0, defaults.maxCrashes),
  };
}

function resolveCache(value: unknown): ResolvedCache | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_CACHE;
  if (!isPlainObject(value)) throw invalid('cache', 'true, false, or a plain object { key?, ttl? }', value);
  const given = ownFields('cache', value, CACHE_KEYS, 'cache.');
  const key = given.key;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) throw invalid('cache.key', 'a non-empty string', key);
  const ttl = optionalNumber('cache.ttl', given.ttl, { min: 0, exclusive: true, max: MAX_DELAY });
  return key === undefined && ttl === undefined ? DEFAULT_CACHE : Object.freeze({ key, ttl });
}
