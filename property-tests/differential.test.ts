/**
 * Differential property: the compiled runtime (src/runtime/compile.ts, compiled-runtime.ts) against XState.
 * One machine, the task machine with recording implementations of its named actions, runs on two sides with
 * the same random input and history:
 * - XState: its pure `initialTransition` and `transition`, which return the next snapshot and the actions to
 *   execute (named actions with their params and the context they were given; `xstate.raise` and
 *   `xstate.cancel` for the `after` timers, applied here as XState's scheduler applies them after the step);
 * - compiled: `new CompiledRuntime(machine, clock).create(input)`, started, on a recording clock.
 * A history mixes every event of TaskMachineEvent (attempt numbers current, stale and ahead; non-retryable
 * errors; a remote worker process's death and a pool thread's; RESTORE to every target, interrupted within
 * `maxInterruptions` or past them; HEARTBEAT, STALLED and CACHE_HIT) with timers firing and stale
 * `xstate.after.*` events, in any order, whether the state takes them or not. After every step both sides agree on: the state value; the context (the same
 * values, except Errors the machine creates, compared by class, message, code, fields and cause); the named
 * actions run, in order, with their params, event and the context each saw (checked again at the end, so no
 * context an action saw changes later); the timer operations (schedule: id and delay; cancel: id) and the
 * timers left pending; `can(event)` for probes of every event type.
 *
 * A failure prints its seed and path; replay it with
 * `TASKCHART_PROPERTY_SEED=<seed> TASKCHART_PROPERTY_PATH=<path> npx vitest run property-tests/differential.test.ts`.
 * Runs: TASKCHART_DIFF_RUNS, else TASKCHART_PROPERTY_RUNS, else DEFAULT_RUNS.
 */
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  initialTransition,
  transition,
  type AnyStateNode,
  type EventObject,
  type ExecutableActionObject,
  type SnapshotFrom,
  type StateValue,
} from 'xstate';
import { NonRetryableError, RateLimitedError, TaskChartError, TaskCancelledError, WorkerCrashedError } from '../src/errors.js';
import {
  taskMachine,
  type RestoreEvent,
  type TaskMachineContext,
  type TaskMachineEvent,
  type TaskMachineInput,
  type Upstream,
} from '../src/machines/task.machine.js';
import { TRIGGER_RULES } from '../src/machines/trigger-rules.js';
import type { Clock } from '../src/options.js';
import { CompiledRuntime } from '../src/runtime/compiled-runtime.js';
import type { TaskRun } from '../src/runtime/task-runtime.js';

const DEFAULT_RUNS = 2_000;
const numRuns = Number.parseInt(process.env.TASKCHART_DIFF_RUNS ?? process.env.TASKCHART_PROPERTY_RUNS ?? '', 10) || DEFAULT_RUNS;
const replay =
  process.env.TASKCHART_PROPERTY_SEED === undefined
    ? {}
    : { seed: Number(process.env.TASKCHART_PROPERTY_SEED), path: process.env.TASKCHART_PROPERTY_PATH, endOnFailure: true };

// ---- One machine for both sides --------------------------------------------------------------------------------

interface ActionRecord {
  readonly type: string;
  readonly params: unknown;
  readonly context: unknown;
  readonly event: unknown;
}

/** Named actions the compiled side ran; XState's pure functions return theirs instead of running them. */
let compiledActions: ActionRecord[] = [];
const recording =
  (type: string) =>
  ({ context, event }: { context: unknown; event: unknown }, params: unknown): void => {
    compiledActions.push({ type, params, context, event });
  };
const machine = taskMachine.provide({
  actions: {
    entered: recording('entered'),
    abortAttempt: recording('abortAttempt'),
    reportProgress: recording('reportProgress'),
    recordHeartbeat: recording('recordHeartbeat'),
    pauseLimits: recording('pauseLimits'),
  },
});
type Snapshot = SnapshotFrom<typeof machine>;

/** The delayed events of the machine's `after` transitions, read off its state nodes. */
const AFTER_EVENTS: readonly string[] = (() => {
  const types: string[] = [];
  const visit = (node: AnyStateNode): void => {
    for (const delayed of node.after) types.push(delayed.eventType);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return types;
})();

/** How often XState took each transition of the machine, over all runs (so the histories are known to reach them all). */
const TAKEN = new Map<unknown, number>();
const label = (node: AnyStateNode, eventType: string, index: number) => `${node.id} ${eventType} #${index}`;
const ALL_TRANSITIONS: ReadonlyMap<unknown, string> = (() => {
  const all = new Map<unknown, string>();
  const visit = (node: AnyStateNode): void => {
    for (const [eventType, definitions] of node.transitions)
      definitions.forEach((definition, index) => all.set(definition, label(node, eventType, index)));
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return all;
})();

// ---- Histories ---------------------------------------------------------------------------------------------------

type AttemptAge = 'current' | 'previous' | 'older' | 'next' | 'zero';
type Attempted<E> = E extends { attempt: number } ? Omit<E, 'attempt'> & { readonly attempt: AttemptAge } : E;
/** An event whose attempt number is given relative to the attempts counted when it is sent. */
type EventTemplate = Attempted<TaskMachineEvent>;
type HistoryStep =
  | { readonly kind: 'send'; readonly event: EventTemplate }
  /**
   * The `pick`-th (modulo their number) of the probe events the state takes, among those that do not end the
   * run unless `mayEnd`: steers histories deep into the chart.
   */
  | { readonly kind: 'taken'; readonly pick: number; readonly mayEnd: boolean }
  /** The `pick`-th pending timer (modulo their number) fires; nothing happens when none is pending. */
  | { readonly kind: 'fire'; readonly pick: number }
  /** A delayed event sent by hand, as a timer that fired late would. */
  | { readonly kind: 'late-after'; readonly type: string };

const attemptAge = fc.constantFrom<AttemptAge>('current', 'current', 'current', 'previous', 'older', 'next', 'zero');
/**
 * An Error whose `name` cannot be read: a task function may throw one, and the supervisor passes Errors on as
 * they are, so the machine's retry guard (`isNonRetryable` reads `name`) throws on it.
 */
class UnreadableNameError extends Error {
  override get name(): string {
    throw new Error('unreadable name');
  }

  [fc.toStringMethod](): string {
    return 'new UnreadableNameError()';
  }
}

/** Mostly retryable; a non-retryable one by class, one by name only (as it comes back from a worker thread), one hostile. */
const errorArb: fc.Arbitrary<Error> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null).map(() => new Error('boom')) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new NonRetryableError('bad input')) },
  { weight: 1, arbitrary: fc.constant(null).map(() => Object.assign(new Error('from a worker'), { name: 'NonRetryableError' })) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new TaskCancelledError('t', 'stop', { cause: new Error('reason') })) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new TaskChartError('ERR_WORKER_CRASHED', 'worker died', { cause: 'exit 1' })) },
  // A remote worker process lost (re-run free within maxCrashes), a pool thread killed (an ordinary failure).
  { weight: 3, arbitrary: fc.constant(null).map(() => new WorkerCrashedError('worker process died', { worker: 'process' })) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new WorkerCrashedError('worker thread died', { worker: 'thread' })) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new UnreadableNameError('hostile')) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 500 }).map((retryAfter) => new RateLimitedError({ retryAfter })) },
  // As it comes back from a worker thread or a remote worker: a TaskChartError with the code and the fields.
  { weight: 1, arbitrary: fc.constant(null).map(() => Object.assign(new TaskChartError('ERR_RATE_LIMITED', '429'), { retryAfter: 30 })) },
);
const resultArb = fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.constant(undefined), fc.record({ n: fc.nat() }));

/** One arbitrary per event type, so a new event type in the machine does not compile until it is generated here. */
const EVENTS: {
  readonly [K in TaskMachineEvent['type']]: { weight: number; arbitrary: fc.Arbitrary<Extract<EventTemplate, { type: K }>> };
} = {
  START: {
    weight: 4,
    arbitrary: fc.constant({ type: 'START' }),
  },
  DEPENDENCY_COMPLETED: { weight: 2, arbitrary: fc.constant({ type: 'DEPENDENCY_COMPLETED' }) },
  DEPENDENCY_FAILED: { weight: 2, arbitrary: fc.record({ type: fc.constant('DEPENDENCY_FAILED'), error: errorArb }) },
  DEPENDENCY_CANCELLED: {
    weight: 2,
    arbitrary: fc.record(
      { type: fc.constant('DEPENDENCY_CANCELLED'), error: errorArb, shutdown: fc.constantFrom(undefined, false, true) },
      { requiredKeys: ['type', 'error'] },
    ),
  },
  DISPATCH: {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant('DISPATCH'), deferred: fc.constantFrom(undefined, false, true) }, { requiredKeys: ['type'] }),
  },
  STARTED: { weight: 3, arbitrary: fc.record({ type: fc.constant('STARTED'), attempt: attemptAge }) },
  ATTEMPT_SUCCEEDED: {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('ATTEMPT_SUCCEEDED'), attempt: attemptAge, result: resultArb }),
  },
  ATTEMPT_FAILED: { weight: 5, arbitrary: fc.record({ type: fc.constant('ATTEMPT_FAILED'), attempt: attemptAge, error: errorArb }) },
  HEARTBEAT: {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('HEARTBEAT'), details: fc.oneof(fc.constant(undefined), resultArb) }),
  },
  STALLED: {
    weight: 3,
    arbitrary: fc.record({ type: fc.constant('STALLED'), attempt: attemptAge, heartbeatTimeout: fc.integer({ min: 1, max: 500 }) }),
  },
  CACHE_HIT: { weight: 2, arbitrary: fc.record({ type: fc.constant('CACHE_HIT'), result: resultArb }) },
  PROGRESS: {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('PROGRESS'),
      progress: fc.double({ min: 0, max: 1, noNaN: true }),
      message: fc.option(fc.string({ maxLength: 3 }), { nil: undefined }),
    }),
  },
  COMPLETE: { weight: 1, arbitrary: fc.record({ type: fc.constant('COMPLETE'), result: resultArb }) },
  FAIL: { weight: 1, arbitrary: fc.record({ type: fc.constant('FAIL'), error: errorArb }) },
  CANCEL: { weight: 1, arbitrary: fc.record({ type: fc.constant('CANCEL'), error: errorArb }) },
  RESTORE: {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('RESTORE'),
      // Back to waiting most often: its rule then decides four ways on the input's dependencies.
      to: fc.oneof(
        { weight: 4, arbitrary: fc.constant<RestoreEvent['to']>('waiting') },
        { weight: 4, arbitrary: fc.constantFrom<RestoreEvent['to']>('retrying', 'interrupted', 'dispatched', 'failed') },
      ),
      attempts: fc.integer({ min: 0, max: 5 }),
      freeAttempts: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      // Interrupted before or not: against maxInterruptions (default 1), a re-run free or a counted attempt.
      interruptions: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      crashes: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      backoff: fc.integer({ min: 0, max: 1_000 }),
      error: fc.option(errorArb, { nil: undefined }),
    }),
  },
};

const stepArb: fc.Arbitrary<HistoryStep> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.oneof(...Object.values(EVENTS)).map((event): HistoryStep => ({ kind: 'send', event: event as EventTemplate })),
  },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('taken'), pick: fc.nat({ max: 99 }), mayEnd: fc.boolean() }) },
  { weight: 5, arbitrary: fc.nat({ max: 3 }).map((pick): HistoryStep => ({ kind: 'fire', pick })) },
  { weight: 1, arbitrary: fc.constantFrom(...AFTER_EVENTS).map((type): HistoryStep => ({ kind: 'late-after', type })) },
);

/**
 * Histories; a quarter of them begin with a RESTORE (the only state that takes it is the first one), so that each
 * of its many guards (the rule deciding on restored dependencies, an interruption free or counted) is met often.
 */
const historyArb: fc.Arbitrary<HistoryStep[]> = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: EVENTS.RESTORE.arbitrary }),
    fc.array(stepArb, { maxLength: 40, size: 'max' }),
  )
  .map(([restore, steps]) => (restore === undefined ? steps : [{ kind: 'send', event: restore }, ...steps]));

/** Dependencies at registration: up to 3, some of which had ended (with the errors a supervisor would pass). */
const upstreamArb: fc.Arbitrary<Upstream> = fc
  .tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.array(fc.constantFrom('succeeded', 'failed', 'skipped', 'live', 'live', 'live'), { minLength: 3, maxLength: 3 }),
  )
  .map(([total, outcomes]) => {
    const ended = outcomes.slice(0, total);
    const count = (outcome: string) => ended.filter((o) => o === outcome).length;
    const failed = count('failed');
    const skipped = count('skipped');
    return {
      total,
      succeeded: count('succeeded'),
      failed,
      skipped,
      failure: failed > 0 ? new Error('dependency failed') : undefined,
      cancellation: skipped > 0 ? new TaskCancelledError('t', 'its dependency was cancelled') : undefined,
    };
  });

const anyInputArb: fc.Arbitrary<TaskMachineInput> = fc.record({
  id: fc.constantFrom('t', 'task-7', 'a/b'),
  maxRetries: fc.integer({ min: 0, max: 3 }),
  retryDelay: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000 })),
  maxRetryDelay: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 2_000 })),
  jitter: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
  timeout: fc.option(fc.oneof(fc.integer({ min: 1, max: 500 }), fc.constant(0)), { nil: undefined }),
  // Absent (the default, 1) a fifth of the time; none, one or two otherwise.
  maxInterruptions: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  maxCrashes: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  // Rules and dependencies most of the time, so that every verdict of every rule is met often (the coverage test below).
  trigger: fc.constantFrom(undefined, ...TRIGGER_RULES),
  upstream: fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    // One or two dependencies, none ended: their ends decide every rule one way or the other, or leave it open.
    { weight: 2, arbitrary: fc.constant<Upstream>({ total: 1, succeeded: 0, failed: 0, skipped: 0 }) },
    { weight: 2, arbitrary: fc.constant<Upstream>({ total: 2, succeeded: 0, failed: 0, skipped: 0 }) },
    { weight: 4, arbitrary: upstreamArb },
    // Two dependencies of which some had ended before: START and RESTORE decide on them every way.
    {
      weight: 4,
      arbitrary: fc.constantFrom<Upstream>(
        { total: 2, succeeded: 1, failed: 0, skipped: 0 },
        { total: 2, succeeded: 2, failed: 0, skipped: 0 },
        { total: 2, succeeded: 0, failed: 1, skipped: 0, failure: new Error('dependency failed') },
        { total: 2, succeeded: 0, failed: 0, skipped: 1, cancellation: new TaskCancelledError('t', 'its dependency was cancelled') },
        { total: 2, succeeded: 0, failed: 0, skipped: 2, cancellation: new TaskCancelledError('t', 'its dependency was cancelled') },
        { total: 2, succeeded: 1, failed: 0, skipped: 1, cancellation: new TaskCancelledError('t', 'its dependency was cancelled') },
      ),
    },
  ),
});
/**
 * Mostly any input; some a task over one dependency not ended whose end skips it while WAITING: a one_success task
 * (by a failure), an all_failed or one_failed one (by a completion).
 */
const inputArb: fc.Arbitrary<TaskMachineInput> = fc.oneof(
  { weight: 6, arbitrary: anyInputArb },
  ...(['one_success', 'all_failed', 'one_failed'] as const).map((trigger) => ({
    weight: 1,
    arbitrary: anyInputArb.map((input) => ({ ...input, trigger, upstream: { total: 1, succeeded: 0, failed: 0, skipped: 0 } })),
  })),
);

function attemptNumber(age: AttemptAge, attempts: number): number {
  return { current: attempts, previous: attempts - 1, older: attempts - 2, next: attempts + 1, zero: 0 }[age];
}

function resolveEvent(template: EventTemplate, attempts: number): TaskMachineEvent {
  return 'attempt' in template ? ({ ...template, attempt: attemptNumber(template.attempt, attempts) } as TaskMachineEvent) : template;
}

const PROBE_ERROR = new Error('probe');
const PROBE_FATAL = new NonRetryableError('probe');
const PROBE_LIMITED = new RateLimitedError({ retryAfter: 5 });
const PROBE_PROCESS_CRASH = new WorkerCrashedError('probe', { worker: 'process' });
const PROBE_THREAD_CRASH = new WorkerCrashedError('probe', { worker: 'thread' });

/** Events of every type whose guards can go either way in the current context, to ask both sides `can(event)`. */
function probes(context: TaskMachineContext): TaskMachineEvent[] {
  const attempts = context.attempts;
  const error = PROBE_ERROR;
  const fatal = PROBE_FATAL;
  const restore = (to: RestoreEvent['to'], restored: number, interruptions?: number): RestoreEvent => ({
    type: 'RESTORE',
    to,
    attempts: restored,
    ...(interruptions !== undefined && { interruptions }),
    backoff: 5,
    error,
  });
  const byType: { readonly [K in TaskMachineEvent['type']]: readonly Extract<TaskMachineEvent, { type: K }>[] } = {
    START: [{ type: 'START' }],
    DEPENDENCY_COMPLETED: [{ type: 'DEPENDENCY_COMPLETED' }],
    DEPENDENCY_FAILED: [{ type: 'DEPENDENCY_FAILED', error }],
    DEPENDENCY_CANCELLED: [
      { type: 'DEPENDENCY_CANCELLED', error },
      { type: 'DEPENDENCY_CANCELLED', error, shutdown: true },
    ],
    DISPATCH: [{ type: 'DISPATCH' }, { type: 'DISPATCH', deferred: true }],
    STARTED: [
      { type: 'STARTED', attempt: attempts },
      { type: 'STARTED', attempt: attempts + 1 },
    ],
    ATTEMPT_SUCCEEDED: [
      { type: 'ATTEMPT_SUCCEEDED', attempt: attempts, result: 1 },
      { type: 'ATTEMPT_SUCCEEDED', attempt: attempts - 1, result: 1 },
    ],
    ATTEMPT_FAILED: [
      { type: 'ATTEMPT_FAILED', attempt: attempts, error },
      { type: 'ATTEMPT_FAILED', attempt: attempts, error: fatal },
      { type: 'ATTEMPT_FAILED', attempt: attempts, error: PROBE_LIMITED },
      { type: 'ATTEMPT_FAILED', attempt: attempts, error: PROBE_PROCESS_CRASH },
      { type: 'ATTEMPT_FAILED', attempt: attempts, error: PROBE_THREAD_CRASH },
      { type: 'ATTEMPT_FAILED', attempt: attempts - 1, error },
    ],
    HEARTBEAT: [
      { type: 'HEARTBEAT', details: undefined },
      { type: 'HEARTBEAT', details: { step: 1 } },
    ],
    STALLED: [
      { type: 'STALLED', attempt: attempts, heartbeatTimeout: 30 },
      { type: 'STALLED', attempt: attempts - 1, heartbeatTimeout: 30 },
    ],
    CACHE_HIT: [{ type: 'CACHE_HIT', result: 1 }],
    PROGRESS: [{ type: 'PROGRESS', progress: 0.5, message: undefined }],
    COMPLETE: [{ type: 'COMPLETE', result: 1 }],
    FAIL: [{ type: 'FAIL', error }],
    CANCEL: [{ type: 'CANCEL', error }],
    RESTORE: [
      restore('waiting', 0),
      restore('retrying', 1),
      restore('interrupted', 1),
      restore('interrupted', context.maxRetries + 1),
      restore('interrupted', 1, context.maxInterruptions),
      restore('interrupted', context.maxRetries + 1, context.maxInterruptions),
      restore('dispatched', 1),
      restore('failed', 1),
    ],
  };
  return [...Object.values(byType).flat(), ...AFTER_EVENTS.map((type) => ({ type }) as unknown as TaskMachineEvent)];
}

// ---- The two sides -----------------------------------------------------------------------------------------------

type TimerOp = { readonly op: 'schedule'; readonly id: string; readonly delay: number } | { readonly op: 'cancel'; readonly id: string };

/** What one step did, on one side. */
interface Effects {
  readonly actions: readonly ActionRecord[];
  readonly timers: readonly TimerOp[];
}

/**
 * XState's pure functions, with what a live XState actor adds: the timers applied after each step as its scheduler
 * applies them, and a step that throws (a guard, say) stopping the actor: status 'error' (the snapshot before the
 * step, whose can() still answers), its timers cancelled, later events dropped, the error thrown on a later tick.
 */
class XStateSide {
  snapshot!: Snapshot;
  /** Pending timers by id, in the order they were started. */
  readonly pending = new Map<string, EventObject>();
  /** Whether a step threw: the actor is stopped. */
  #failed = false;
  /** What the last step threw, which a live actor reports on a later tick. */
  reported: unknown[] = [];

  start(input: TaskMachineInput): Effects {
    const [snapshot, actions] = initialTransition(machine, input);
    this.snapshot = snapshot;
    return this.#effects(actions);
  }

  send(event: EventObject): Effects {
    this.reported = [];
    if (this.#failed) return { actions: [], timers: [] };
    try {
      for (const taken of machine.getTransitionData(this.snapshot, event as TaskMachineEvent))
        TAKEN.set(taken, (TAKEN.get(taken) ?? 0) + 1);
      const [snapshot, actions] = transition(machine, this.snapshot, event as TaskMachineEvent);
      this.snapshot = snapshot;
      return this.#effects(actions);
    } catch (error) {
      // Guards run before any action of the step, so nothing ran; the actor stops and cancels its timers.
      this.#failed = true;
      this.reported = [error];
      const timers = [...this.pending.keys()].map((id): TimerOp => ({ op: 'cancel', id }));
      this.pending.clear();
      return { actions: [], timers };
    }
  }

  fire(id: string): Effects {
    const event = this.pending.get(id) as EventObject;
    this.pending.delete(id); // XState's scheduler forgets a timer before it delivers its event
    return this.send(event);
  }

  #effects(executable: readonly ExecutableActionObject[]): Effects {
    const actions: ActionRecord[] = [];
    const timers: TimerOp[] = [];
    for (const action of executable) {
      if (action.type === 'xstate.raise') {
        const { id, event, delay } = action.params as { id: string; event: EventObject; delay: unknown };
        if (typeof delay !== 'number') throw new Error(`a raise without a delay (${id}): not a timer`);
        this.pending.set(id, event);
        timers.push({ op: 'schedule', id, delay });
      } else if (action.type === 'xstate.cancel') {
        const id = (action.params as { sendId: string }).sendId;
        // The scheduler clears a timer only if it still has it (one that fired is already gone).
        if (this.pending.delete(id)) timers.push({ op: 'cancel', id });
      } else {
        actions.push({ type: action.type, params: action.params, context: action.info.context, event: action.info.event });
      }
    }
    if (this.snapshot.status !== 'active') {
      // A live actor that is done stops, and its scheduler cancels what is left.
      for (const id of this.pending.keys()) timers.push({ op: 'cancel', id });
      this.pending.clear();
    }
    return { actions, timers };
  }
}

type ClockOp =
  { readonly op: 'schedule'; readonly handle: number; readonly delay: number } | { readonly op: 'cancel'; readonly handle: number };

/** The clock the compiled run gets: it records every call and fires only when told. */
class RecordingClock implements Clock {
  readonly ops: ClockOp[] = [];
  readonly pending = new Map<number, () => void>();
  #next = 1;

  setTimeout(fn: () => void, timeout: number): number {
    const handle = this.#next++;
    this.pending.set(handle, fn);
    this.ops.push({ op: 'schedule', handle, delay: timeout });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
    this.ops.push({ op: 'cancel', handle: handle as number });
  }
}

/**
 * The compiled run. Its timers are anonymous to the clock, so each is named by position: the k-th timer a
 * step starts takes the id of the k-th operation XState's step made, if that one is a schedule too (the two
 * sequences are compared right after, so a wrong pairing fails there).
 */
class CompiledSide {
  readonly clock = new RecordingClock();
  readonly run: TaskRun;
  readonly #ids = new Map<number, string>();
  /** Errors the run reported in the last step (on a later tick, through the global setTimeout this test fakes). */
  reported: unknown[] = [];

  constructor(input: TaskMachineInput) {
    this.run = new CompiledRuntime(machine, this.clock).create(input);
  }

  step(act: () => void, expected: readonly TimerOp[]): Effects {
    compiledActions = [];
    this.clock.ops.length = 0;
    act();
    this.reported = [];
    while (vi.getTimerCount() > 0) {
      try {
        vi.runOnlyPendingTimers();
      } catch (error) {
        this.reported.push(error);
      }
    }
    const timers = this.clock.ops.map((op, index): TimerOp => {
      if (op.op === 'cancel') return { op: 'cancel', id: this.#ids.get(op.handle) ?? `(unknown timer ${op.handle})` };
      const twin = expected[index];
      const id = twin?.op === 'schedule' ? twin.id : `(unpaired timer ${op.handle})`;
      this.#ids.set(op.handle, id);
      return { op: 'schedule', id, delay: op.delay };
    });
    return { actions: compiledActions, timers };
  }

  pendingIds(): string[] {
    return [...this.clock.pending.keys()].map((handle) => this.#ids.get(handle) ?? `(unknown timer ${handle})`);
  }

  fire(id: string): void {
    const handle = [...this.clock.pending.keys()].find((candidate) => this.#ids.get(candidate) === id);
    if (handle === undefined) throw new Error(`the compiled run has no pending timer ${id}`);
    const fn = this.clock.pending.get(handle) as () => void;
    this.clock.pending.delete(handle);
    fn();
  }
}

// ---- Comparing ---------------------------------------------------------------------------------------------------

/**
 * A value as it can be compared across the sides: objects from the history by identity (both sides must hold the
 * very object sent), Errors the machine made by class, message, code, fields and cause, the rest structurally.
 */
function comparable(value: unknown, history: ReadonlyMap<object, number>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const known = history.get(value);
  if (known !== undefined) return { historyValue: known };
  if (Array.isArray(value)) return value.map((item) => comparable(item, history));
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(value)) fields[key] = comparable((value as Record<string, unknown>)[key], history);
  if (!(value instanceof Error)) return fields;
  const { message, cause, name } = value;
  return {
    newError: value.constructor.name,
    name,
    message,
    code: (value as { code?: unknown }).code,
    cause: comparable(cause, history),
    fields,
  };
}

/** Every object a history sends (errors, their causes, results), numbered, so both sides can be held to identity. */
function historyObjects(steps: readonly HistoryStep[]): Map<object, number> {
  const objects = new Map<object, number>();
  const add = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || objects.has(value)) return;
    objects.set(value, objects.size);
    if (value instanceof Error) add(value.cause);
  };
  add(PROBE_ERROR);
  add(PROBE_FATAL);
  add(PROBE_LIMITED);
  add(PROBE_PROCESS_CRASH);
  add(PROBE_THREAD_CRASH);
  for (const step of steps) if (step.kind === 'send') for (const value of Object.values(step.event)) add(value);
  return objects;
}

/** What an error reported says; XState wraps a guard's own error in one that names the guard and the state. */
function reportedMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Unable to evaluate guard '\w+' in transition for event '[\w.]+' in state node '[\w.]+':\n/, '');
}

interface View {
  readonly reported: readonly unknown[];
  readonly value: StateValue;
  readonly context: unknown;
  readonly pending: readonly string[];
  readonly can: readonly boolean[];
  readonly effects: Effects;
}

function check(where: string, xstate: View, compiled: View, history: ReadonlyMap<object, number>): void {
  const view = (side: View) => ({
    reported: side.reported.map(reportedMessage),
    value: side.value,
    context: comparable(side.context, history),
    actions: comparable(side.effects.actions, history),
    timers: side.effects.timers,
    pending: [...side.pending].sort(),
    can: side.can,
  });
  expect(view(compiled), where).toEqual(view(xstate));
}

/** The event a step sends, if any. */
function eventOf(step: Exclude<HistoryStep, { kind: 'fire' }>, snapshot: Snapshot): EventObject | undefined {
  if (step.kind === 'send') return resolveEvent(step.event, snapshot.context.attempts);
  if (step.kind === 'late-after') return { type: step.type };
  const ends = (event: TaskMachineEvent) => machine.getTransitionData(snapshot, event).some((taken) => taken.target?.[0]?.type === 'final');
  const taken = probes(snapshot.context).filter((event) => snapshot.can(event) && (step.mayEnd || !ends(event)));
  return taken[step.pick % taken.length];
}

/** Runs that passed and failed, so the coverage check speaks only after a full, passing property. */
const tally = { passed: 0, failed: 0 };

function runHistory(input: TaskMachineInput, steps: readonly HistoryStep[]): void {
  try {
    compareHistory(input, steps);
    tally.passed++;
  } catch (error) {
    tally.failed++;
    throw error;
  }
}

function compareHistory(input: TaskMachineInput, steps: readonly HistoryStep[]): void {
  const history = historyObjects(steps);
  const xstate = new XStateSide();
  const compiled = new CompiledSide(input);
  const allX: ActionRecord[] = [];
  const allC: ActionRecord[] = [];
  const compare = (where: string, x: Effects, c: Effects): void => {
    allX.push(...x.actions);
    allC.push(...c.actions);
    const events = probes(xstate.snapshot.context);
    const snapshot = compiled.run.getSnapshot();
    check(
      where,
      {
        reported: xstate.reported,
        value: xstate.snapshot.value,
        context: xstate.snapshot.context,
        pending: [...xstate.pending.keys()],
        can: events.map((e) => xstate.snapshot.can(e)),
        effects: x,
      },
      {
        reported: compiled.reported,
        value: snapshot.value,
        context: snapshot.context,
        pending: compiled.pendingIds(),
        can: events.map((e) => snapshot.can(e)),
        effects: c,
      },
      history,
    );
  };
  const started = xstate.start(input);
  compare(
    'after start',
    started,
    compiled.step(() => compiled.run.start(), started.timers),
  );
  steps.forEach((step, index) => {
    const where = `after step ${index} (${fc.stringify(step)})`;
    if (step.kind === 'fire') {
      const ids = [...xstate.pending.keys()];
      if (ids.length === 0) return;
      const id = ids[step.pick % ids.length] as string;
      const x = xstate.fire(id);
      compare(
        where,
        x,
        compiled.step(() => compiled.fire(id), x.timers),
      );
      return;
    }
    const event = eventOf(step, xstate.snapshot);
    if (event === undefined) return;
    const x = xstate.send(event);
    compare(
      where,
      x,
      compiled.step(() => compiled.run.send(event as TaskMachineEvent), x.timers),
    );
  });
  // No context an action was given changed after it ran (XState's never do: each assign makes a new one).
  expect(comparable(allC, history), 'the contexts the actions saw, at the end').toEqual(comparable(allX, history));
}

describe('the compiled task machine against XState', () => {
  // Only the runs' error reports use the global setTimeout (as XState reports an error: thrown on a later tick).
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  test.prop([inputArb, historyArb], { numRuns, ...replay })(
    'agrees with XState on state, context, actions, timers and can() after every step of any history',
    (input, steps) => runHistory(input, steps),
    Math.max(30_000, numRuns * 30),
  );

  // In 2,000 runs the rarest transition is taken 5 to 9 times (a rule's verdict on START); of the long-work ones, STALLED
  // to failed 7 to 15 times, STALLED to retrying 18 to 28, a crash's free re-run 25 to 47 (five local runs). A replay, a
  // short run or a failed one proves nothing about coverage.
  it('generates histories that take every transition of the machine', (context) => {
    if (tally.failed > 0 || tally.passed < 500) context.skip();
    const missed = [...ALL_TRANSITIONS].filter(([definition]) => (TAKEN.get(definition) ?? 0) === 0).map(([, name]) => name);
    expect(missed, 'transitions no history took').toEqual([]);
  });
});
