/**
 * Bad input, fuzzed at every boundary: engine options, task specs and verb
 * arguments. Each call either succeeds (a registered task is then a valid
 * PENDING task matching its spec) or throws a TaskChartError with a contract
 * code and a message naming the field; never a raw error, never a hang. The
 * engine still runs a normal task afterwards, and no prototype changes.
 *
 * Runs per property: TASKCHART_PROPERTY_RUNS, else the defaults below.
 * Replay a failure with the seed and path fast-check prints.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskChartError, TaskEngine, TaskPriority, TaskStatus, type TaskEngineOptions } from '../src/index.js';
import {
  anyBadArb,
  badFor,
  badNumberArb,
  badStringArb,
  hostileArb,
  keyArb,
  materialize,
  OPTION_FIELDS,
  ordinaryBadArb,
  POLLUTING_KEYS,
  SPEC_FIELDS,
} from './bad-values.js';

const envRuns = Number.parseInt(process.env.TASKCHART_PROPERTY_RUNS ?? '', 10);
const runs = (fallback: number): number => (Number.isInteger(envRuns) && envRuns > 0 ? envRuns : fallback);

/** The codes of the contract's error table. */
const CONTRACT_CODES: ReadonlySet<string> = new Set([
  'ERR_TASK_NOT_FOUND',
  'ERR_INVALID_TRANSITION',
  'ERR_DUPLICATE_TASK',
  'ERR_UNKNOWN_DEPENDENCY',
  'ERR_DEPENDENCY_CYCLE',
  'ERR_DEPENDENCY_FAILED',
  'ERR_TASK_TIMEOUT',
  'ERR_TASK_CANCELLED',
  'ERR_WORKER_CRASHED',
  'ERR_INTERRUPTED',
  'ERR_STORE',
  'ERR_ENGINE_SHUT_DOWN',
  'ERR_INVALID_OPTION',
]);

// ---- Harness ---------------------------------------------------------------

/** The tasks of the verb fixture, one per status (see verbEngine). */
const KNOWN_IDS = ['pending', 'running', 'running-too', 'waiting', 'completed', 'failed', 'cancelled'] as const;

const engines = new Set<TaskEngine>();

function track(engine: TaskEngine): TaskEngine {
  engines.add(engine);
  return engine;
}

/** Shuts an engine down, cancelling what is left first so a drain cannot wait on an external task. */
async function dispose(engine: TaskEngine): Promise<void> {
  engines.delete(engine);
  for (const id of KNOWN_IDS) attempt(() => engine.cancelTask(id, 'end of run'));
  await settle(engine.shutdown(), 20);
}

afterEach(async () => {
  await Promise.all([...engines].map(dispose));
});

type Outcome = { status: 'fulfilled'; value: unknown } | { status: 'rejected'; reason: unknown } | { status: 'pending' };

/** How a promise stands after `turns` trips round the event loop (no timers, no wall-clock waiting). */
async function settle(promise: Promise<unknown>, turns = 20): Promise<Outcome> {
  let outcome: Outcome = { status: 'pending' };
  promise.then(
    (value) => (outcome = { status: 'fulfilled', value }),
    (reason: unknown) => (outcome = { status: 'rejected', reason }),
  );
  for (let i = 0; i < turns && outcome.status === 'pending'; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  return outcome;
}

type Result = { ok: true; value: unknown } | { ok: false; error: unknown };

function attempt(call: () => unknown): Result {
  try {
    return { ok: true, value: call() };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.constructor.name} ${error.name}: ${error.message}`;
    return `a thrown non-error ${typeof error}`;
  } catch {
    return 'an unprintable throw';
  }
}

/** `resources.db` → resources, db; `dependencies[0]` → dependencies, 0; `fn/handler` → fn, handler. */
const segments = (field: string): string[] => field.split(/[./[\]]/).filter((s) => s.length > 0);

/**
 * A TaskChartError with a contract code, a name, and a non-empty message;
 * an ERR_INVALID_OPTION names a field `fieldOk` accepts, in its message.
 */
function expectContractError(error: unknown, fieldOk: (field: string) => boolean, where: string): asserts error is TaskChartError {
  if (!(error instanceof TaskChartError)) throw new Error(`${where}: expected a TaskChartError, got ${describeError(error)}`);
  expect(CONTRACT_CODES.has(error.code), `${where}: code ${error.code} is not in the contract`).toBe(true);
  expect(typeof error.message === 'string' && error.message.trim().length > 0, `${where}: empty message`).toBe(true);
  expect(error.name, `${where}: name`).not.toBe('Error');
  if (error.code !== 'ERR_INVALID_OPTION') return;
  const field = (error as TaskChartError & { field: string }).field;
  expect(typeof field === 'string' && fieldOk(field), `${where}: field \`${String(field)}\` (${error.message})`).toBe(true);
  const named = error.message.includes(field) || segments(field).every((s) => error.message.includes(s));
  expect(named, `${where}: message does not name \`${field}\`: ${error.message}`).toBe(true);
}

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype] as const;

/** Every own key of the three prototypes and the identity of what it holds. */
function prototypeFingerprint(): string[][] {
  return PROTOTYPES.map((proto) =>
    Reflect.ownKeys(proto).map((key) => {
      const d = Object.getOwnPropertyDescriptor(proto, key) as PropertyDescriptor;
      return `${String(key)}:${[d.value, d.get, d.set].map((v) => (v === undefined ? '-' : identity(v))).join(',')}`;
    }),
  );
}
const identities = new WeakMap<object, number>();
let nextIdentity = 0;
/** A name for an object's identity, without touching the object (it may be a hostile Proxy). */
function identity(value: unknown): string {
  if (typeof value === 'symbol') return value.toString();
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return `${typeof value} ${String(value)}`;
  if (!identities.has(value)) identities.set(value, ++nextIdentity);
  return `#${identities.get(value)}`;
}
const pristine = prototypeFingerprint();

function expectPrototypesUntouched(): void {
  expect(prototypeFingerprint()).toEqual(pristine);
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
  expect(probe.constructor).toBe(Object);
  expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
  expect((function () {} as unknown as Record<string, unknown>).polluted).toBeUndefined();
}

/** A fresh object holding `entries` as own data properties, `__proto__` included (never assigned). */
function ownObject(entries: ReadonlyArray<readonly [string, unknown]>, nullProto = false): Record<string, unknown> {
  const target = (nullProto ? Object.create(null) : {}) as Record<string, unknown>;
  for (const [key, value] of entries) {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return target;
}

/** The engine still does its job: a plain task runs to COMPLETED. */
async function expectRunsNormalTask(engine: TaskEngine): Promise<void> {
  const id = engine.registerTask({ name: 'normal', fn: async (_ctx, x: number) => x * 2, args: [21] });
  const result = settle(engine.waitForTask(id));
  engine.startTask(id);
  expect(await result).toEqual({ status: 'fulfilled', value: 42 });
}

/** Shutting down settles, and resolves: no raw error, no hang. */
async function expectShutsDown(engine: TaskEngine, where: string): Promise<void> {
  engines.delete(engine);
  const outcome = await settle(engine.shutdown(), 40);
  if (outcome.status === 'rejected') throw new Error(`${where}: shutdown() rejected with ${describeError(outcome.reason)}`);
  expect(outcome.status, `${where}: shutdown() did not settle`).toBe('fulfilled');
}

const stubExecutor = () => ({ execute: async () => 'remote result' });

/** Where bad values come from: per field (with its near misses), and for anything. */
interface BadSource {
  field(name: string): fc.Arbitrary<unknown>;
  readonly any: fc.Arbitrary<unknown>;
}
const ORDINARY: BadSource = { field: (name) => badFor(name, ordinaryBadArb), any: ordinaryBadArb };
const HOSTILE: BadSource = { field: () => hostileArb, any: hostileArb };
/** Verbs get hostile arguments among ordinary ones, so a sequence mixes refusals and effects. */
const HOSTILE_AMONG_ORDINARY: BadSource = { field: (name) => fc.oneof(badFor(name, ordinaryBadArb), hostileArb), any: anyBadArb };

// ---- Engine options -------------------------------------------------------------

const realClock = () => ({
  setTimeout: (fn: (...args: unknown[]) => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout),
});
const executorNameArb = fc
  .oneof(fc.constantFrom('remote', 'r2', ...POLLUTING_KEYS), fc.string({ minLength: 1, maxLength: 4 }))
  .filter((name) => name !== 'async' && name !== 'pool');
const validExecutorArb = fc.record(
  {
    execute: fc.constant(async () => 'remote result'),
    concurrency: fc.integer({ min: 1, max: 3 }),
    validate: fc.constant(() => {}),
    close: fc.constant(async () => {}),
  },
  { requiredKeys: ['execute'] },
);

const validOptionsArb = fc.record(
  {
    concurrency: fc.integer({ min: 1, max: 8 }),
    resources: fc.dictionary(keyArb, fc.integer({ min: 1, max: 3 }), { maxKeys: 3 }),
    retention: fc.record(
      { maxFinished: fc.integer({ min: 0, max: 3 }), finishedTtl: fc.double({ min: 0, max: 1e4, noNaN: true }) },
      { requiredKeys: [] },
    ),
    pool: fc.record({ maxWorkers: fc.integer({ min: 1, max: 4 }), minWorkers: fc.constant(0) }, { requiredKeys: [] }),
    inspect: fc
      .constantFrom(
        () => () => {},
        () => ({ next: () => {} }),
        () => ({}),
      )
      .map((make) => make()),
    executors: fc.dictionary(executorNameArb, validExecutorArb, { maxKeys: 2 }),
    clock: fc.constant(null).map(realClock),
    now: fc.constant(() => Date.now()),
  },
  { requiredKeys: [] },
);

/** Where a bad value goes: a top-level option, or one level inside it. */
const OPTION_BAD_PATHS = [
  ...OPTION_FIELDS,
  'resources.db',
  'retention.maxFinished',
  'retention.finishedTtl',
  'pool.maxWorkers',
  'pool.minWorkers',
  'executors.remote',
  'executors.remote.concurrency',
  'executors.remote.validate',
  'executors.remote.close',
  'inspect.next',
  'clock.setTimeout',
] as const;

/** Puts `value` at `path` (one or two levels below the options), building plain objects on the way. */
function withValueAt(options: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  if (rest.length === 0) return ownObject([...Object.entries(options).filter(([k]) => k !== head), [head, materialize(value)]]);
  const inner = options[head];
  const base = typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
  const seed = head === 'executors' && !('remote' in base) ? { ...base, remote: stubExecutor() } : base;
  return withValueAt(options, head, withValueAt(seed, rest.join('.'), value));
}

/** Options as generated: hostile values stay recipes until `buildOptions` runs inside the property. */
interface OptionsCase {
  readonly mode: 'valid' | 'one bad value' | 'unknown key' | 'whole options bad';
  readonly options: unknown;
  readonly badPath?: string;
  readonly value?: unknown;
}

function optionsCaseArb(bad: BadSource): fc.Arbitrary<OptionsCase> {
  return fc.oneof(
    validOptionsArb.map((options): OptionsCase => ({ mode: 'valid', options })),
    fc
      .constantFrom(...OPTION_BAD_PATHS)
      .chain((badPath) => fc.tuple(validOptionsArb, fc.constant(badPath), bad.field(badPath)))
      .map(([options, badPath, value]): OptionsCase => ({ mode: 'one bad value', options, badPath, value })),
    fc
      .tuple(validOptionsArb, fc.constantFrom(...POLLUTING_KEYS, 'polluted', 'concurency'), bad.any)
      .map(([options, badPath, value]): OptionsCase => ({ mode: 'unknown key', options, badPath, value })),
    bad.any.map((options): OptionsCase => ({ mode: 'whole options bad', options })),
  );
}

const buildOptions = (c: OptionsCase): unknown =>
  c.badPath === undefined ? materialize(c.options) : withValueAt(c.options as Record<string, unknown>, c.badPath, c.value);

/** Registers and runs one task on each custom executor: it completes (no raw error, no hang). */
async function expectExecutorsRun(engine: TaskEngine, options: unknown): Promise<void> {
  const executors = (options as { executors?: unknown } | undefined)?.executors;
  if (typeof executors !== 'object' || executors === null) return;
  for (const name of Object.keys(executors)) {
    const registered = attempt(() => engine.registerTask({ name: `on ${name}`, executor: name, fn: () => 'unused' }));
    if (!registered.ok) {
      expectContractError(registered.error, (field) => field === 'executor' || field === 'fn', `registerTask on executor ${name}`);
      continue;
    }
    const id = registered.value as string;
    const result = settle(engine.waitForTask(id));
    const started = attempt(() => engine.startTask(id));
    if (!started.ok) throw new Error(`startTask on executor ${name}: ${describeError(started.error)}`);
    const outcome = await result;
    const status = attempt(() => engine.getTaskStatus(id));
    expect(outcome, `a task on executor \`${name}\` (${status.ok ? String(status.value) : 'forgotten'})`).toEqual({
      status: 'fulfilled',
      value: 'remote result',
    });
  }
}

async function checkOptionsCase(c: OptionsCase): Promise<void> {
  const where = `new TaskEngine(${c.mode}${c.badPath ? ` at ${c.badPath}` : ''})`;
  const options = buildOptions(c);
  const created = attempt(() => new TaskEngine(options as TaskEngineOptions));
  expectPrototypesUntouched();
  if (!created.ok) {
    const root = c.badPath?.split('.')[0];
    const allowed = (field: string) =>
      c.mode === 'whole options bad'
        ? ['options', ...OPTION_FIELDS].includes(segments(field)[0] as string)
        : segments(field)[0] === root || (c.mode === 'unknown key' && field === `options.${c.badPath}`);
    expectContractError(created.error, allowed, where);
    expect(created.error.code, where).toBe('ERR_INVALID_OPTION');
    expect(c.mode, `${where} refused valid options: ${created.error.message}`).not.toBe('valid');
    return;
  }
  expect(c.mode, `${where} accepted an unknown key`).not.toBe('unknown key');
  const engine = track(created.value as TaskEngine);
  await expectRunsNormalTask(engine);
  await expectExecutorsRun(engine, options);
  await expectShutsDown(engine, where);
  expectPrototypesUntouched();
}

// ---- Task specs ---------------------------------------------------------------

const FIXTURE_DEPENDENCIES = ['dep-done', 'dep-pending', 'dep-failed'] as const;

/** An engine with pools, a custom executor, a handler and dependencies in three states. */
function specEngine(): TaskEngine {
  const engine = track(new TaskEngine({ concurrency: 8, resources: { db: 2, gpu: 1 }, executors: { remote: stubExecutor() } }));
  engine.defineTask('known', async () => 'handled');
  for (const id of FIXTURE_DEPENDENCIES) engine.registerTask({ id, name: id });
  engine.startTask('dep-done');
  engine.completeTask('dep-done', 'done');
  engine.startTask('dep-failed');
  engine.failTask('dep-failed', new Error('dependency failed'));
  return engine;
}

const MODULE_PATH = 'test/fixtures/pool-tasks.mjs';
const inlineFn = async () => 'fn result';
function plainFn(a: unknown) {
  return a;
}

const commonSpecArb = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 6 }).map((s) => `t-${s}`),
    name: fc.string({ minLength: 1, maxLength: 8 }),
    args: fc.array(fc.anything({ maxDepth: 1, key: keyArb }), { maxLength: 3 }),
    priority: fc.constantFrom(...Object.values(TaskPriority)),
    dependencies: fc.subarray([...FIXTURE_DEPENDENCIES, 'dep-done']),
    maxRetries: fc.integer({ min: 0, max: 3 }),
    retryDelay: fc.double({ min: 0, max: 1e4, noNaN: true }),
    maxRetryDelay: fc.oneof(fc.double({ min: 0, max: 1e5, noNaN: true }), fc.constant(Infinity)),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    timeout: fc.double({ min: Number.MIN_VALUE, max: 1e6, noNaN: true }),
    resources: fc.record({ db: fc.integer({ min: 1, max: 2 }), gpu: fc.constant(1) }, { requiredKeys: [] }),
    durable: fc.boolean(),
  },
  { requiredKeys: ['name'] },
);

/** The fields that say what runs, kept coherent: at most one of fn/handler/module, with an executor that fits. */
const kindSpecArb = fc.oneof(
  fc.record({ executor: fc.constantFrom('async', 'remote') }, { requiredKeys: [] }),
  fc.record({ fn: fc.constantFrom(inlineFn, plainFn), executor: fc.constantFrom('async', 'pool', 'remote') }, { requiredKeys: ['fn'] }),
  fc.record({ handler: fc.constant('known'), executor: fc.constantFrom('async', 'remote') }, { requiredKeys: ['handler'] }),
  fc.record(
    {
      module: fc.constantFrom(MODULE_PATH, `./${MODULE_PATH}`, new URL(`../${MODULE_PATH}`, import.meta.url)),
      export: fc.constantFrom('default', 'whereAmI'),
      executor: fc.constant('pool'),
    },
    { requiredKeys: ['module'] },
  ),
);

const validSpecArb = fc.tuple(commonSpecArb, kindSpecArb, fc.boolean()).map(([common, kind, transfer]): Record<string, unknown> => {
  const spec: Record<string, unknown> = { ...common, ...kind };
  const pool = spec.module !== undefined || spec.executor === 'pool';
  if (pool && transfer) return { ...spec, transfer: [new ArrayBuffer(8)], maxRetries: 0 };
  return spec;
});

/** The fields whose value can make validation blame a field besides itself. */
const BLAMES: Readonly<Record<string, readonly string[]>> = {
  fn: ['executor'],
  module: ['executor'],
  executor: ['fn', 'transfer'],
  maxRetries: ['transfer'],
};
/** Codes besides ERR_INVALID_OPTION that one bad field may cause. */
const OTHER_CODES: Readonly<Record<string, readonly string[]>> = {
  id: ['ERR_DUPLICATE_TASK'],
  dependencies: ['ERR_UNKNOWN_DEPENDENCY', 'ERR_DEPENDENCY_CYCLE'],
};

interface SpecCase {
  readonly mode: 'valid' | 'one bad field' | 'unknown key' | 'every field random' | 'whole spec bad';
  readonly entries: ReadonlyArray<readonly [string, unknown]>;
  readonly badField?: string;
  readonly nullProto?: boolean;
  readonly whole?: unknown;
}

function specCaseArb(bad: BadSource): fc.Arbitrary<SpecCase> {
  return fc.oneof(
    fc
      .tuple(validSpecArb, fc.boolean())
      .map(([spec, nullProto]): SpecCase => ({ mode: 'valid', entries: Object.entries(spec), nullProto })),
    fc
      .constantFrom(...SPEC_FIELDS)
      .chain((badField) => fc.tuple(validSpecArb, fc.constant(badField), bad.field(badField)))
      .map(([spec, badField, value]): SpecCase => ({
        mode: 'one bad field',
        entries: [...Object.entries(spec).filter(([k]) => k !== badField), [badField, value]],
        badField,
      })),
    fc
      .tuple(validSpecArb, fc.constantFrom(...POLLUTING_KEYS, 'polluted', 'maxRetry'), bad.any)
      .map(([spec, badField, value]): SpecCase => ({
        mode: 'unknown key',
        entries: [...Object.entries(spec), [badField, value]],
        badField,
      })),
    fc
      .tuple(validSpecArb, validSpecArb)
      .chain(([a, b]) =>
        fc.record(Object.fromEntries(SPEC_FIELDS.map((f) => [f, fc.oneof(fc.constantFrom(a[f], b[f]), bad.field(f))])), {
          requiredKeys: [],
        }),
      )
      .map((spec): SpecCase => ({ mode: 'every field random', entries: Object.entries(spec) })),
    bad.any.map((whole): SpecCase => ({ mode: 'whole spec bad', entries: [], whole })),
  );
}

/** Registered: a PENDING task whose info is what the spec asked for. */
function expectRegisteredAsAsked(engine: TaskEngine, id: unknown, asked: Readonly<Record<string, unknown>>, where: string): void {
  expect(typeof id === 'string' && id.length > 0, `${where}: returned id`).toBe(true);
  const info = engine.getTask(id as string);
  if (asked.id !== undefined) expect(info.id, where).toBe(asked.id);
  expect(info.id, where).toBe(id);
  expect(info.name, where).toBe(asked.name);
  expect(info.status, where).toBe(TaskStatus.PENDING);
  expect(engine.getTaskStatus(id as string), where).toBe(TaskStatus.PENDING);
  expect(info.priority, where).toBe(asked.priority ?? TaskPriority.NORMAL);
  expect(info.dependencies, where).toEqual([...new Set((asked.dependencies as string[] | undefined) ?? [])]);
  expect([info.progress, info.message, info.attempts, info.startedAt, info.finishedAt, info.result, info.error], where).toEqual([
    0,
    undefined,
    0,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  expect(typeof info.createdAt, where).toBe('number');
}

/** getTask's info is a copy: a caller changing it changes nothing inside the engine. */
async function checkInfoIsACopy(fields: Record<string, unknown>): Promise<void> {
  const engine = specEngine();
  try {
    const id = engine.registerTask(fields as never);
    const expected = [...new Set((fields.dependencies as string[] | undefined) ?? [])];
    const info = engine.getTask(id);
    const dependencies = info.dependencies as string[];
    if (!Object.isFrozen(dependencies)) dependencies.push('changed-by-the-caller');
    expect(engine.getTask(id).dependencies, 'getTask(id).dependencies after the caller changed an earlier copy').toEqual(expected);
  } finally {
    await dispose(engine);
  }
}

function specFieldOk(c: SpecCase): (field: string) => boolean {
  const known = new Set<string>([...SPEC_FIELDS, 'spec']);
  return (field) => {
    const parts = segments(field);
    if (c.mode === 'unknown key') return field === `spec.${c.badField}`;
    if (c.mode !== 'one bad field') return known.has(parts[0] as string);
    const badField = c.badField as string;
    return parts.includes(badField) || (BLAMES[badField] ?? []).includes(parts[0] as string);
  };
}

async function checkSpecCase(c: SpecCase): Promise<void> {
  const where = `registerTask(${c.mode}${c.badField ? `: ${c.badField}` : ''})`;
  const engine = specEngine();
  try {
    const entries = c.entries.map(([key, value]) => [key, materialize(value)] as const);
    const spec = c.mode === 'whole spec bad' ? materialize(c.whole) : ownObject(entries, c.nullProto);
    const total = engine.getStats().total;
    const registered = attempt(() => engine.registerTask(spec as never));
    expectPrototypesUntouched();
    if (registered.ok) {
      expect(['valid', 'one bad field', 'every field random', 'whole spec bad'], `${where} accepted it`).toContain(c.mode);
      const asked = c.mode === 'whole spec bad' ? (spec as Record<string, unknown>) : Object.fromEntries(entries);
      expectRegisteredAsAsked(engine, registered.value, asked, where);
    } else {
      expectContractError(registered.error, specFieldOk(c), where);
      expect(c.mode, `${where} refused a valid spec: ${registered.error.message}`).not.toBe('valid');
      if (c.mode === 'unknown key') expect(registered.error.code).toBe('ERR_INVALID_OPTION');
      if (c.mode === 'one bad field' && registered.error.code !== 'ERR_INVALID_OPTION') {
        expect(OTHER_CODES[c.badField as string] ?? [], `${where}: ${registered.error.message}`).toContain(registered.error.code);
      }
      expect(engine.getStats().total, `${where} changed the engine while refusing`).toBe(total);
    }
    await expectRunsNormalTask(engine);
    expectPrototypesUntouched();
  } finally {
    await dispose(engine);
  }
}

// ---- Verbs -------------------------------------------------------------------

/** Tasks in every status, all external so the test drives them. */
function verbEngine(): TaskEngine {
  const engine = track(new TaskEngine({ concurrency: 16 }));
  engine.defineTask('known', async () => 'handled');
  for (const id of KNOWN_IDS) engine.registerTask({ id, name: id, dependencies: id === 'waiting' ? ['pending'] : [] });
  for (const id of ['running', 'running-too', 'waiting', 'completed', 'failed']) engine.startTask(id);
  engine.completeTask('completed', 'done');
  engine.failTask('failed', new Error('failed'));
  engine.cancelTask('cancelled', 'not needed');
  return engine;
}

type Verb =
  | 'startTask'
  | 'completeTask'
  | 'failTask'
  | 'cancelTask'
  | 'updateTaskProgress'
  | 'getTask'
  | 'getTaskStatus'
  | 'getTaskResult'
  | 'getTaskError'
  | 'waitForTask'
  | 'cleanupTask'
  | 'registerResource'
  | 'defineTask'
  | 'registerTasks';

interface Call {
  readonly verb: Verb;
  readonly args: readonly unknown[];
}

/** The fields each verb may blame in an ERR_INVALID_OPTION. */
const VERB_FIELDS: Readonly<Record<Verb, readonly string[]>> = {
  startTask: ['id'],
  completeTask: ['id'],
  failTask: ['id', 'error'],
  cancelTask: ['id'],
  getTask: ['id'],
  getTaskStatus: ['id'],
  getTaskResult: ['id'],
  getTaskError: ['id'],
  waitForTask: ['id'],
  cleanupTask: ['id'],
  updateTaskProgress: ['id', 'fraction', 'message'],
  registerResource: ['id', 'dispose'],
  defineTask: ['name', 'fn'],
  registerTasks: ['specs', 'spec', ...SPEC_FIELDS],
};

function callArb(bad: BadSource): fc.Arbitrary<Call> {
  const id = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...KNOWN_IDS) },
    { weight: 1, arbitrary: bad.field('verbId') },
    { weight: 1, arbitrary: badStringArb },
  );
  const value = fc.oneof(fc.anything({ key: keyArb, maxDepth: 1 }), bad.any);
  const call = (verb: Verb, ...args: Array<fc.Arbitrary<unknown>>) => fc.tuple(...args).map((a): Call => ({ verb, args: a }));
  const fraction = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), badNumberArb, bad.field('fraction'));
  const message = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 5 }), bad.field('message'));
  const smallSpec = fc.record(
    {
      id: fc.oneof(fc.constantFrom('b1', 'b2', ...KNOWN_IDS), bad.field('id')),
      name: fc.oneof(fc.constant('batch'), bad.field('name')),
      dependencies: fc.oneof(fc.subarray(['b1', 'b2', 'pending', 'nowhere']), bad.field('dependencies')),
    },
    { requiredKeys: ['name'] },
  );
  return fc.oneof(
    call('startTask', id),
    call('completeTask', id, value),
    call('failTask', id, fc.oneof(fc.constant(new Error('from outside')), value)),
    call('cancelTask', id, value),
    call('updateTaskProgress', id, fraction, message),
    call('getTask', id),
    call('getTaskStatus', id),
    call('getTaskResult', id),
    call('getTaskError', id),
    call('waitForTask', id),
    call('cleanupTask', id),
    call(
      'registerResource',
      id,
      fc.oneof(
        fc.constant(() => {}),
        bad.field('dispose'),
      ),
    ),
    call(
      'defineTask',
      fc.oneof(fc.string({ maxLength: 5 }), bad.field('handlerName')),
      fc.oneof(
        fc.constant(async () => 1),
        bad.field('fn'),
      ),
    ),
    call('registerTasks', fc.oneof(fc.array(smallSpec, { maxLength: 3 }), bad.any)),
  );
}

/** What the known tasks look like, to see that a refused verb changed nothing. */
function digest(engine: TaskEngine): string {
  const tasks = KNOWN_IDS.map((id) => {
    const info = attempt(() => engine.getTask(id));
    if (!info.ok) return `${id}: gone`;
    const t = info.value as ReturnType<TaskEngine['getTask']>;
    return `${id}: ${t.status} ${t.progress} ${String(t.message)} ${t.attempts} ${identity(t.result)}`;
  });
  return `${tasks.join('; ')} | total ${engine.getStats().total}`;
}

/** After a verb returned: its transition is applied. */
function expectApplied(engine: TaskEngine, call: Call, args: readonly unknown[], where: string): void {
  const id = args[0] as string;
  switch (call.verb) {
    case 'completeTask':
      expect(engine.getTaskStatus(id), where).toBe(TaskStatus.COMPLETED);
      expect(engine.getTaskResult(id), where).toBe(args[1]);
      break;
    case 'failTask':
      expect(engine.getTaskStatus(id), where).toBe(TaskStatus.FAILED);
      expect(engine.getTaskError(id), where).toBeInstanceOf(Error);
      break;
    case 'cancelTask':
      expect(engine.getTaskStatus(id), where).toBe(TaskStatus.CANCELLED);
      break;
    case 'updateTaskProgress':
      expect([engine.getTask(id).progress, engine.getTask(id).message], where).toEqual([args[1], args[2]]);
      break;
    case 'startTask':
      expect(engine.getTaskStatus(id), where).not.toBe(TaskStatus.COMPLETED);
      break;
    default:
  }
}

async function runCall(engine: TaskEngine, call: Call, waits: Array<Promise<unknown>>): Promise<void> {
  const args = call.args.map(materialize);
  const where = `${call.verb}(${args.map((a) => (typeof a === 'string' ? JSON.stringify(a) : typeof a)).join(', ')})`;
  const before = digest(engine);
  const method = (engine as unknown as Record<Verb, (...a: unknown[]) => unknown>)[call.verb];
  const known = typeof args[0] === 'string' && attempt(() => engine.getTask(args[0] as string)).ok;
  const result = attempt(() => method.apply(engine, args));
  expectPrototypesUntouched();
  const refused = (error: unknown): void => {
    expectContractError(error, (field) => VERB_FIELDS[call.verb].includes(segments(field)[0] as string), where);
    expect(digest(engine), `${where} changed a task while refusing`).toBe(before);
  };
  if (PROMISE_VERBS.has(call.verb)) {
    // A verb that returns a promise refuses by rejecting it, never by throwing.
    if (!result.ok) throw new Error(`${where} threw (${describeError(result.error)}) instead of returning a rejected promise`);
    const promise = result.value as Promise<unknown>;
    expect(promise, `${where} returns a promise`).toBeInstanceOf(Promise);
    if (call.verb === 'waitForTask' && known) {
      promise.catch(() => {}); // the task's error is expected; that it settles is checked at the end
      waits.push(promise);
      return;
    }
    const outcome = await settle(promise);
    if (outcome.status === 'rejected') return refused(outcome.reason);
    expect(call.verb === 'cleanupTask' && outcome, `${where} settles`).toEqual({ status: 'fulfilled', value: undefined });
    const after = attempt(() => engine.getTaskStatus(args[0] as string));
    expect(!after.ok && (after.error as TaskChartError).code, `${where} forgets the task`).toBe('ERR_TASK_NOT_FOUND');
    return;
  }
  if (!result.ok) return refused(result.error);
  expectApplied(engine, call, args, where);
}

/** Verbs that return a promise: they refuse by rejecting it. */
const PROMISE_VERBS: ReadonlySet<Verb> = new Set<Verb>(['waitForTask', 'cleanupTask']);

const shutdownOptionsArb = (bad: BadSource) =>
  fc.oneof(
    fc.constant(undefined),
    fc.record({ mode: fc.oneof(fc.constantFrom('cancel', 'drain'), bad.field('mode')) }, { requiredKeys: [] }),
    bad.field('shutdownOptions'),
  );

/** shutdown(options): refused with ERR_INVALID_OPTION (engine still accepting) or accepted (no longer accepting); settles. */
async function checkShutdown(engine: TaskEngine, options: unknown): Promise<void> {
  const where = 'shutdown(options)';
  const result = attempt(() => engine.shutdown(materialize(options) as never));
  expectPrototypesUntouched();
  if (!result.ok) throw new Error(`${where} threw (${describeError(result.error)}) instead of returning a rejected promise`);
  const outcome = await settle(result.value as Promise<unknown>, 1);
  if (outcome.status === 'rejected' && attempt(() => engine.registerTask({ name: 'probe' })).ok) {
    // Refused: rejected, and the engine still accepts work.
    expectContractError(outcome.reason, (field) => field === 'options' || field === 'mode', where);
    expect(outcome.reason.code).toBe('ERR_INVALID_OPTION');
    await expectRunsNormalTask(engine);
  } else {
    void (result.value as Promise<void>).catch(() => {});
    const refused = attempt(() => engine.registerTask({ name: 'late' }));
    expect(!refused.ok && (refused.error as TaskChartError).code, `${where} still accepts work`).toBe('ERR_ENGINE_SHUT_DOWN');
  }
  for (const id of KNOWN_IDS) attempt(() => engine.cancelTask(id, 'end of run'));
  await expectShutsDown(engine, where);
}

async function checkCalls(calls: readonly Call[], shutdownOptions: unknown): Promise<void> {
  const engine = verbEngine();
  try {
    const waits: Array<Promise<unknown>> = [];
    for (const call of calls) await runCall(engine, call, waits);
    await expectRunsNormalTask(engine);
    await checkShutdown(engine, shutdownOptions);
    for (const wait of waits) expect((await settle(wait)).status, 'waitForTask settles once its task has ended').not.toBe('pending');
    expectPrototypesUntouched();
  } finally {
    await dispose(engine);
  }
}

// ---- Properties --------------------------------------------------------------

describe('bad input at the boundary (fuzzed)', () => {
  it('refuses bad engine options with ERR_INVALID_OPTION naming the option; accepted options give a working engine', async () => {
    await fc.assert(fc.asyncProperty(optionsCaseArb(ORDINARY), checkOptionsCase), { numRuns: runs(200) });
  });

  it('refuses hostile engine options (throwing getters, Proxies) without a raw error', async () => {
    await fc.assert(fc.asyncProperty(optionsCaseArb(HOSTILE), checkOptionsCase), { numRuns: runs(60) });
  });

  it('registers a spec as asked, or refuses it with a contract error naming the field', async () => {
    await fc.assert(fc.asyncProperty(specCaseArb(ORDINARY), checkSpecCase), { numRuns: runs(300) });
  });

  it('hands out a copy in getTask, so a caller changing it changes nothing', async () => {
    await fc.assert(fc.asyncProperty(validSpecArb, checkInfoIsACopy), { numRuns: runs(30) });
  });

  it('refuses hostile spec fields (throwing getters, Proxies) without a raw error', async () => {
    await fc.assert(fc.asyncProperty(specCaseArb(HOSTILE), checkSpecCase), { numRuns: runs(80) });
  });

  it('answers every verb with its effect or a contract error that changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callArb(ORDINARY), { minLength: 1, maxLength: 8 }), shutdownOptionsArb(ORDINARY), checkCalls),
      { numRuns: runs(250) },
    );
  });

  it('answers verbs given hostile arguments with a contract error, never a raw one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callArb(HOSTILE_AMONG_ORDINARY), { minLength: 1, maxLength: 6 }), shutdownOptionsArb(HOSTILE), checkCalls),
      { numRuns: runs(80) },
    );
  });
});
