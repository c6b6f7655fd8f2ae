/**
 * Engine options and their validation into a fully resolved object; the
 * inside of the engine trusts it.
 */
import { resolveLimiters, type LimiterSpec } from './limits.js';
import { DEFAULT_RERUNS, type RerunDefaults } from './long-running.js';
import type { LimiterOptions } from './scheduling/key-limits.js';
import { availableParallelism } from 'node:os';
import type { InspectionEvent, Observer } from 'xstate';
import type { Executor } from './executors/executor.js';
import type { TaskStore } from './store/task-store.js';
import { RUNTIME_KINDS, type RuntimeKind } from './runtime/task-runtime.js';
import { InvalidOptionError } from './errors.js';
import { invalid, isPlainObject, optionalInteger, optionalNumber, ownFields, readingInput } from './validate.js';

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
  /**
   * A durable store, e.g. `new SqliteStore({ path: 'tasks.db' })` from `taskchart/sqlite`: every task
   * (unless `durable: false`) is kept on disk, and `restore()` in a later process picks up where this one stopped.
   * @default in memory only
   */
  store?: TaskStore;
  /**
   * What runs each task's statechart. `'xstate'`: every task a root XState actor. `'compiled'`: the same machine
   * compiled once into a transition table, proven equal to XState by a differential property test, and about five
   * times cheaper per task. `inspect` always uses `'xstate'` (the inspector sees real actors). When absent, the
   * environment variable `TASKCHART_RUNTIME` (`xstate` or `compiled`) chooses, so a whole program or test suite
   * can be switched without a code change.
   * @default 'xstate'
   */
  runtime?: RuntimeKind;
  /**
   * Named per-key limiters, e.g. `{ domain: { concurrency: 2, rate: { limit: 5, interval: 1000 } } }`: each distinct key
   * a task names (`limits: { domain: 'example.com' }`) is its own limit of running tasks and of units started within
   * any `interval` ms. @default none
   */
  limits?: Record<string, LimiterSpec>;
  /** Results kept by the in-memory results cache (`cache` on a task spec), least recently used out. @default 1000 */
  cacheSize?: number;
  /** The default `maxInterruptions` of a task spec. @default 1 */
  maxInterruptions?: number;
  /** The default `maxCrashes` of a task spec. @default 1 */
  maxCrashes?: number;
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
  /** The runtime in force: 'xstate' whenever `inspect` is set. */
  readonly runtime: RuntimeKind;
  readonly executors: ReadonlyMap<string, Executor>;
  readonly store: TaskStore | undefined;
  readonly limiters: ReadonlyMap<string, LimiterOptions>;
  readonly cacheSize: number;
  readonly reruns: RerunDefaults;
  readonly clock: Clock | undefined;
  readonly now: () => number;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'concurrency',
  'resources',
  'retention',
  'pool',
  'inspect',
  'runtime',
  'executors',
  'store',
  'limits',
  'cacheSize',
  'maxInterruptions',
  'maxCrashes',
  'clock',
  'now',
]);
/** Results the in-memory cache keeps by default. */
export const DEFAULT_CACHE_SIZE = 1000;
const RESERVED_EXECUTORS: ReadonlySet<string> = new Set(['async', 'pool']);

export function resolveEngineOptions(given: unknown): ResolvedEngineOptions {
  const input = given === undefined ? {} : given;
  if (!isPlainObject(input)) throw invalid('options', 'a plain object', input);
  const options = ownFields('options', input, OPTION_KEYS);
  const retention = resolveObject('retention', options.retention, new Set(['maxFinished', 'finishedTtl']));
  const pool = resolveObject('pool', options.pool, new Set(['maxWorkers', 'minWorkers']));
  const maxWorkers = optionalInteger('pool.maxWorkers', pool.maxWorkers, 1, availableParallelism());
  const minWorkers = optionalInteger('pool.minWorkers', pool.minWorkers, 0, 0);
  if (minWorkers > maxWorkers) throw invalid('pool.minWorkers', `an integer <= pool.maxWorkers (${maxWorkers})`, minWorkers);
  const resolved = {
    concurrency: optionalInteger('concurrency', options.concurrency, 1, 4),
    resources: readingInput('resources', () => resolveResources(options.resources)),
    maxFinished:
      retention.maxFinished === Infinity ? Infinity : optionalInteger('retention.maxFinished', retention.maxFinished, 0, Infinity),
    finishedTtl: optionalNumber('retention.finishedTtl', retention.finishedTtl, { min: 0 }),
    pool: { maxWorkers, minWorkers },
    inspect: readingInput('inspect', () => resolveInspect(options.inspect)),
    executors: readingInput('executors', () => resolveExecutors(options.executors)),
    store: readingInput('store', () => resolveStore(options.store)),
    limiters: readingInput('limits', () => resolveLimiters(options.limits)),
    cacheSize: optionalInteger('cacheSize', options.cacheSize, 1, DEFAULT_CACHE_SIZE),
    reruns: {
      maxInterruptions: optionalInteger('maxInterruptions', options.maxInterruptions, 0, DEFAULT_RERUNS.maxInterruptions),
      maxCrashes: optionalInteger('maxCrashes', options.maxCrashes, 0, DEFAULT_RERUNS.maxCrashes),
    },
    clock: readingInput('clock', () => resolveClock(options.clock)),
    now: readingInput('now', () => resolveNow(options.now)),
  };
  const runtime = resolveRuntime(options.runtime);
  return { ...resolved, runtime: resolved.inspect === undefined ? runtime : 'xstate' };
}

function resolveObject(field: string, value: unknown, keys: ReadonlySet<string>): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalid(field, 'a plain object', value);
  return ownFields(field, value, keys, `${field}.`);
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
  // An observer's callbacks are each optional, as XState's Observer type says.
  const observer = value as Partial<Record<'next' | 'error' | 'complete', unknown>> | null;
  const callbacks = (['next', 'error', 'complete'] as const).every(
    (key) => observer?.[key] === undefined || typeof observer[key] === 'function',
  );
  const shaped = isPlainObject(value) || typeof observer?.next === 'function'; // not an array, Map, ...
  if (typeof observer === 'object' && observer !== null && shaped && callbacks) return observer as Observer<InspectionEvent>;
  throw invalid('inspect', 'an XState inspection observer ({ next(event) }) or a function', value);
}

/** The `runtime` option, or else `TASKCHART_RUNTIME` from the environment, or else 'xstate'. */
function resolveRuntime(value: unknown): RuntimeKind {
  if (value !== undefined) {
    if (typeof value !== 'string' || !RUNTIME_KINDS.includes(value as RuntimeKind))
      throw invalid('runtime', "'xstate' or 'compiled'", value);
    return value as RuntimeKind;
  }
  const fromEnvironment = typeof process === 'undefined' ? undefined : process.env.TASKCHART_RUNTIME;
  if (fromEnvironment === undefined || fromEnvironment === '') return 'xstate';
  if (!RUNTIME_KINDS.includes(fromEnvironment as RuntimeKind))
    throw invalid('TASKCHART_RUNTIME (environment)', "'xstate' or 'compiled'", fromEnvironment);
  return fromEnvironment as RuntimeKind;
}

function resolveExecutors(value: unknown): ReadonlyMap<string, Executor> {
  const executors = new Map<string, Executor>();
  if (value === undefined) return executors;
  if (!isPlainObject(value)) throw invalid('executors', 'a plain object of executor names to executors', value);
  for (const name of Object.keys(value)) {
    if (RESERVED_EXECUTORS.has(name)) {
      throw new InvalidOptionError(
        `executors.${name}`,
        `Expected \`executors.${name}\` to have another name: \`${name}\` is a built-in executor`,
      );
    }
    const executor = value[name] as Partial<Executor> | null | undefined;
    if (typeof executor !== 'object' || executor === null || typeof executor.execute !== 'function') {
      throw invalid(`executors.${name}`, 'an object with an `execute(request)` method', executor);
    }
    for (const method of ['validate', 'close'] as const) {
      if (executor[method] !== undefined && typeof executor[method] !== 'function') {
        throw invalid(`executors.${name}.${method}`, 'a function or absent', executor[method]);
      }
    }
    const limit = executor.concurrency;
    if (limit !== undefined && limit !== Infinity && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
      throw invalid(`executors.${name}.concurrency`, 'an integer >= 1, Infinity, or absent', limit);
    }
    executors.set(name, executor as Executor);
  }
  return executors;
}

function resolveStore(value: unknown): TaskStore | undefined {
  if (value === undefined) return undefined;
  const store = value as Partial<Record<keyof TaskStore, unknown>> | null;
  const methods = ['open', 'load', 'commit', 'close'] as const;
  if (typeof store !== 'object' || store === null || !methods.every((method) => typeof store[method] === 'function')) {
    throw invalid(
      'store',
      "a task store (e.g. `new SqliteStore({ path })` from 'taskchart/sqlite') with open, load, commit and close",
      value,
    );
  }
  return store as TaskStore;
}

function resolveClock(value: unknown): Clock | undefined {
  if (value === undefined) return undefined;
  const clock = value as Partial<Clock> | null;
  if (typeof clock !== 'object' || clock === null || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw invalid('clock', 'an object with setTimeout and clearTimeout', value);
  }
  // Bound once, here: the engine calls them later, from inside transitions (a timeout, a backoff, retention), where
  // a function that cannot even be bound (a Proxy whose traps throw) would surface as a raw error far from its cause.
  return { setTimeout: clock.setTimeout.bind(clock), clearTimeout: clock.clearTimeout.bind(clock) } as Clock;
}

function resolveNow(value: unknown): () => number {
  if (value === undefined) return Date.now;
  if (typeof value !== 'function') throw invalid('now', 'a function returning ms', value);
  // Called once here, so a `now` that throws or returns no number is refused now rather than mid-run.
  const sample: unknown = (value as () => unknown)();
  if (typeof sample !== 'number' || !Number.isFinite(sample)) throw invalid('now', 'a function returning ms (a finite number)', sample);
  return value as () => number;
}
