/**
 * Engine options and their validation into a fully resolved object; the
 * inside of the engine trusts it.
 */
import { availableParallelism } from 'node:os';
import type { InspectionEvent, Observer } from 'xstate';
import type { Executor } from './executors/executor.js';
import { InvalidOptionError } from './errors.js';
import { checkKeys, invalid, isPlainObject, optionalInteger, optionalNumber } from './validate.js';

/** Timers, as XState's clock sees them; XState's `SimulatedClock` fits. */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

export interface TaskEngineOptions {
  /** Max RUNNING tasks, an integer >= 1. @default 4 */
  concurrency?: number;
  /** Named resource pools and their capacity in units, e.g. `{ db: 2 }`. @default {} */
  resources?: Record<string, number>;
  /** Forget finished tasks automatically: keep at most `maxFinished`, each for at most `finishedTtl` ms. @default keep all */
  retention?: { maxFinished?: number; finishedTtl?: number };
  /** The worker-thread pool for `executor: 'pool'`. @default { maxWorkers: os.availableParallelism(), minWorkers: 0 } */
  pool?: { maxWorkers?: number; minWorkers?: number };
  /** An XState inspection observer passed to every task actor and the supervisor. @default off */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Extra executors by name, e.g. `{ remote: new BullMQExecutor(...) }`. */
  executors?: Record<string, Executor>;
  /** Advanced, for tests: the clock for every timer (XState's `SimulatedClock` fits). @default real timers */
  clock?: Clock;
  /** Advanced, for tests: the time source for timestamps. @default Date.now */
  now?: () => number;
}

export interface ResolvedEngineOptions {
  readonly concurrency: number;
  readonly resources: ReadonlyMap<string, number>;
  readonly maxFinished: number;
  readonly finishedTtl: number | undefined;
  readonly pool: { readonly maxWorkers: number; readonly minWorkers: number };
  readonly inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
  readonly executors: ReadonlyMap<string, Executor>;
  readonly clock: Clock | undefined;
  readonly now: () => number;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'concurrency', 'resources', 'retention', 'pool', 'inspect', 'executors', 'clock', 'now',
]);
const RESERVED_EXECUTORS: ReadonlySet<string> = new Set(['async', 'pool']);

export function resolveEngineOptions(options: unknown): ResolvedEngineOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) throw invalid('options', 'a plain object', options);
  checkKeys('options', options, OPTION_KEYS);
  const retention = resolveObject('retention', options.retention, new Set(['maxFinished', 'finishedTtl']));
  const pool = resolveObject('pool', options.pool, new Set(['maxWorkers', 'minWorkers']));
  const maxWorkers = optionalInteger('pool.maxWorkers', pool.maxWorkers, 1, availableParallelism());
  const minWorkers = optionalInteger('pool.minWorkers', pool.minWorkers, 0, 0);
  if (minWorkers > maxWorkers) throw invalid('pool.minWorkers', `an integer <= pool.maxWorkers (${maxWorkers})`, minWorkers);
  return {
    concurrency: optionalInteger('concurrency', options.concurrency, 1, 4),
    resources: resolveResources(options.resources),
    maxFinished: optionalInteger('retention.maxFinished', retention.maxFinished, 0, Infinity),
    finishedTtl: optionalNumber('retention.finishedTtl', retention.finishedTtl, { min: 0 }),
    pool: { maxWorkers, minWorkers },
    inspect: resolveInspect(options.inspect),
    executors: resolveExecutors(options.executors),
    clock: resolveClock(options.clock),
    now: resolveNow(options.now),
  };
}

function resolveObject(field: string, value: unknown, keys: ReadonlySet<string>): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalid(field, 'a plain object', value);
  checkKeys(field, value, keys);
  return value;
}

function resolveResources(value: unknown): ReadonlyMap<string, number> {
  const pools = new Map<string, number>();
  if (value === undefined) return pools;
  if (!isPlainObject(value)) throw invalid('resources', 'a plain object of pool names to capacities', value);
  for (const name of Object.keys(value)) {
    const capacity = value[name];
    if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) {
      throw invalid(`resources.${name}`, 'an integer >= 1', capacity);
    }
    pools.set(name, capacity);
  }
  return pools;
}

function resolveInspect(value: unknown): ResolvedEngineOptions['inspect'] {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as (event: InspectionEvent) => void;
  if (isPlainObject(value) || (typeof value === 'object' && value !== null && 'next' in value)) {
    return value as Observer<InspectionEvent>;
  }
  throw invalid('inspect', 'an XState inspection observer or function', value);
}

function resolveExecutors(value: unknown): ReadonlyMap<string, Executor> {
  const executors = new Map<string, Executor>();
  if (value === undefined) return executors;
  if (!isPlainObject(value)) throw invalid('executors', 'a plain object of executor names to executors', value);
  for (const name of Object.keys(value)) {
    if (RESERVED_EXECUTORS.has(name)) {
      throw new InvalidOptionError(`executors.${name}`, `Executor name \`${name}\` is built in; choose another name`);
    }
    const executor = value[name] as Partial<Executor> | null | undefined;
    if (typeof executor !== 'object' || executor === null || typeof executor.execute !== 'function') {
      throw invalid(`executors.${name}`, 'an object with an `execute(request)` method', executor);
    }
    executors.set(name, executor as Executor);
  }
  return executors;
}

function resolveClock(value: unknown): Clock | undefined {
  if (value === undefined) return undefined;
  const clock = value as Partial<Clock> | null;
  if (typeof clock !== 'object' || clock === null || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw invalid('clock', 'an object with setTimeout and clearTimeout', value);
  }
  return clock as Clock;
}

function resolveNow(value: unknown): () => number {
  if (value === undefined) return Date.now;
  if (typeof value !== 'function') throw invalid('now', 'a function returning ms', value);
  return value as () => number;
}
