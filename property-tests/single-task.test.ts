/**
 * Model-based property for one task: random sequences of verbs, attempt
 * outcomes (failures, worker crashes), heartbeats, dependency outcomes and
 * timer firings (XState's SimulatedClock: timeouts, stalls, backoffs), checked
 * after every step against TaskModel; some tasks find their result in the
 * results cache, put there by a twin task before the run. A failure prints its
 * seed and path; replay it with `test.prop(..., { seed, path, endOnFailure: true })`.
 * Runs: TASKCHART_PROPERTY_RUNS (default DEFAULT_RUNS).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { TaskChartError, type RetryEvent, type TaskContext, type TaskEngine, type TaskEvent, type TaskSpec } from '../src/index.js';
import { deferred, flush, recordEvents, simulatedEngine } from '../test/helpers.js';
import { AttemptFailsCommand } from './commands/attempt-fails.js';
import { AttemptSucceedsCommand } from './commands/attempt-succeeds.js';
import { BeatsForCommand } from './commands/beats-for.js';
import { CancelCommand } from './commands/cancel.js';
import { CompleteCommand } from './commands/complete.js';
import { DependencyCommand, type DependencyVerb } from './commands/dependency.js';
import { FailCommand } from './commands/fail.js';
import { HeartbeatCommand } from './commands/heartbeat.js';
import { ProgressCommand } from './commands/progress.js';
import { StartCommand } from './commands/start.js';
import { TimerFiresCommand } from './commands/timer-fires.js';
import {
  isTerminal,
  PRIMED_RESULT,
  TaskModel,
  type ExpectedError,
  type Failure,
  type Status,
  type TaskConfig,
  type TaskSystem,
} from './task-model.js';

const DEFAULT_RUNS = 400;
const numRuns = Number.parseInt(process.env.TASKCHART_PROPERTY_RUNS ?? '', 10) || DEFAULT_RUNS;
/** A run takes a few ms; allow 50 ms each on a loaded machine. */
const timeout = Math.max(20_000, numRuns * 50);

/** The spec fields of long and repeated work exist only for a task that runs (`fn`); an external task has none. */
const anyConfigArbitrary: fc.Arbitrary<TaskConfig> = fc
  .record({
    kind: fc.oneof({ weight: 1, arbitrary: fc.constant('external' as const) }, { weight: 2, arbitrary: fc.constant('fn' as const) }),
    maxRetries: fc.integer({ min: 0, max: 3 }),
    retryDelay: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })),
    maxRetryDelay: fc.option(fc.integer({ min: 0, max: 800 }), { nil: undefined }),
    timeout: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
    dependency: fc.constantFrom('none', 'unstarted', 'running'),
    // Two tasks in three; shorter than the timeout, longer, or (rarely) equal: either may then fire first.
    heartbeatTimeout: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined, freq: 3 }),
    maxCrashes: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    cache: fc.oneof(
      { weight: 1, arbitrary: fc.constant('off' as const) },
      { weight: 1, arbitrary: fc.constantFrom('cold' as const, 'other-key' as const, 'primed' as const) },
    ),
  })
  .map((config) =>
    config.kind === 'external' ? { ...config, heartbeatTimeout: undefined, maxCrashes: undefined, cache: 'off' as const } : config,
  );

/** Aimed at long work: a function that runs once started, stalls unless it beats, and has retries to show what follows. */
const longWorkArbitrary: fc.Arbitrary<TaskConfig> = fc.record({
  kind: fc.constant('fn' as const),
  maxRetries: fc.integer({ min: 1, max: 3 }),
  retryDelay: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 })),
  maxRetryDelay: fc.constant(undefined),
  timeout: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
  dependency: fc.constant('none' as const),
  heartbeatTimeout: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined, freq: 4 }),
  maxCrashes: fc.constantFrom(undefined, 0, 1),
  cache: fc.constantFrom('off' as const, 'cold' as const, 'primed' as const),
});

const configArbitrary: fc.Arbitrary<TaskConfig> = fc.oneof(anyConfigArbitrary, longWorkArbitrary);

/** Mostly the running attempt's call; an earlier, abandoned one's otherwise. */
const age = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 2 }) });
const failureArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Failure>('retryable') },
  { weight: 1, arbitrary: fc.constant<Failure>('non-retryable') },
  { weight: 3, arbitrary: fc.constant<Failure>('process-crash') },
  { weight: 1, arbitrary: fc.constant<Failure>('thread-crash') },
);
const dependencyVerb = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom<DependencyVerb>('start', 'complete') },
  { weight: 1, arbitrary: fc.constantFrom<DependencyVerb>('fail', 'cancel') },
);
/**
 * Weighted towards what makes a run long: starting, failing attempts and time passing (to the next timer, to just
 * before it, or by up to a second).
 */
const commandsArbitrary = fc.commands(
  [
    fc.oneof(
      { weight: 5, arbitrary: fc.constant(new StartCommand()) },
      { weight: 1, arbitrary: fc.constant(new CompleteCommand()) },
      { weight: 1, arbitrary: fc.constant(new FailCommand()) },
      { weight: 1, arbitrary: fc.constant(new CancelCommand()) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 100 }).map((n) => new ProgressCommand(n / 100)) },
      { weight: 6, arbitrary: fc.tuple(age, failureArbitrary).map(([a, failure]) => new AttemptFailsCommand(a, failure)) },
      {
        weight: 5,
        arbitrary: fc
          .tuple(age, fc.option(fc.record({ offset: fc.nat({ max: 99 }) }), { nil: undefined }))
          .map(([a, details]) => new HeartbeatCommand(a, details)),
      },
      {
        weight: 3,
        arbitrary: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 4 }).map((gaps) => new BeatsForCommand(gaps)),
      },
      { weight: 2, arbitrary: age.map((a) => new AttemptSucceedsCommand(a)) },
      {
        weight: 5,
        arbitrary: fc
          .oneof(fc.constantFrom('next' as const, 'before-next' as const), fc.integer({ min: 0, max: 1000 }))
          .map((ms) => new TimerFiresCommand(ms)),
      },
      { weight: 3, arbitrary: dependencyVerb.map((verb) => new DependencyCommand(verb)) },
    ),
  ],
  { maxCommands: 30, size: 'max' },
);

/** How waitForTask settled, and whether the terminal status event had been seen by then. */
type Outcome =
  | { readonly settled: false }
  | { readonly settled: true; readonly resolved: boolean; readonly value: unknown; readonly afterStatusEvent: boolean };

interface Call {
  readonly attempt: number;
  readonly ctx: TaskContext;
  /** ctx.lastHeartbeat when the attempt began. */
  readonly lastHeartbeat: unknown;
  readonly settle: ReturnType<typeof deferred>;
}

function expectError(actual: unknown, expected: ExpectedError | undefined): void {
  if (expected === undefined) return void expect(actual).toBeUndefined();
  if ('is' in expected) return void expect(actual).toBe(expected.is);
  expect(actual).toBeInstanceOf(TaskChartError);
  expect(actual).toMatchObject({
    code: expected.code,
    ...(expected.attempt !== undefined && { attempt: expected.attempt }),
    ...(expected.heartbeatTimeout !== undefined && { heartbeatTimeout: expected.heartbeatTimeout }),
  });
  if (expected.cause !== undefined) expect((actual as Error).cause).toBe(expected.cause);
}

/** The task's statuses from its status events, checking that they chain and that a terminal one is last. */
function statusPathOf(events: readonly TaskEvent[], taskId: string): Status[] {
  const path: Status[] = ['PENDING'];
  for (const event of events) {
    if (event.type !== 'status' || event.taskId !== taskId) continue;
    expect(event.previous, 'a status event starts where the last one ended').toBe(path.at(-1));
    expect(isTerminal(event.previous), 'no status event after a terminal one').toBe(false);
    expect(event.status).not.toBe(event.previous);
    path.push(event.status);
  }
  return path;
}

/** The engine, the task (and its dependency) that the commands drive, and the checks against the model. */
class EngineUnderTest implements TaskSystem {
  readonly engine: TaskEngine;
  readonly taskId: string;
  readonly dependencyId: string | undefined;
  readonly advance: (ms: number) => Promise<void>;
  readonly #config: TaskConfig;
  readonly #events: TaskEvent[];
  /** Every call of the task's function, in order. */
  readonly #calls: Call[] = [];
  /** How the waitForTask called at registration settled. */
  #outcome: Outcome = { settled: false };

  constructor(config: TaskConfig) {
    const { engine, advance } = simulatedEngine();
    this.engine = engine;
    this.advance = advance;
    this.#config = config;
    this.#events = recordEvents(engine);
    this.dependencyId = config.dependency === 'none' ? undefined : engine.registerTask({ id: 'dependency', name: 'dependency' });
    // The default key hashes the name, the args and the dependencies' results: a task with a dependency names its key.
    const key = config.dependency === 'none' ? undefined : 'shared key';
    if (config.cache === 'primed' || config.cache === 'other-key') {
      // Its twin: the same name and cache key (or other args and key), completed before the run.
      const other = config.cache === 'other-key';
      engine.startTask(
        engine.registerTask({
          id: 'twin',
          name: 'task',
          args: other ? ['other args'] : [],
          cache: key === undefined ? true : { key: other ? 'other key' : key },
          fn: (_ctx: TaskContext, ..._args: unknown[]) => PRIMED_RESULT,
        }),
      );
    }
    this.taskId = engine.registerTask({
      id: 'task',
      name: 'task',
      maxRetries: config.maxRetries,
      retryDelay: config.retryDelay,
      maxRetryDelay: config.maxRetryDelay,
      timeout: config.timeout,
      dependencies: this.dependencyId === undefined ? [] : [this.dependencyId],
      ...(config.kind === 'external' ? {} : this.#runs(config, key)),
    });
    if (config.dependency === 'running') engine.startTask(this.dependencyId as string);
    engine.waitForTask(this.taskId).then(this.#settled(true), this.#settled(false));
  }

  /** What a `fn` task's spec adds: its function, and the fields of long and repeated work. */
  #runs(config: TaskConfig, key: string | undefined): Partial<TaskSpec> {
    return {
      fn: (ctx: TaskContext) => this.#call(ctx),
      ...(config.heartbeatTimeout !== undefined && { heartbeatTimeout: config.heartbeatTimeout }),
      ...(config.maxCrashes !== undefined && { maxCrashes: config.maxCrashes }),
      ...(config.cache !== 'off' && { cache: key === undefined ? true : { key } }),
    };
  }

  settleCall(age: number, settlement: { readonly result: unknown } | { readonly error: unknown }): void {
    const call = this.#callAt(age);
    if ('error' in settlement) call.settle.reject(settlement.error);
    else call.settle.resolve(settlement.result);
  }

  beat(age: number, details: unknown): void {
    this.#callAt(age).ctx.heartbeat(details);
  }

  lastEnding(): 'timeout' | 'stall' {
    const retry = this.#events.findLast((e): e is RetryEvent => e.type === 'retry' && e.taskId === this.taskId);
    const error = this.engine.getTaskStatus(this.taskId) === 'FAILED' ? this.engine.getTaskError(this.taskId) : retry?.error;
    return (error as { code?: unknown } | undefined)?.code === 'ERR_TASK_STALLED' ? 'stall' : 'timeout';
  }

  #callAt(age: number): Call {
    const call = this.#calls[this.#calls.length - 1 - age];
    expect(call, `call ${this.#calls.length - age} of the task's function`).toBeDefined();
    return call as Call;
  }

  expectRefused(act: () => void): void {
    const before = this.engine.getTask(this.taskId);
    const eventCount = this.#events.length;
    let thrown: unknown;
    try {
      act();
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'the verb is refused').toBeInstanceOf(TaskChartError);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_TRANSITION' });
    expect(this.engine.getTask(this.taskId), 'a refused verb changes nothing').toEqual(before);
    expect(this.#events.slice(eventCount), 'a refused verb emits nothing').toEqual([]);
  }

  async verify(model: TaskModel): Promise<void> {
    await flush();
    const { engine, taskId } = this;
    const info = engine.getTask(taskId);
    const stats = engine.getStats();
    expect({
      status: info.status,
      attempts: info.attempts,
      progress: info.progress,
      cached: info.cached,
      crashes: info.crashes,
      cacheHits: stats.cacheHits,
      stalledAttempts: stats.stalledAttempts,
    }).toEqual({
      status: model.status,
      attempts: model.attempts,
      progress: model.progress,
      cached: model.cached,
      crashes: model.crashes,
      cacheHits: model.cached ? 1 : 0,
      stalledAttempts: model.stalls,
    });
    expect(info.attempts - model.freeAttempts).toBeLessThanOrEqual(this.#config.maxRetries + 1);
    // A result from the cache is the twin's: equal to it (whether it is the very object is not the contract's).
    if (model.cached) expect(engine.getTaskResult(taskId)).toEqual(model.result);
    else expect(engine.getTaskResult(taskId)).toBe(model.status === 'COMPLETED' ? model.result : undefined);
    expectError(engine.getTaskError(taskId), model.error);
    if (this.dependencyId !== undefined) expect(engine.getTaskStatus(this.dependencyId)).toBe(model.dependency);
    expect(statusPathOf(this.#events, taskId)).toEqual(model.path);
    this.#verifyRetries(model);
    expect(this.#calls.map((call) => call.attempt)).toEqual(model.aborted.map((_, i) => i + 1));
    expect(
      this.#calls.map((call) => call.ctx.signal.aborted),
      'which attempts had their signal aborted',
    ).toEqual(model.aborted);
    expect(
      this.#calls.map((call) => call.lastHeartbeat),
      'each attempt sees the last details an earlier one gave',
    ).toEqual(model.lastHeartbeats);
    await this.#verifyOutcome(model);
  }

  /** An attempt of the task's function: it ends when the test settles it. */
  #call(ctx: TaskContext): Promise<unknown> {
    const settle = deferred();
    void ctx.signal; // made now: an abort before it is read must still show
    this.#calls.push({ attempt: ctx.attempt, ctx, lastHeartbeat: ctx.lastHeartbeat, settle });
    return settle.promise;
  }

  #settled(resolved: boolean): (value: unknown) => void {
    return (value) => {
      const afterStatusEvent = this.#events.some((e) => e.type === 'status' && e.taskId === this.taskId && isTerminal(e.status));
      this.#outcome = { settled: true, resolved, value, afterStatusEvent };
    };
  }

  #verifyRetries(model: TaskModel): void {
    const retries = this.#events.filter((e): e is RetryEvent => e.type === 'retry' && e.taskId === this.taskId);
    const expected = model.retries.map(({ attempt, delay, at }) => ({ attempt, delay, timestamp: at }));
    expect(retries.map(({ attempt, delay, timestamp }) => ({ attempt, delay, timestamp }))).toEqual(expected);
    retries.forEach((retry, i) => expectError(retry.error, model.retries[i]?.error));
  }

  /** waitForTask, called at registration and again now, settles only at the terminal status, and with it. */
  async #verifyOutcome(model: TaskModel): Promise<void> {
    const outcome = this.#outcome;
    if (!model.terminal) return void expect(outcome.settled, 'waitForTask pending while not terminal').toBe(false);
    const resolved = model.status === 'COMPLETED';
    const expected = resolved ? model.result : this.engine.getTaskError(this.taskId);
    const late = await this.engine.waitForTask(this.taskId).then(
      (value) => ({ resolved: true, value }),
      (value: unknown) => ({ resolved: false, value }),
    );
    expect([outcome, late], 'waitForTask settles with the result or getTaskError, after the status event').toEqual([
      { settled: true, resolved, value: expected, afterStatusEvent: true },
      { resolved, value: expected },
    ]);
    if (model.cached) return;
    if (outcome.settled) expect(outcome.value).toBe(expected);
    expect(late.value).toBe(expected);
  }
}

describe('one task against its model', () => {
  test.prop([configArbitrary, commandsArbitrary], { numRuns })(
    'agrees with the model after every verb, attempt outcome and timer, refusing what the model forbids',
    async (config, commands) => {
      const system = new EngineUnderTest(config);
      const model = new TaskModel(config);
      try {
        await flush(); // the twin of a cached task completes first
        await fc.asyncModelRun(() => ({ model, real: system }), commands);
        await system.engine.shutdown();
        model.shutDown();
        await system.verify(model);
      } finally {
        await system.engine.shutdown();
      }
    },
    timeout,
  );
});
