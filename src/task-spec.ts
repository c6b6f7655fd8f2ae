/**
 * The task spec users pass to `registerTask`, the context a task function
 * receives, and validation of a spec into a fully resolved one. The inside of
 * the engine trusts a ResolvedTaskSpec.
 */
import { NO_CLAIMS, resolveClaims, type LimitSpec } from './limits.js';
import { resolveLongRunning, type CacheSpec, type ResolvedCache, type RerunDefaults } from './long-running.js';
import type { LimitClaim, LimiterOptions } from './scheduling/key-limits.js';
import { DEFAULT_TRIGGER, TRIGGER_RULES, type TriggerRule } from './machines/trigger-rules.js';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError } from './errors.js';
import { MAX_DELAY } from './scheduling/backoff.js';
import type { ResourceRequest } from './scheduling/resources.js';
import { findUncloneable } from './wire/cloneable.js';
import type { DependencyOutcome } from './wire/dependencies.js';
import { serialize } from 'node:v8';
import { TaskPriority } from './status.js';
import {
  ownFields,
  readingInput,
  invalid,
  isPlainObject,
  optionalFunction,
  optionalInteger,
  optionalNumber,
  optionalString,
} from './validate.js';

/** What a task function receives as its first argument. */
export type { DependencyOutcome };

export interface TaskContext {
  readonly id: string;
  readonly name: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * The task's dependencies in declaration order, as they ended: a fan-in (`trigger: 'all_done'`) uses what
   * succeeded without calling back into the engine. Complete even when retention forgot a dependency. Cloned for
   * pool tasks, JSON for remote tasks. Empty for a task without dependencies.
   */
  readonly dependencies: readonly DependencyOutcome[];
  /** Aborted on timeout, cancel, completeTask/failTask from outside, and shutdown; never on normal completion or failure. */
  readonly signal: AbortSignal;
  /** Reports progress: `fraction` in [0, 1]. Ignored once the attempt is over. Counts as a heartbeat. */
  progress(fraction: number, message?: string): void;
  /**
   * Tells the engine the attempt is alive (see `heartbeatTimeout`), with an optional checkpoint: the latest
   * `details` are handed to the next attempt as `lastHeartbeat` (after a crash too, with a durable store).
   * Structured-cloneable data (JSON for remote tasks). Ignored once the attempt is over.
   */
  heartbeat(details?: unknown): void;
  /** The last heartbeat details of an earlier attempt of this task (undefined when none gave any): where to resume. */
  readonly lastHeartbeat: unknown;
  /** Registers a disposer run once when the task reaches its terminal status (at once if it already has). */
  registerResource(dispose: () => void | Promise<void>): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskFunction<A extends unknown[] = any[], R = unknown> = (ctx: TaskContext, ...args: A) => R | Promise<R>;

/** A task to register. Only `name` is required. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface TaskSpec<A extends unknown[] = any[], R = unknown> {
  /** Unique id; generated when absent. */
  id?: string;
  /** Required, non-empty. */
  name: string;
  /** The work. Absent (and no handler or module): an external task that the caller drives with completeTask/failTask. */
  fn?: TaskFunction<A, R>;
  /** A name given to `engine.defineTask(name, fn)`, instead of `fn`. */
  handler?: string;
  /** Arguments after the context. @default [] */
  args?: A;
  /** @default TaskPriority.NORMAL */
  priority?: TaskPriority;
  /** Ids registered before, or in the same registerTasks batch. @default [] */
  dependencies?: string[];
  /**
   * When the dependencies let the task run (Airflow's trigger rules; COMPLETED counts as success, FAILED as failed,
   * CANCELLED as skipped). @default 'all_success'
   */
  trigger?: TriggerRule;
  /** Integer >= 0. @default 0 */
  maxRetries?: number;
  /** ms; the delay before retry n is retryDelay * 2^(n-1). @default 1000 */
  retryDelay?: number;
  /** ms cap on the retry delay. @default Infinity */
  maxRetryDelay?: number;
  /** Fraction in [0, 1] by which each retry delay may be shortened, spreading retries of many tasks. @default 0 */
  jitter?: number;
  /** ms per attempt, > 0. @default none */
  timeout?: number;
  /** Units of the engine's named resource pools held while running, e.g. `{ db: 1 }`. */
  resources?: Record<string, number>;
  /**
   * The key of each of the engine's limiters the task runs under, and what each start costs in its rate window
   * (default 1): `{ domain: 'example.com', llm: { key: 'team-a', cost: 1500 } }`. Held back by a limit, the task
   * is PENDING and holds no slot. @default none
   */
  limits?: Record<string, LimitSpec>;
  /** @default 'async' ('pool' when `module` is given) */
  executor?: string;
  /** With a store: whether the task is persisted. @default true */
  durable?: boolean;
  /** Pool tasks: a module path or file URL... */
  module?: string | URL;
  /** ...and the export to call. @default 'default' */
  export?: string;
  /**
   * ms an attempt may go without `ctx.heartbeat()` or `ctx.progress()` before it is stalled: aborted (a pool thread
   * killed) and failed with ERR_TASK_STALLED, retried like a timeout. @default none
   */
  heartbeatTimeout?: number;
  /**
   * Reuse a fresh COMPLETED result of the same key instead of running: `true` keys on the handler (or module and
   * export, or the task's name for an `fn`), the arguments and the dependencies' results; `key` replaces that hash;
   * `ttl` (ms) bounds how long a result stays fresh. @default false
   */
  cache?: CacheSpec;
  /** ms after startTask: a `deadline` event if the task is not terminal by then (it keeps running). @default none */
  deadline?: number;
  /**
   * Attempts interrupted by a process death that re-run after `restore()` free of `maxRetries`; past them, an
   * interruption counts as a failed attempt. @default the engine's `maxInterruptions` (1)
   */
  maxInterruptions?: number;
  /** The same for remote attempts whose worker process died (ERR_WORKER_CRASHED). @default the engine's `maxCrashes` (1) */
  maxCrashes?: number;
  /**
   * Pool tasks: ArrayBuffers among `args` to move to the worker instead of copying.
   * They are unusable on this side afterwards, so only with `maxRetries: 0`.
   */
  transfer?: ArrayBuffer[];
}

/** What a task runs: an inline function, a named handler, a module export, or nothing (external). */
export type TaskKind = 'fn' | 'handler' | 'module' | 'external';

/** A validated spec with every default applied. */
export interface ResolvedTaskSpec {
  readonly id: string;
  readonly name: string;
  readonly kind: TaskKind;
  readonly fn: TaskFunction | undefined;
  readonly handler: string | undefined;
  readonly module: string | undefined;
  readonly exportName: string;
  readonly args: readonly unknown[];
  readonly priority: TaskPriority;
  readonly dependencies: readonly string[];
  readonly trigger: TriggerRule;
  readonly maxRetries: number;
  readonly retryDelay: number;
  readonly maxRetryDelay: number;
  readonly jitter: number;
  readonly timeout: number | undefined;
  /** ms without a heartbeat before an attempt is stalled; undefined for no watch. */
  readonly heartbeatTimeout: number | undefined;
  /** Its results cache settings; undefined when it does not use the cache. */
  readonly cache: ResolvedCache | undefined;
  /** ms after startTask at which a task not yet terminal raises a `deadline` event. */
  readonly deadline: number | undefined;
  readonly maxInterruptions: number;
  readonly maxCrashes: number;
  readonly resources: ResourceRequest;
  /** Its claims on the engine's limiters, sorted by limiter name; empty for none. */
  readonly limits: readonly LimitClaim[];
  readonly executor: string;
  readonly durable: boolean;
  /** Tasks with equal lanes need exactly the same executor and resources. */
  readonly lane: string;
  readonly transfer: readonly ArrayBuffer[];
}

/** What validation needs to know about the engine. */
export interface SpecEnvironment {
  resourceCapacity(name: string): number | undefined;
  hasExecutor(name: string): boolean;
  /** Whether the named executor starts attempts later and keeps them across processes (a remote queue). */
  startsLater(name: string): boolean;
  validateForExecutor(
    executor: string,
    spec: { kind: TaskKind; handler: string | undefined; fn: TaskFunction | undefined; args: readonly unknown[] },
  ): void;
  generateId(): string;
  /** Whether the engine has a durable store (then `durable` defaults to true). */
  readonly durable: boolean;
  /** The engine's limiters, by name. */
  readonly limiters: ReadonlyMap<string, LimiterOptions>;
  /** The engine's defaults of `maxInterruptions` and `maxCrashes`. */
  readonly reruns: RerunDefaults;
}

const SPEC_KEYS: ReadonlySet<string> = new Set([
  'id',
  'name',
  'fn',
  'handler',
  'args',
  'priority',
  'dependencies',
  'trigger',
  'maxRetries',
  'retryDelay',
  'maxRetryDelay',
  'jitter',
  'timeout',
  'resources',
  'limits',
  'executor',
  'durable',
  'module',
  'export',
  'transfer',
  'heartbeatTimeout',
  'cache',
  'deadline',
  'maxInterruptions',
  'maxCrashes',
]);
const PRIORITIES: ReadonlySet<unknown> = new Set(Object.values(TaskPriority));

export function resolveTaskSpec(input: unknown, env: SpecEnvironment): ResolvedTaskSpec {
  if (!isPlainObject(input)) throw invalid('spec', 'a plain object', input);
  const spec = ownFields('spec', input, SPEC_KEYS);
  const id = optionalString('id', spec.id) ?? env.generateId();
  const name = optionalString('name', spec.name);
  if (name === undefined) throw invalid('name', 'a non-empty string', spec.name);
  const fn = optionalFunction<TaskFunction>('fn', spec.fn);
  const handler = optionalString('handler', spec.handler);
  const module = readingInput('module', () => resolveModule(spec.module));
  const kind = resolveKind(fn, handler, module);
  const executor = resolveExecutor(spec.executor, kind, env);
  const args = readingInput('args', () => resolveArgs(spec.args));
  env.validateForExecutor(executor, { kind, handler, fn, args });
  const resources = readingInput('resources', () => resolveResources(spec.resources, env));
  const retryDelay = optionalNumber('retryDelay', spec.retryDelay, { min: 0, max: MAX_DELAY }) ?? 1000;
  const long = resolveLongRunning(spec, kind === 'external', env.reruns);
  const resolved: ResolvedTaskSpec = {
    id,
    name,
    kind,
    fn,
    handler,
    module,
    exportName: optionalString('export', spec.export) ?? 'default',
    args,
    priority: resolvePriority(spec.priority),
    dependencies: readingInput('dependencies', () => resolveDependencies(spec.dependencies)),
    trigger: resolveTrigger(spec.trigger),
    maxRetries: optionalInteger('maxRetries', spec.maxRetries, 0, 0),
    retryDelay,
    maxRetryDelay: optionalNumber('maxRetryDelay', spec.maxRetryDelay, { min: 0, allowInfinity: true }) ?? Infinity,
    jitter: optionalNumber('jitter', spec.jitter, { min: 0, max: 1 }) ?? 0,
    timeout: optionalNumber('timeout', spec.timeout, { min: 0, exclusive: true, max: MAX_DELAY }),
    heartbeatTimeout: long.heartbeatTimeout,
    cache: long.cache,
    deadline: long.deadline,
    maxInterruptions: long.maxInterruptions,
    maxCrashes: long.maxCrashes,
    resources,
    limits: readingInput('limits', () => resolveClaims(spec.limits, env.limiters)),
    executor,
    durable: resolveBoolean('durable', spec.durable, true) && env.durable,
    lane: laneOf(executor, resources),
    transfer: EMPTY_ARGS as readonly ArrayBuffer[],
  };
  if (spec.export !== undefined && kind !== 'module') throw invalid('export', 'used only together with `module`', spec.export);
  if (resolved.durable) checkDurable(resolved);
  if (spec.transfer === undefined) return resolved;
  return { ...resolved, transfer: readingInput('transfer', () => resolveTransfer(spec.transfer, resolved)) };
}

/** A durable task must be runnable by another process: named code and storable args. */
function checkDurable(spec: ResolvedTaskSpec): void {
  if (spec.kind === 'fn') {
    throw new InvalidOptionError(
      'fn',
      `Expected a \`handler\` (defined with engine.defineTask()) or a pool \`module\` for durable task \`${spec.id}\`, got an inline \`fn\`: ` +
        'another process cannot run a closure after a restart; pass `durable: false` to keep this task in memory only',
    );
  }
  try {
    serialize(spec.args); // what the store will do with them: refused now, before anything changes
  } catch (error) {
    const where = findUncloneable(spec.args, 'args') ?? `v8.serialize refused them (${(error as Error)?.message})`;
    throw new InvalidOptionError(
      'args',
      `Expected the \`args\` of durable task \`${spec.id}\` to be storable data (structured-cloneable), but ${where}`,
      { cause: error },
    );
  }
}

function resolveKind(fn: unknown, handler: unknown, module: unknown): TaskKind {
  const given = [fn && 'fn', handler && 'handler', module && 'module'].filter(Boolean) as TaskKind[];
  if (given.length > 1) {
    throw new InvalidOptionError(
      given.join('/'),
      `Expected at most one of \`fn\`, \`handler\` and \`module\`, got ${given.map((k) => `\`${k}\``).join(' and ')}`,
    );
  }
  return given[0] ?? 'external';
}

function resolveExecutor(value: unknown, kind: TaskKind, env: SpecEnvironment): string {
  const executor = optionalString('executor', value) ?? (kind === 'module' ? 'pool' : 'async');
  if (!env.hasExecutor(executor)) {
    throw invalid('executor', "`async`, `pool`, or a name from the engine's `executors` option", value);
  }
  if (kind === 'module' && executor !== 'pool') throw invalid('executor', '`pool` (or absent) when `module` is given', value);
  if (executor === 'pool' && kind !== 'fn' && kind !== 'module') {
    throw new InvalidOptionError(
      'executor',
      `Expected \`module\` or \`fn\` with \`executor: 'pool'\`, got ${kind === 'handler' ? '`handler`' : 'neither'}`,
    );
  }
  return executor;
}

/** A module path (absolute, or relative to the working directory) or file URL, as a file URL href. @throws InvalidOptionError for `module`. */
export function resolveModule(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof URL && value.protocol === 'file:') return value.href;
  if (typeof value === 'string' && value.startsWith('file:')) {
    try {
      const url = new URL(value);
      if (url.host === '') return url.href;
    } catch {
      // reported below
    }
    throw invalid('module', 'a non-empty path or a file: URL without a host', value);
  }
  if (typeof value === 'string' && value.length > 0) return pathToFileURL(resolvePath(value)).href;
  throw invalid('module', 'a non-empty path or a file: URL', value);
}

function resolveTransfer(value: unknown, spec: ResolvedTaskSpec): readonly ArrayBuffer[] {
  if (!Array.isArray(value) || !value.every((item) => item instanceof ArrayBuffer)) {
    throw invalid('transfer', 'an array of ArrayBuffers', value);
  }
  if (spec.executor !== 'pool') throw invalid('transfer', "used only with `executor: 'pool'`", value);
  if (spec.maxRetries !== 0) {
    throw new InvalidOptionError('transfer', 'Expected `transfer` only with `maxRetries: 0`: a moved buffer is empty for a retry');
  }
  return value;
}

function resolveArgs(value: unknown): readonly unknown[] {
  if (value === undefined) return EMPTY_ARGS;
  if (!Array.isArray(value)) throw invalid('args', 'an array', value);
  // A copy: pushing to or replacing items of the caller's array later does not change what runs.
  return value.slice();
}

function resolvePriority(value: unknown): TaskPriority {
  if (value === undefined) return TaskPriority.NORMAL;
  if (!PRIORITIES.has(value)) throw invalid('priority', 'one of TaskPriority.LOW (0), NORMAL (1), HIGH (2), CRITICAL (3)', value);
  return value as TaskPriority;
}

function resolveTrigger(value: unknown): TriggerRule {
  if (value === undefined) return DEFAULT_TRIGGER;
  if (TRIGGER_RULES.includes(value as TriggerRule)) return value as TriggerRule;
  throw invalid('trigger', `one of ${TRIGGER_RULES.join(', ')}`, value);
}

function resolveDependencies(value: unknown): readonly string[] {
  if (value === undefined) return EMPTY_ARGS as readonly string[];
  if (!Array.isArray(value)) throw invalid('dependencies', 'an array of task ids', value);
  const seen = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    const id: unknown = value[i];
    if (typeof id !== 'string' || id.length === 0) throw invalid(`dependencies[${i}]`, 'a non-empty string task id', id);
    seen.add(id);
  }
  // Frozen: getTask() hands this array out, and the scheduler relies on it.
  return Object.freeze(seen.size === value.length ? (value as string[]).slice() : [...seen]);
}

function resolveResources(value: unknown, env: SpecEnvironment): ResourceRequest {
  if (value === undefined) return EMPTY_ARGS as ResourceRequest;
  if (!isPlainObject(value)) throw invalid('resources', 'a plain object of pool names to units', value);
  const request: Array<[string, number]> = [];
  for (const name of Object.keys(value).sort()) {
    const units = value[name];
    const capacity = env.resourceCapacity(name);
    if (capacity === undefined) {
      throw new InvalidOptionError(
        `resources.${name}`,
        `Unknown resource pool \`${name}\` in \`resources\`; the engine's pools are given by its \`resources\` option`,
      );
    }
    if (typeof units !== 'number' || !Number.isInteger(units) || units < 1 || units > capacity) {
      throw invalid(`resources.${name}`, `an integer from 1 to the pool's capacity ${capacity}`, units);
    }
    request.push([name, units]);
  }
  return request;
}

function resolveBoolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(field, 'a boolean', value);
  return value;
}

export function laneOf(executor: string, resources: ResourceRequest): string {
  return resources.length === 0 ? executor : JSON.stringify([executor, resources]);
}

const EMPTY_ARGS: readonly unknown[] = Object.freeze([]);

const released = new Map<string, ResolvedTaskSpec>();

/**
 * What a finished task keeps in place of its spec: one frozen placeholder per
 * executor, shared by every finished task of that executor. Only `executor`
 * is meaningful (an attempt queued in the same step as the task's end still
 * releases the right executor slot); what the task ran with (`fn`, `args`,
 * `transfer`, the closure they hold) is let go. Its dependencies live on the record.
 */
export function releaseSpec(spec: ResolvedTaskSpec): ResolvedTaskSpec {
  let placeholder = released.get(spec.executor);
  if (placeholder === undefined) {
    placeholder = Object.freeze({
      id: '',
      name: '',
      kind: 'external',
      fn: undefined,
      handler: undefined,
      module: undefined,
      exportName: 'default',
      args: EMPTY_ARGS,
      priority: TaskPriority.NORMAL,
      dependencies: EMPTY_ARGS as readonly string[],
      trigger: DEFAULT_TRIGGER,
      maxRetries: 0,
      retryDelay: 0,
      maxRetryDelay: 0,
      jitter: 0,
      timeout: undefined,
      heartbeatTimeout: undefined,
      cache: undefined,
      deadline: undefined,
      maxInterruptions: 0,
      maxCrashes: 0,
      resources: EMPTY_ARGS as ResourceRequest,
      limits: NO_CLAIMS,
      executor: spec.executor,
      durable: false,
      lane: spec.executor,
      transfer: EMPTY_ARGS as readonly ArrayBuffer[],
    } satisfies ResolvedTaskSpec);
    released.set(spec.executor, placeholder);
  }
  return placeholder;
}
