/**
 * Reusable generators for engine-level properties: an engine (concurrency,
 * named resource pools, custom executors with their own concurrency and with
 * deferred start) and a random DAG of task plans over it. A plan is
 * plain data (no functions), so fast-check prints and shrinks it; the test
 * turns each plan into a task spec with a function of the planned behaviour.
 *
 * Shapes are generated raw and mapped, never chained, so shrinking stays
 * effective: dependencies are offsets back from a task's own index (they
 * always point to earlier tasks, so every generated graph is acyclic), and
 * resource draws are reduced modulo the engine's pools and capacities (so
 * units never exceed a pool's capacity).
 */
import { TRIGGER_RULES, type TriggerRule } from '../src/machines/trigger-rules.js';
import fc from 'fast-check';
import { TaskPriority } from '../src/index.js';

/** The names an engine's resource pools are drawn from. */
export const POOL_NAMES = ['db', 'gpu', 'net'] as const;

/**
 * A custom executor the engine is given (named `x0`, `x1`): with its own `concurrency` (attempts it may hold at
 * once, counted until each attempt's promise settles) or unlimited, and with `deferredStart` (a dispatched attempt
 * waits, PENDING and holding its slot, until a worker takes it: a step of the run) or RUNNING at dispatch.
 */
export interface ExecutorPlan {
  readonly name: string;
  readonly concurrency: number | undefined;
  readonly deferredStart: boolean;
}

/** The built-in executor's name: a task on it runs in this thread, RUNNING at dispatch, unlimited. */
export const ASYNC_EXECUTOR = 'async';

/** Engine options a property builds its engine from. */
export interface EnginePlan {
  readonly concurrency: number;
  readonly resources: Readonly<Record<string, number>>;
  readonly executors: readonly ExecutorPlan[];
  /** Running tasks per key of the one per-key limiter `site` (its keys: {@link SITE_KEYS}); undefined: no limiter. */
  readonly siteConcurrency: number | undefined;
}

/** The keys tasks draw from when the engine has a `site` limiter. */
export const SITE_KEYS = ['a.com', 'b.com', 'c.com'] as const;

/**
 * What a task's function does on each attempt:
 * - `succeed`: resolves;
 * - `fail`: every attempt throws a (retryable) Error;
 * - `flaky`: the first `failures` attempts throw, later ones resolve;
 * - `non-retryable`: throws NonRetryableError (no retry whatever maxRetries says);
 * - `hang`: never settles by itself; ends by its timeout (always set) or a cancel, and
 *   rejects once its signal aborts (a late outcome the engine must ignore).
 */
export type Behaviour =
  | { readonly kind: 'succeed' }
  | { readonly kind: 'fail' }
  | { readonly kind: 'flaky'; readonly failures: number }
  | { readonly kind: 'non-retryable' }
  | { readonly kind: 'hang' };

/** When the task is started: before the run, as a step of the run, or never. */
export type StartPlan = 'initial' | 'later' | 'never';

/**
 * A task's `heartbeatTimeout` (ms, >= 2) and whether its function beats (`ctx.heartbeat` every `timeout / 2` ms,
 * rounded down, of the engine's clock, until its attempt settles or is aborted): one that beats never stalls, one
 * that does not stalls `timeout` after it began RUNNING unless it ended before.
 */
export interface HeartbeatPlan {
  readonly timeout: number;
  readonly beats: boolean;
}

/** The results cache groups a task with `cache: true` is in: the tasks of a group share their name and args. */
export const CACHE_GROUPS = ['a', 'b'] as const;

export interface TaskPlan {
  readonly id: string;
  readonly priority: TaskPriority;
  /** Ids of earlier tasks only. */
  readonly dependencies: readonly string[];
  /** When its dependencies let it run. */
  readonly trigger: TriggerRule;
  /** Its key of the `site` limiter, when the engine has one (most tasks then do). */
  readonly site: string | undefined;
  /** Units of the engine's pools, each from 1 to the pool's capacity. */
  readonly resources: Readonly<Record<string, number>>;
  /** {@link ASYNC_EXECUTOR} or the name of one of the engine's custom executors. */
  readonly executor: string;
  readonly behaviour: Behaviour;
  readonly maxRetries: number;
  /** >= 1 ms: a zero backoff on XState's SimulatedClock waits for the next clock flush, not for time. */
  readonly retryDelay: number;
  /** Per-attempt timeout in ms; always set for `hang`. */
  readonly timeout: number | undefined;
  readonly start: StartPlan;
  /** Order among the initially started tasks: by rank, then by index. */
  readonly startRank: number;
  /** Its `heartbeatTimeout`, and whether it beats; undefined: none. */
  readonly heartbeat: HeartbeatPlan | undefined;
  /**
   * With `cache: true`, its group (name `cached-<group>`, args `[group]`): tasks of one group with the same
   * dependencies (in order: they are sorted) share a cache key. Such a task waits for all its dependencies to
   * complete (`all_success`), so that its key is known when it is ready. Undefined: no cache.
   */
  readonly cacheGroup: string | undefined;
}

/** A whole run: the engine, the DAG, the cancels issued mid-run and the clock steps. */
export interface Scenario {
  readonly engine: EnginePlan;
  readonly tasks: readonly TaskPlan[];
  /** Ids cancelled mid-run, each as its own scheduled step (repeats allowed: the second one is refused). */
  readonly cancels: readonly string[];
  /** Clock increments in ms, used in turn whenever a timer is pending. */
  readonly ticks: readonly number[];
}

export const PRIORITIES: readonly TaskPriority[] = Object.values(TaskPriority);

/** Up to two custom executors: concurrency 1..3 or unlimited, deferred start or not. */
export const executorPlansArb: fc.Arbitrary<readonly ExecutorPlan[]> = fc
  .array(fc.record({ concurrency: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), deferredStart: fc.boolean() }), {
    maxLength: 2,
  })
  .map((plans) => plans.map((plan, i) => ({ name: `x${i}`, ...plan })));

/** Concurrency 1..8, up to three named pools of capacity 1..3, and up to two custom executors. */
export const enginePlanArb: fc.Arbitrary<EnginePlan> = fc.record({
  concurrency: fc.integer({ min: 1, max: 8 }),
  resources: fc.record(
    { db: fc.integer({ min: 1, max: 3 }), gpu: fc.integer({ min: 1, max: 3 }), net: fc.integer({ min: 1, max: 3 }) },
    { requiredKeys: [] },
  ),
  executors: executorPlansArb,
  siteConcurrency: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
});

export const behaviourArb: fc.Arbitrary<Behaviour> = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ kind: 'succeed' as const }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }).map((failures) => ({ kind: 'flaky' as const, failures })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fail' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'non-retryable' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'hang' as const }) },
);

export const startPlanArb: fc.Arbitrary<StartPlan> = fc.oneof(
  { weight: 14, arbitrary: fc.constant('initial' as const) },
  { weight: 5, arbitrary: fc.constant('later' as const) },
  { weight: 1, arbitrary: fc.constant('never' as const) },
);

/** A task before it knows its index and the engine's pools. */
interface RawTask {
  readonly priority: TaskPriority;
  /** Distances back: dependency = index - 1 - (offset mod index). */
  readonly dependencyOffsets: readonly number[];
  readonly trigger: TriggerRule;
  /** Index into SITE_KEYS, or 3: no key. */
  readonly siteDraw: number;
  readonly resourceDraws: ReadonlyArray<{ readonly pool: number; readonly units: number }>;
  /** The executor, by index among the built-in one and the engine's custom ones. */
  readonly executorDraw: number;
  readonly behaviour: Behaviour;
  readonly maxRetries: number;
  readonly retryDelay: number;
  readonly timeout: number | null;
  readonly start: StartPlan;
  readonly startRank: number;
  readonly heartbeat: HeartbeatPlan | null;
  /** Index into CACHE_GROUPS, else no cache. */
  readonly cacheDraw: number;
}

/** Distances back to a task's dependencies (see {@link dependenciesAt}): none, or one to three. */
export const dependencyOffsetsArb: fc.Arbitrary<readonly number[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant([]) },
  { weight: 3, arbitrary: fc.array(fc.nat({ max: 24 }), { minLength: 1, maxLength: 3 }) },
);

const rawTaskArb: fc.Arbitrary<RawTask> = fc.record({
  priority: fc.constantFrom(...PRIORITIES),
  dependencyOffsets: dependencyOffsetsArb,
  // Mostly the default; every rule often enough that each meets every way its dependencies can end.
  trigger: fc.oneof(
    { weight: 3, arbitrary: fc.constant<TriggerRule>('all_success') },
    { weight: 4, arbitrary: fc.constantFrom(...TRIGGER_RULES) },
  ),
  siteDraw: fc.nat({ max: 3 }),
  resourceDraws: fc.array(fc.record({ pool: fc.nat(), units: fc.nat() }), { maxLength: 2 }),
  executorDraw: fc.nat(),
  behaviour: behaviourArb,
  maxRetries: fc.integer({ min: 0, max: 3 }),
  retryDelay: fc.integer({ min: 1, max: 25 }),
  timeout: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 120 }) }),
  start: startPlanArb,
  startRank: fc.nat({ max: 3 }),
  heartbeat: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.record({ timeout: fc.integer({ min: 2, max: 60 }), beats: fc.boolean() }) },
  ),
  cacheDraw: fc.nat({ max: 5 }),
});

/** The id of the task at `index`. */
export const taskId = (index: number): string => `t${index}`;

/** The dependencies of the task at `index`: each offset names an earlier task (`index - 1 - offset mod index`), duplicates merged. */
export function dependenciesAt(index: number, offsets: readonly number[]): Set<string> {
  const dependencies = new Set<string>();
  if (index > 0) for (const offset of offsets) dependencies.add(taskId(index - 1 - (offset % index)));
  return dependencies;
}

function toPlan(raw: RawTask, index: number, engine: EnginePlan): TaskPlan {
  const dependencies = dependenciesAt(index, raw.dependencyOffsets);
  const pools = Object.keys(engine.resources).sort();
  const resources: Record<string, number> = {};
  if (pools.length > 0) {
    for (const draw of raw.resourceDraws) {
      const pool = pools[draw.pool % pools.length] as string;
      resources[pool] ??= 1 + (draw.units % (engine.resources[pool] as number));
    }
  }
  const hang = raw.behaviour.kind === 'hang';
  const executors = [ASYNC_EXECUTOR, ...engine.executors.map((e) => e.name)];
  const cacheGroup = CACHE_GROUPS[raw.cacheDraw];
  const byIndex = (a: string, b: string) => Number(a.slice(1)) - Number(b.slice(1));
  return {
    id: taskId(index),
    priority: raw.priority,
    dependencies: cacheGroup === undefined ? [...dependencies] : [...dependencies].sort(byIndex),
    trigger: cacheGroup === undefined ? raw.trigger : 'all_success',
    site: engine.siteConcurrency === undefined ? undefined : SITE_KEYS[raw.siteDraw],
    resources,
    executor: executors[raw.executorDraw % executors.length] as string,
    behaviour: raw.behaviour,
    maxRetries: raw.maxRetries,
    retryDelay: raw.retryDelay,
    timeout: raw.timeout ?? (hang ? 5 + raw.retryDelay : undefined),
    start: raw.start,
    startRank: raw.startRank,
    heartbeat: raw.heartbeat ?? undefined,
    cacheGroup,
  };
}

/** A scenario of `minTasks..maxTasks` tasks; cancels target existing tasks. */
export function scenarioArb({
  minTasks,
  maxTasks,
  maxCancels,
}: {
  minTasks: number;
  maxTasks: number;
  maxCancels: number;
}): fc.Arbitrary<Scenario> {
  return fc
    .record({
      engine: enginePlanArb,
      raws: fc.array(rawTaskArb, { minLength: minTasks, maxLength: maxTasks, size: 'max' }),
      cancels: fc.array(fc.nat(), { maxLength: maxCancels }),
      ticks: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
    })
    .map(({ engine, raws, cancels, ticks }) => ({
      engine,
      tasks: raws.map((raw, index) => toPlan(raw, index, engine)),
      cancels: raws.length === 0 ? [] : cancels.map((n) => taskId(n % raws.length)),
      ticks,
    }));
}

/**
 * Mostly small DAGs, some medium, a few of up to a few hundred tasks. Every
 * branch allows a single task, so a failing DAG shrinks within its branch
 * down to the few tasks that matter.
 */
export const sizedScenarioArb: fc.Arbitrary<Scenario> = fc.oneof(
  { weight: 12, arbitrary: scenarioArb({ minTasks: 1, maxTasks: 12, maxCancels: 3 }) },
  { weight: 5, arbitrary: scenarioArb({ minTasks: 1, maxTasks: 60, maxCancels: 6 }) },
  { weight: 1, arbitrary: scenarioArb({ minTasks: 1, maxTasks: 300, maxCancels: 12 }) },
);
