/**
 * The task statechart: one task's whole lifecycle, pure. Effects (running the
 * attempt, aborting it, reporting) are named actions whose implementations
 * the supervisor provides with `taskMachine.provide(...)`; the two delays are
 * computed from context, and time comes from the actor's clock.
 *
 * Invariants the machine enforces:
 * - a task leaves `pending` only by START, or by a dependency's failure or cancellation, or by CANCEL;
 * - it reaches `running` only through `queued` (directly, or through `dispatched` for an executor that starts
 *   attempts later), and `queued` only when no dependency is unmet;
 * - an attempt's outcome counts only while that same attempt is running (late results are ignored);
 * - completed, failed and cancelled are final: entered once, left never.
 */
import { assign, setup } from 'xstate';
import { TaskTimeoutError, isNonRetryable } from '../errors.js';
import { backoffDelay } from '../scheduling/backoff.js';

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
}

export interface TaskMachineContext extends TaskMachineInput {
  readonly name: string;
  /** Attempts started so far; the running attempt's number while running. */
  attempts: number;
  /** Dependencies not yet COMPLETED, counted at START. */
  unmetDependencies: number;
  /** The delay of the backoff being waited out (meaningful in `retrying`). */
  backoff: number;
  result: unknown;
  error: unknown;
}

export type TaskMachineEvent =
  | { type: 'START'; unmetDependencies: number }
  | { type: 'DEPENDENCY_COMPLETED' }
  | { type: 'DEPENDENCY_FAILED'; error: Error }
  | { type: 'DEPENDENCY_CANCELLED'; error: Error }
  /** `deferred`: the executor reports when a worker takes the attempt (STARTED); until then the task is `dispatched`. */
  | { type: 'DISPATCH'; deferred?: boolean }
  /** A worker took attempt `attempt` (deferred executors): RUNNING from now, and its timeout counts from now. */
  | { type: 'STARTED'; attempt: number }
  | { type: 'ATTEMPT_SUCCEEDED'; attempt: number; result: unknown }
  | { type: 'ATTEMPT_FAILED'; attempt: number; error: Error }
  | { type: 'PROGRESS'; progress: number; message: string | undefined }
  | { type: 'COMPLETE'; result: unknown }
  | { type: 'FAIL'; error: Error }
  | { type: 'CANCEL'; error: Error }
  | RestoreEvent;

/**
 * Brings a task read from a durable store back to where it stood, from `pending`:
 * - `waiting`: it was WAITING or queued; it re-enters `waiting` (or `queued` when no dependency is unmet);
 * - `retrying`: it was waiting out a backoff; `backoff` is what is left of it;
 * - `interrupted`: it was RUNNING when the process died; that attempt counts as failed with `error`
 *   (ERR_INTERRUPTED) and the task retries if it has attempts left, else fails;
 * - `dispatched`: its attempt was handed to an executor whose work outlives this process (a remote queue);
 *   it waits for that same attempt again (the executor re-attaches to it);
 * - `failed`: it cannot run in this process (its handler is not defined, say); it fails with `error`.
 */
export interface RestoreEvent {
  readonly type: 'RESTORE';
  readonly to: 'waiting' | 'retrying' | 'interrupted' | 'dispatched' | 'failed';
  /** Attempts counted so far (the interrupted one included). */
  readonly attempts: number;
  readonly unmetDependencies: number;
  readonly backoff: number;
  readonly error: Error | undefined;
}

type EventOf<T extends TaskMachineEvent['type']> = Extract<TaskMachineEvent, { type: T }>;

const canRetry = (context: TaskMachineContext, error: unknown): boolean => context.attempts <= context.maxRetries && !isNonRetryable(error);

const withBackoff = (context: TaskMachineContext): number => backoffDelay(context, context.attempts, context.id);

const timeoutError = (context: TaskMachineContext): TaskTimeoutError =>
  new TaskTimeoutError(context, context.timeout ?? 0, context.attempts);

const unstartedError = (context: TaskMachineContext): TaskTimeoutError =>
  new TaskTimeoutError(context, context.timeout ?? 0, context.attempts, 'unstarted');

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
    /** The error carried by the event (cancel, failTask, a failed attempt, a dependency's failure). */
    recordError: assign({ error: ({ event }) => (event as EventOf<'CANCEL'>).error }),
    recordResult: assign({ result: ({ event }) => (event as EventOf<'COMPLETE'>).result }),
    recordTimeout: assign({ error: ({ context }) => timeoutError(context) }),
    recordUnstarted: assign({ error: ({ context }) => unstartedError(context) }),
    computeBackoff: assign({ backoff: ({ context }) => withBackoff(context) }),
    countAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
    setUnmetDependencies: assign({ unmetDependencies: ({ event }) => (event as EventOf<'START'>).unmetDependencies }),
    countCompletedDependency: assign({ unmetDependencies: ({ context }) => context.unmetDependencies - 1 }),
    restore: assign(({ event }) => {
      const restored = event as RestoreEvent;
      return {
        attempts: restored.attempts,
        unmetDependencies: restored.unmetDependencies,
        backoff: restored.backoff,
        error: restored.error,
      };
    }),
  },
  guards: {
    hasUnmetDependencies: ({ event }) => (event as EventOf<'START'>).unmetDependencies > 0,
    isLastDependency: ({ context }) => context.unmetDependencies <= 1,
    hasTimeout: ({ context }) => context.timeout !== undefined,
    isDeferredWithTimeout: ({ context, event }) => (event as EventOf<'DISPATCH'>).deferred === true && context.timeout !== undefined,
    isDeferred: ({ event }) => (event as EventOf<'DISPATCH'>).deferred === true,
    isCurrentAttemptWithTimeout: ({ context, event }) =>
      (event as EventOf<'STARTED'>).attempt === context.attempts && context.timeout !== undefined,
    isCurrentAttempt: ({ context, event }) => (event as EventOf<'ATTEMPT_FAILED'>).attempt === context.attempts,
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
    restoresWaitingWithUnmet: ({ event }) => (event as RestoreEvent).to === 'waiting' && (event as RestoreEvent).unmetDependencies > 0,
    restoresInterruptedAndCanRetry: ({ context, event }) => {
      const restored = event as RestoreEvent;
      return restored.to === 'interrupted' && restored.attempts <= context.maxRetries;
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
    attempts: 0,
    unmetDependencies: 0,
    backoff: 0,
    result: undefined,
    error: undefined,
  }),
  states: {
    pending: {
      // No entry action: a task is created pending, and the supervisor records that itself.
      on: {
        START: [
          {
            guard: 'hasUnmetDependencies',
            target: 'waiting',
            actions: 'setUnmetDependencies',
          },
          { target: 'queued' },
        ],
        DEPENDENCY_FAILED: { target: 'failed', actions: 'recordError' },
        DEPENDENCY_CANCELLED: { target: 'cancelled', actions: 'recordError' },
        CANCEL: { target: 'cancelled', actions: 'recordError' },
        RESTORE: [
          { guard: 'restoresFailed', target: 'failed', actions: 'restore' },
          { guard: 'restoresRetrying', target: 'retrying', actions: 'restore' },
          { guard: 'restoresInterruptedAndCanRetry', target: 'retrying', actions: ['restore', 'computeBackoff'] },
          { guard: 'restoresInterrupted', target: 'failed', actions: 'restore' },
          { guard: 'restoresDispatchedWithTimeout', target: 'dispatched.timed', actions: 'restore' },
          { guard: 'restoresDispatched', target: 'dispatched.untimed', actions: 'restore' },
          { guard: 'restoresWaitingWithUnmet', target: 'waiting', actions: 'restore' },
          { target: 'queued', actions: 'restore' },
        ],
      },
    },
    waiting: {
      entry: { type: 'entered', params: { state: 'waiting' } },
      on: {
        DEPENDENCY_COMPLETED: [
          { guard: 'isLastDependency', target: 'queued', actions: 'countCompletedDependency' },
          { actions: 'countCompletedDependency' },
        ],
        DEPENDENCY_FAILED: { target: 'failed', actions: 'recordError' },
        DEPENDENCY_CANCELLED: { target: 'cancelled', actions: 'recordError' },
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
          {
            guard: 'isCurrentAttemptAndCanRetry',
            target: 'retrying',
            actions: ['recordError', 'computeBackoff'],
          },
          { guard: 'isCurrentAttempt', target: 'failed', actions: 'recordError' },
        ],
        PROGRESS: { actions: 'reportProgress' },
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
