/**
 * The task statechart: one task's whole lifecycle, pure. Effects (running the
 * attempt, aborting it, reporting) are named actions whose implementations
 * the supervisor provides with `taskMachine.provide(...)`; the two delays are
 * computed from context, and time comes from the actor's clock.
 *
 * Invariants the machine enforces:
 * - a task leaves `pending` only by START, or by a dependency's end that makes its trigger rule unmeetable, or by CANCEL;
 * - it reaches `running` only through `queued` (directly, or through `dispatched` for an executor that starts
 *   attempts later), and `queued` only when its trigger rule is met (trigger-rules.ts: by default, every
 *   dependency COMPLETED);
 * - a WAITING task ends as soon as its rule can no longer be met, and a dependency cancelled by a shutdown cancels it
 *   whatever its rule;
 * - an attempt's outcome counts only while that same attempt is running (late results are ignored);
 * - a task reaches `completed` without an attempt only from `queued`, by a cache hit;
 * - an attempt that is not the task's fault (a process death seen at restore, a remote worker process lost) re-runs
 *   free of `maxRetries` at most `maxInterruptions` / `maxCrashes` times; after that it counts as a failed attempt;
 * - completed, failed and cancelled are final: entered once, left never.
 */
import { assign, setup } from 'xstate';
import { TaskStalledError, TaskTimeoutError, TriggerRuleError, isNonRetryable, isProcessCrash, isRateLimited } from '../errors.js';
import { backoffDelay } from '../scheduling/backoff.js';
import {
  DEFAULT_TRIGGER,
  describeCounts,
  verdictOf,
  withOutcome,
  type DependencyCounts,
  type RuleVerdict,
  type TriggerRule,
} from './trigger-rules.js';

/** The machine's top-level states; finer than the public status. */
export type TaskState = 'pending' | 'waiting' | 'queued' | 'dispatched' | 'running' | 'retrying' | 'completed' | 'failed' | 'cancelled';

/**
 * Public status of each machine state: queued, dispatched and retrying show as PENDING. `dispatched`: the attempt
 * was handed to an executor that starts it later (a remote queue) and holds its slot, but no worker has taken it.
 */
export const STATUS_OF_STATE = {
  pending: 'PENDING',
  waiting: 'WAITING',
  queued: 'PENDING',
  dispatched: 'PENDING',
  running: 'RUNNING',
  retrying: 'PENDING',
  completed: 'COMPLETED',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
} as const satisfies Record<TaskState, string>;

export interface TaskMachineInput {
  readonly id: string;
  /** The task's name, for its errors' messages; the id when absent. */
  readonly name?: string;
  readonly maxRetries: number;
  readonly retryDelay: number;
  readonly maxRetryDelay: number;
  readonly jitter: number;
  /** Per-attempt timeout in ms; undefined means no timeout and no timer. */
  readonly timeout: number | undefined;
  /** Attempts interrupted by a process death that re-run free of `maxRetries`. @default 1 */
  readonly maxInterruptions?: number;
  /** Remote attempts whose worker process died that re-run free of `maxRetries`. @default 1 */
  readonly maxCrashes?: number;
  /** When the dependencies let the task run. @default 'all_success' */
  readonly trigger?: TriggerRule;
  /**
   * Its dependencies: how many, and how those that had ended before the task was registered (or restored) ended;
   * the others are told with DEPENDENCY_* events. Absent: no dependencies.
   */
  readonly upstream?: Upstream;
}

/** A task's dependencies so far, with the errors that end it when its rule says so. */
export interface Upstream extends DependencyCounts {
  /** The error of the first dependency failure heard of (a DependencyFailedError naming it). */
  readonly failure?: Error | undefined;
  /** The error of the first dependency cancellation heard of (a TaskCancelledError naming it). */
  readonly cancellation?: Error | undefined;
}

const NO_UPSTREAM: Upstream = Object.freeze({ total: 0, succeeded: 0, failed: 0, skipped: 0 });

/**
 * Keep it under 20 fields: XState copies the context with `Object.assign({}, context, update)` (at creation and on
 * every `assign`), and V8 makes such a copy of 20 or more properties a dictionary, about 750 B more per task
 * (test/machines/task-machine-context.test.ts holds the line).
 */
export interface TaskMachineContext extends TaskMachineInput {
  readonly name: string;
  /** Attempts started so far; the running attempt's number while running. */
  attempts: number;
  /**
   * Attempts that do not count against `maxRetries`: those that ended rate limited (RateLimitedError), interrupted
   * (within `maxInterruptions`) or with their remote worker's death (within `maxCrashes`).
   */
  freeAttempts: number;
  readonly maxInterruptions: number;
  readonly maxCrashes: number;
  /** Attempts interrupted by a process death (seen at restore), and remote attempts whose worker process died. */
  interruptions: number;
  crashes: number;
  readonly trigger: TriggerRule;
  /** How its dependencies have ended so far (replaced, never changed in place). */
  upstream: Upstream;
  /** The delay of the backoff being waited out (meaningful in `retrying`). */
  backoff: number;
  result: unknown;
  error: unknown;
}

export type TaskMachineEvent =
  | { type: 'START' }
  | { type: 'DEPENDENCY_COMPLETED' }
  | { type: 'DEPENDENCY_FAILED'; error: Error }
  /** `shutdown`: cancelled by `shutdown({ mode: 'cancel' })`, which cancels the task too, whatever its rule. */
  | { type: 'DEPENDENCY_CANCELLED'; error: Error; shutdown?: boolean }
  /** `deferred`: the executor reports when a worker takes the attempt (STARTED); until then the task is `dispatched`. */
  | { type: 'DISPATCH'; deferred?: boolean }
  /** A worker took attempt `attempt` (deferred executors): RUNNING from now, and its timeout counts from now. */
  | { type: 'STARTED'; attempt: number }
  | { type: 'ATTEMPT_SUCCEEDED'; attempt: number; result: unknown }
  | { type: 'ATTEMPT_FAILED'; attempt: number; error: Error }
  | { type: 'PROGRESS'; progress: number; message: string | undefined }
  /** The running attempt is alive (ctx.heartbeat), with its checkpoint when it gave one. */
  | { type: 'HEARTBEAT'; details: unknown }
  /** Attempt `attempt` sent no heartbeat for `heartbeatTimeout` ms (the supervisor's watch). */
  | { type: 'STALLED'; attempt: number; heartbeatTimeout: number }
  /** The results cache holds a fresh result for the task's key: it completes with it, without an attempt. */
  | { type: 'CACHE_HIT'; result: unknown }
  | { type: 'COMPLETE'; result: unknown }
  | { type: 'FAIL'; error: Error }
  | { type: 'CANCEL'; error: Error }
  | RestoreEvent;

/**
 * Brings a task read from a durable store back to where it stood, from `pending`:
 * - `waiting`: it was WAITING or queued; its trigger rule decides again, from the dependencies as restored (the
 *   machine's input): `queued` when met, `waiting` while open, ended when it can no longer be met;
 * - `retrying`: it was waiting out a backoff; `backoff` is what is left of it;
 * - `interrupted`: it was RUNNING when the process died; within `maxInterruptions` it re-runs at once, free of
 *   `maxRetries`; past them that attempt counts as failed with `error` (ERR_INTERRUPTED) and the task retries if it
 *   has attempts left, else fails;
 * - `dispatched`: its attempt was handed to an executor whose work outlives this process (a remote queue);
 *   it waits for that same attempt again (the executor re-attaches to it);
 * - `failed`: it cannot run in this process (its handler is not defined, say); it fails with `error`.
 */
export interface RestoreEvent {
  readonly type: 'RESTORE';
  readonly to: 'waiting' | 'retrying' | 'interrupted' | 'dispatched' | 'failed';
  /** Attempts counted so far (the interrupted one included). */
  readonly attempts: number;
  /** Of those, the ones that do not count against `maxRetries` (rate limited, re-run free). @default 0 */
  readonly freeAttempts?: number;
  /** Interruptions and remote worker crashes counted before this restore. @default 0 */
  readonly interruptions?: number;
  readonly crashes?: number;
  readonly backoff: number;
  readonly error: Error | undefined;
}

type EventOf<T extends TaskMachineEvent['type']> = Extract<TaskMachineEvent, { type: T }>;

const canRetry = (context: TaskMachineContext, error: unknown): boolean =>
  context.attempts - context.freeAttempts <= context.maxRetries && !isNonRetryable(error);

/** The backoff before retry n, n counting the failed attempts only (a rate-limited one waited out its own `retryAfter`). */
const withBackoff = (context: TaskMachineContext): number => backoffDelay(context, context.attempts - context.freeAttempts, context.id);

const timeoutError = (context: TaskMachineContext): TaskTimeoutError =>
  new TaskTimeoutError(context, context.timeout ?? 0, context.attempts);

const stallError = (context: TaskMachineContext, event: TaskMachineEvent): TaskStalledError =>
  new TaskStalledError(context, (event as EventOf<'STALLED'>).heartbeatTimeout, context.attempts);

const unstartedError = (context: TaskMachineContext): TaskTimeoutError =>
  new TaskTimeoutError(context, context.timeout ?? 0, context.attempts, 'unstarted');

/** The dependencies as they stand once `event` is taken into account (a dependency's end counts one more). */
function upstreamAfter(context: TaskMachineContext, event: TaskMachineEvent): Upstream {
  const upstream = context.upstream;
  // Each dependency ends once: an event past the last is not counted (the supervisor sends none; a model might).
  if (upstream.succeeded + upstream.failed + upstream.skipped >= upstream.total) return upstream;
  switch (event.type) {
    case 'DEPENDENCY_COMPLETED':
      return withOutcome(upstream, 'succeeded');
    case 'DEPENDENCY_FAILED':
      return { ...withOutcome(upstream, 'failed'), failure: upstream.failure ?? event.error };
    case 'DEPENDENCY_CANCELLED':
      return { ...withOutcome(upstream, 'skipped'), cancellation: upstream.cancellation ?? event.error };
    default:
      return upstream;
  }
}

/**
 * What the trigger rule says once `event` is taken into account, counted as `upstreamAfter` counts it but without
 * building the counts (a guard runs on every dependency's end). A shutdown's cancellation cancels under any rule.
 */
function verdictAfter(context: TaskMachineContext, event: TaskMachineEvent): RuleVerdict {
  if (event.type === 'DEPENDENCY_CANCELLED' && event.shutdown === true) return 'cancelled';
  const { total, succeeded, failed, skipped } = context.upstream;
  const counted = succeeded + failed + skipped < total;
  switch (counted ? event.type : undefined) {
    case 'DEPENDENCY_COMPLETED':
      return verdictOf(context.trigger, total, succeeded + 1, failed, skipped);
    case 'DEPENDENCY_FAILED':
      return verdictOf(context.trigger, total, succeeded, failed + 1, skipped);
    case 'DEPENDENCY_CANCELLED':
      return verdictOf(context.trigger, total, succeeded, failed, skipped + 1);
    default:
      return verdictOf(context.trigger, total, succeeded, failed, skipped);
  }
}

type Verdict = Exclude<RuleVerdict, 'open'>;

/** What each verdict does: its guard, its target, and the action that records the error it ends with. */
const VERDICT_TRANSITIONS = {
  met: { guard: 'ruleMet', restored: 'restoresWaitingAndMet', target: 'queued', record: undefined },
  failed: { guard: 'ruleFailed', restored: 'restoresWaitingAndFailed', target: 'failed', record: 'recordDependencyFailure' },
  cancelled: {
    guard: 'ruleCancelled',
    restored: 'restoresWaitingAndCancelled',
    target: 'cancelled',
    record: 'recordDependencyCancellation',
  },
  skipped: { guard: 'ruleSkipped', restored: 'restoresWaitingAndSkipped', target: 'cancelled', record: 'recordSkip' },
} as const;

/**
 * The transitions by which the trigger rule decides on an event, in order: each verdict the event can bring (a
 * completion never makes a rule fail, a failure never cancels, a cancellation never fails), then open. `met` goes to
 * `queued`, or stays when `started` is false (a task not started yet only counts); open goes to `open`, or stays.
 * Each counts the event's dependency first.
 */
function decide(verdicts: readonly Verdict[], started: boolean, open: 'waiting' | undefined) {
  const count = 'countDependency' as const;
  return [
    ...verdicts.map((verdict) => {
      const { guard, target, record } = VERDICT_TRANSITIONS[verdict];
      return {
        guard,
        target: verdict === 'met' && !started ? undefined : target,
        actions: record === undefined ? [count] : [count, record],
      };
    }),
    { target: open, actions: count },
  ];
}

/** The same for a task restored WAITING or queued: its rule decides on the dependencies as restored. */
function decideRestored() {
  return (['met', 'failed', 'cancelled', 'skipped'] as const).map((verdict) => {
    const { restored, target, record } = VERDICT_TRANSITIONS[verdict];
    return { guard: restored, target, actions: record === undefined ? (['restore'] as const) : (['restore', record] as const) };
  });
}

const ON_COMPLETED: readonly Verdict[] = ['met', 'skipped'];
const ON_FAILED: readonly Verdict[] = ['met', 'failed', 'skipped'];
const ON_CANCELLED: readonly Verdict[] = ['met', 'cancelled', 'skipped'];

export const taskMachine = setup({
  types: {} as {
    context: TaskMachineContext;
    input: TaskMachineInput;
    events: TaskMachineEvent;
  },
  actions: {
    /** Provided by the supervisor: the task entered `state` (status events, dispatch, settle). */
    entered: (_, _params: { state: TaskState }) => {},
    /** Provided by the supervisor: abort the running attempt's signal with `context.error` (or completion). */
    abortAttempt: () => {},
    /** Provided by the supervisor: record and report progress. */
    reportProgress: () => {},
    /** Provided by the supervisor: the running attempt is alive; keep its checkpoint (`details`). */
    recordHeartbeat: () => {},
    /** Provided by the supervisor: the attempt ended rate limited (its error): pause the limiter keys it names, report it. */
    pauseLimits: () => {},
    /** A rate-limited attempt does not count against `maxRetries`, and the task waits out the error's `retryAfter`. */
    countFreeAttempt: assign({ freeAttempts: ({ context }) => context.freeAttempts + 1 }),
    waitRetryAfter: assign({
      backoff: ({ event }) => ((event as EventOf<'ATTEMPT_FAILED'>).error as unknown as { retryAfter: number }).retryAfter,
    }),
    /** The error carried by the event (cancel, failTask, a failed attempt, a dependency's failure). */
    recordError: assign({ error: ({ event }) => (event as EventOf<'CANCEL'>).error }),
    recordResult: assign({ result: ({ event }) => (event as EventOf<'COMPLETE'>).result }),
    recordTimeout: assign({ error: ({ context }) => timeoutError(context) }),
    recordStall: assign({ error: ({ context, event }) => stallError(context, event) }),
    /** A cache hit's result (that it was one, the supervisor reads off the transition: `queued` to `completed` is only this). */
    recordCacheHit: assign({ result: ({ event }) => (event as EventOf<'CACHE_HIT'>).result }),
    /** An attempt that was not the task's fault: it re-runs at once, free of maxRetries, and is counted apart. */
    countCrash: assign({ crashes: ({ context }) => context.crashes + 1 }),
    countInterruption: assign({ interruptions: ({ context }) => context.interruptions + 1 }),
    rerunAtOnce: assign({ backoff: 0 }),
    recordUnstarted: assign({ error: ({ context }) => unstartedError(context) }),
    computeBackoff: assign({ backoff: ({ context }) => withBackoff(context) }),
    countAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
    /** A dependency's end (or none, for START and RESTORE): counted, with the first failure and cancellation kept. */
    countDependency: assign({ upstream: ({ context, event }) => upstreamAfter(context, event) }),
    /** Under a failure that makes the rule unmeetable: the first failure's DependencyFailedError. */
    recordDependencyFailure: assign({ error: ({ context }) => context.upstream.failure }),
    /** Under a cancellation that cancels the task: the event's error for a shutdown, else the first cancellation's. */
    recordDependencyCancellation: assign({
      error: ({ context, event }) =>
        event.type === 'DEPENDENCY_CANCELLED' && event.shutdown === true ? event.error : context.upstream.cancellation,
    }),
    recordSkip: assign({ error: ({ context }) => new TriggerRuleError(context, context.trigger, describeCounts(context.upstream)) }),
    restore: assign(({ event }) => {
      const restored = event as RestoreEvent;
      return {
        attempts: restored.attempts,
        freeAttempts: restored.freeAttempts ?? 0,
        interruptions: restored.interruptions ?? 0,
        crashes: restored.crashes ?? 0,
        backoff: restored.backoff,
        error: restored.error,
      };
    }),
  },
  guards: {
    /** What the trigger rule says once the event is counted (trigger-rules.ts). */
    ruleMet: ({ context, event }) => verdictAfter(context, event) === 'met',
    ruleFailed: ({ context, event }) => verdictAfter(context, event) === 'failed',
    ruleCancelled: ({ context, event }) => verdictAfter(context, event) === 'cancelled',
    ruleSkipped: ({ context, event }) => verdictAfter(context, event) === 'skipped',
    hasTimeout: ({ context }) => context.timeout !== undefined,
    isDeferredWithTimeout: ({ context, event }) => (event as EventOf<'DISPATCH'>).deferred === true && context.timeout !== undefined,
    isDeferred: ({ event }) => (event as EventOf<'DISPATCH'>).deferred === true,
    isCurrentAttemptWithTimeout: ({ context, event }) =>
      (event as EventOf<'STARTED'>).attempt === context.attempts && context.timeout !== undefined,
    isCurrentAttempt: ({ context, event }) => (event as EventOf<'ATTEMPT_FAILED'>).attempt === context.attempts,
    isCurrentAttemptRateLimited: ({ context, event }) => {
      const failed = event as EventOf<'ATTEMPT_FAILED'>;
      return failed.attempt === context.attempts && isRateLimited(failed.error);
    },
    /** The remote worker process running the attempt died, and the task has free re-runs for that left. */
    isCurrentAttemptCrashedAndFree: ({ context, event }) => {
      const failed = event as EventOf<'ATTEMPT_FAILED'>;
      return failed.attempt === context.attempts && isProcessCrash(failed.error) && context.crashes < context.maxCrashes;
    },
    isCurrentAttemptAndCanRetryAfterStall: ({ context, event }) =>
      (event as EventOf<'STALLED'>).attempt === context.attempts && canRetry(context, undefined),
    isCurrentAttemptAndCanRetry: ({ context, event }) => {
      const failed = event as EventOf<'ATTEMPT_FAILED'>;
      return failed.attempt === context.attempts && canRetry(context, failed.error);
    },
    canRetryAfterTimeout: ({ context }) => canRetry(context, undefined),
    restoresFailed: ({ event }) => (event as RestoreEvent).to === 'failed',
    restoresRetrying: ({ event }) => (event as RestoreEvent).to === 'retrying',
    restoresInterrupted: ({ event }) => (event as RestoreEvent).to === 'interrupted',
    restoresDispatchedWithTimeout: ({ context, event }) => (event as RestoreEvent).to === 'dispatched' && context.timeout !== undefined,
    restoresDispatched: ({ event }) => (event as RestoreEvent).to === 'dispatched',
    restoresWaiting: ({ event }) => (event as RestoreEvent).to === 'waiting',
    /** Restored WAITING or queued, and what the rule says on the dependencies as restored. */
    restoresWaitingAndMet: ({ context, event }) => (event as RestoreEvent).to === 'waiting' && verdictAfter(context, event) === 'met',
    restoresWaitingAndFailed: ({ context, event }) => (event as RestoreEvent).to === 'waiting' && verdictAfter(context, event) === 'failed',
    restoresWaitingAndCancelled: ({ context, event }) =>
      (event as RestoreEvent).to === 'waiting' && verdictAfter(context, event) === 'cancelled',
    restoresWaitingAndSkipped: ({ context, event }) =>
      (event as RestoreEvent).to === 'waiting' && verdictAfter(context, event) === 'skipped',
    /** Interrupted by a process death, with free re-runs for that left. */
    restoresInterruptedAndFree: ({ context, event }) => {
      const restored = event as RestoreEvent;
      return restored.to === 'interrupted' && (restored.interruptions ?? 0) < context.maxInterruptions;
    },
    restoresInterruptedAndCanRetry: ({ context, event }) => {
      const restored = event as RestoreEvent;
      return restored.to === 'interrupted' && restored.attempts - (restored.freeAttempts ?? 0) <= context.maxRetries;
    },
  },
  delays: {
    attemptTimeout: ({ context }) => context.timeout ?? 0,
    retryBackoff: ({ context }) => context.backoff,
  },
}).createMachine({
  id: 'task',
  initial: 'pending',
  // Spelled out rather than spread: one object shape for every task, built in one step (this runs once per task).
  context: ({ input }) => ({
    id: input.id,
    name: input.name ?? input.id,
    maxRetries: input.maxRetries,
    retryDelay: input.retryDelay,
    maxRetryDelay: input.maxRetryDelay,
    jitter: input.jitter,
    timeout: input.timeout,
    maxInterruptions: input.maxInterruptions ?? 1,
    maxCrashes: input.maxCrashes ?? 1,
    trigger: input.trigger ?? DEFAULT_TRIGGER,
    upstream: input.upstream ?? NO_UPSTREAM,
    attempts: 0,
    freeAttempts: 0,
    interruptions: 0,
    crashes: 0,
    backoff: 0,
    result: undefined,
    error: undefined,
  }),
  states: {
    pending: {
      // No entry action: a task is created pending, and the supervisor records that itself.
      on: {
        // The rule decides from the dependencies that ended before (input) and since (the events counted here).
        START: decide(['met', 'failed', 'cancelled', 'skipped'], true, 'waiting'),
        // Not started: counted; it ends at once when the rule can no longer be met, else it waits for START.
        DEPENDENCY_COMPLETED: decide(ON_COMPLETED, false, undefined),
        DEPENDENCY_FAILED: decide(ON_FAILED, false, undefined),
        DEPENDENCY_CANCELLED: decide(ON_CANCELLED, false, undefined),
        CANCEL: { target: 'cancelled', actions: 'recordError' },
        RESTORE: [
          { guard: 'restoresFailed', target: 'failed', actions: 'restore' },
          { guard: 'restoresRetrying', target: 'retrying', actions: 'restore' },
          // Not the task's fault: a new attempt at once, free of maxRetries (its `retry` event says why).
          {
            guard: 'restoresInterruptedAndFree',
            target: 'retrying',
            actions: ['restore', 'countInterruption', 'countFreeAttempt', 'rerunAtOnce'],
          },
          { guard: 'restoresInterruptedAndCanRetry', target: 'retrying', actions: ['restore', 'computeBackoff'] },
          { guard: 'restoresInterrupted', target: 'failed', actions: 'restore' },
          { guard: 'restoresDispatchedWithTimeout', target: 'dispatched.timed', actions: 'restore' },
          { guard: 'restoresDispatched', target: 'dispatched.untimed', actions: 'restore' },
          ...decideRestored(),
          { guard: 'restoresWaiting', target: 'waiting', actions: 'restore' },
        ],
      },
    },
    waiting: {
      entry: { type: 'entered', params: { state: 'waiting' } },
      on: {
        DEPENDENCY_COMPLETED: decide(ON_COMPLETED, true, undefined),
        DEPENDENCY_FAILED: decide(ON_FAILED, true, undefined),
        DEPENDENCY_CANCELLED: decide(ON_CANCELLED, true, undefined),
        CANCEL: { target: 'cancelled', actions: 'recordError' },
      },
    },
    queued: {
      entry: { type: 'entered', params: { state: 'queued' } },
      on: {
        DISPATCH: [
          { guard: 'isDeferredWithTimeout', target: 'dispatched.timed', actions: 'countAttempt' },
          { guard: 'isDeferred', target: 'dispatched.untimed', actions: 'countAttempt' },
          {
            guard: 'hasTimeout',
            target: 'running.timed',
            actions: 'countAttempt',
          },
          { target: 'running.untimed', actions: 'countAttempt' },
        ],
        // Ready, and the results cache has a fresh result for its key: completed without an attempt.
        CACHE_HIT: { target: 'completed', actions: 'recordCacheHit' },
        CANCEL: { target: 'cancelled', actions: 'recordError' },
      },
    },
    /**
     * The attempt is with an executor that starts it later (a remote queue): it holds its slot and its
     * resources, but no worker has taken it yet. The timeout, when there is one, bounds this wait; a worker
     * taking the attempt (STARTED) makes it RUNNING, with its timeout counted afresh from there.
     */
    dispatched: {
      entry: { type: 'entered', params: { state: 'dispatched' } },
      initial: 'untimed',
      states: {
        untimed: {},
        timed: {
          after: {
            attemptTimeout: [
              {
                guard: 'canRetryAfterTimeout',
                target: '#task.retrying',
                actions: ['recordUnstarted', 'abortAttempt', 'computeBackoff'],
              },
              { target: '#task.failed', actions: ['recordUnstarted', 'abortAttempt'] },
            ],
          },
        },
      },
      on: {
        STARTED: [
          { guard: 'isCurrentAttemptWithTimeout', target: 'running.timed' },
          { guard: 'isCurrentAttempt', target: 'running.untimed' },
        ],
        // An attempt that could not be sent fails from here (PENDING -> FAILED or a retry). A success always comes
        // after STARTED (the supervisor sends STARTED first when the executor did not), so COMPLETED follows RUNNING.
        ATTEMPT_FAILED: [
          // Rate limited (a 429): back to the queue after `retryAfter`, not counted against maxRetries.
          {
            guard: 'isCurrentAttemptRateLimited',
            target: 'retrying',
            actions: ['recordError', 'countFreeAttempt', 'waitRetryAfter', 'pauseLimits'],
          },
          // Its worker process died before the engine heard it took the attempt: as from running, free up to maxCrashes.
          {
            guard: 'isCurrentAttemptCrashedAndFree',
            target: 'retrying',
            actions: ['recordError', 'countCrash', 'countFreeAttempt', 'rerunAtOnce'],
          },
          {
            guard: 'isCurrentAttemptAndCanRetry',
            target: 'retrying',
            actions: ['recordError', 'computeBackoff'],
          },
          { guard: 'isCurrentAttempt', target: 'failed', actions: 'recordError' },
        ],
        CANCEL: { target: 'cancelled', actions: ['recordError', 'abortAttempt'] },
      },
    },
    running: {
      entry: { type: 'entered', params: { state: 'running' } },
      initial: 'untimed',
      states: {
        /** No timeout: no timer at all. */
        untimed: {},
        /** The per-attempt timeout, counted from entering running. */
        timed: {
          after: {
            attemptTimeout: [
              {
                guard: 'canRetryAfterTimeout',
                target: '#task.retrying',
                actions: ['recordTimeout', 'abortAttempt', 'computeBackoff'],
              },
              {
                target: '#task.failed',
                actions: ['recordTimeout', 'abortAttempt'],
              },
            ],
          },
        },
      },
      on: {
        ATTEMPT_SUCCEEDED: {
          guard: 'isCurrentAttempt',
          target: 'completed',
          actions: 'recordResult',
        },
        ATTEMPT_FAILED: [
          // Rate limited (a 429): back to the queue after `retryAfter`, not counted against maxRetries.
          {
            guard: 'isCurrentAttemptRateLimited',
            target: 'retrying',
            actions: ['recordError', 'countFreeAttempt', 'waitRetryAfter', 'pauseLimits'],
          },
          // Its remote worker process died (a machine lost): re-run at once, free, up to maxCrashes times.
          {
            guard: 'isCurrentAttemptCrashedAndFree',
            target: 'retrying',
            actions: ['recordError', 'countCrash', 'countFreeAttempt', 'rerunAtOnce'],
          },
          {
            guard: 'isCurrentAttemptAndCanRetry',
            target: 'retrying',
            actions: ['recordError', 'computeBackoff'],
          },
          { guard: 'isCurrentAttempt', target: 'failed', actions: 'recordError' },
        ],
        // No heartbeat for heartbeatTimeout: aborted (a pool thread killed) and retried like a timeout.
        STALLED: [
          {
            guard: 'isCurrentAttemptAndCanRetryAfterStall',
            target: 'retrying',
            actions: ['recordStall', 'abortAttempt', 'computeBackoff'],
          },
          { guard: 'isCurrentAttempt', target: 'failed', actions: ['recordStall', 'abortAttempt'] },
        ],
        PROGRESS: { actions: 'reportProgress' },
        HEARTBEAT: { actions: 'recordHeartbeat' },
        COMPLETE: { target: 'completed', actions: ['recordResult', 'abortAttempt'] },
        FAIL: { target: 'failed', actions: ['recordError', 'abortAttempt'] },
        CANCEL: { target: 'cancelled', actions: ['recordError', 'abortAttempt'] },
      },
    },
    retrying: {
      entry: { type: 'entered', params: { state: 'retrying' } },
      after: { retryBackoff: 'queued' },
      on: {
        CANCEL: { target: 'cancelled', actions: 'recordError' },
      },
    },
    completed: { type: 'final', entry: { type: 'entered', params: { state: 'completed' } } },
    failed: { type: 'final', entry: { type: 'entered', params: { state: 'failed' } } },
    cancelled: { type: 'final', entry: { type: 'entered', params: { state: 'cancelled' } } },
  },
});

export type TaskMachine = typeof taskMachine;

/** The top-level state of a snapshot value such as `{ running: 'timed' }`. */
export function topState(value: string | Record<string, unknown>): TaskState {
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as TaskState;
}
