/**
 * A model of one task's public life, written from the contract
 * (/work/shared/CONTRACT.md), not from the statechart: its status, attempts,
 * progress and outcome, the retries it must announce and which attempts'
 * signals must be aborted. PENDING is split only by `started` (never started,
 * or waiting out a backoff: with free slots a task never waits in the queue),
 * and time is two numbers: when the running attempt times out or the backoff
 * ends, and when the running attempt stalls (`heartbeatTimeout` after its
 * start or its last heartbeat or progress); `due` is the sooner.
 *
 * Long and repeated work: an attempt that stalls is aborted and retried like
 * one that timed out (ERR_TASK_STALLED); a remote worker process's death
 * (WorkerCrashedError with worker 'process') re-runs the attempt at once, free
 * of maxRetries, `maxCrashes` times (default 1), then counts as a failure; a
 * task whose cache key has a result when it is ready completes with it, no
 * attempt counted, `cached` true; each attempt's `ctx.lastHeartbeat` is the
 * last details an earlier attempt's heartbeat gave.
 */
import type { TaskEngine } from '../src/index.js';

export type Status = 'PENDING' | 'WAITING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** One generated task, and optionally an external dependency it waits for. */
export interface TaskConfig {
  /** `external`: driven by the verbs only; `fn`: every attempt calls a function the test settles. */
  readonly kind: 'external' | 'fn';
  readonly maxRetries: number;
  readonly retryDelay: number;
  readonly maxRetryDelay: number | undefined;
  readonly timeout: number | undefined;
  /** An external dependency: none, registered but never started, or started (RUNNING). */
  readonly dependency: 'none' | 'unstarted' | 'running';
  /** `fn` only: ms without a heartbeat (ctx.heartbeat, progress) after which a running attempt stalls. */
  readonly heartbeatTimeout: number | undefined;
  /** `fn` only: free re-runs after a worker process's death; undefined: the default (1). */
  readonly maxCrashes: number | undefined;
  /**
   * `fn` only: no `cache`; `cache` with nothing cached (`cold`), or with a result of another key (`other-key`);
   * or with the result of its key cached before it starts (`primed`, by a twin task that ran first).
   */
  readonly cache: 'off' | 'cold' | 'other-key' | 'primed';
}

/** What the twin of a `primed` task completed with, before the run. */
export const PRIMED_RESULT = Object.freeze({ from: 'the results cache' });

/** How an attempt of a `fn` task fails. */
export type Failure = 'retryable' | 'non-retryable' | 'process-crash' | 'thread-crash';

/** An error as the contract pins it: this very object, or one with this code (and cause, attempt, heartbeatTimeout). */
export type ExpectedError =
  | { readonly is: unknown }
  | { readonly code: string; readonly cause?: unknown; readonly attempt?: number; readonly heartbeatTimeout?: number };

export interface ExpectedRetry {
  /** The number of the attempt about to run. */
  readonly attempt: number;
  readonly delay: number;
  readonly error: ExpectedError;
  /** When the attempt before it ended (the event's timestamp). */
  readonly at: number;
}

export function isTerminal(status: Status): boolean {
  return status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED';
}

export class TaskModel {
  /** Simulated time in ms. */
  now = 0;
  status: Status = 'PENDING';
  started = false;
  attempts = 0;
  /** Of the attempts, those not counted against maxRetries: re-runs after a worker process's death. */
  freeAttempts = 0;
  crashes = 0;
  /** Attempts that stalled (getStats().stalledAttempts). */
  stalls = 0;
  /** Completed from the results cache. */
  cached = false;
  progress = 0;
  /** When the running attempt times out, or the backoff ends. */
  timerDue: number | undefined = undefined;
  /** When the running attempt stalls, unless it beats before. */
  stallDue: number | undefined = undefined;
  /** The last details a running attempt's heartbeat gave: the next attempt's ctx.lastHeartbeat. */
  checkpoint: unknown = undefined;
  /** Per attempt of a `fn` task: the ctx.lastHeartbeat it must see. */
  readonly lastHeartbeats: unknown[] = [];
  result: unknown = undefined;
  error: ExpectedError | undefined = undefined;
  /** Every status the task had, in order; a terminal one only last. */
  readonly path: Status[] = ['PENDING'];
  readonly retries: ExpectedRetry[] = [];
  /** Per attempt of a `fn` task: whether its `ctx.signal` must be aborted. */
  readonly aborted: boolean[] = [];
  dependency: Status | undefined;

  constructor(readonly config: TaskConfig) {
    const { dependency } = config;
    this.dependency = dependency === 'none' ? undefined : dependency === 'running' ? 'RUNNING' : 'PENDING';
  }

  get terminal(): boolean {
    return isTerminal(this.status);
  }

  /** When the next timer fires: the running attempt's timeout or stall, or the end of the backoff. */
  get due(): number | undefined {
    const { timerDue, stallDue } = this;
    if (timerDue === undefined || stallDue === undefined) return timerDue ?? stallDue;
    return Math.min(timerDue, stallDue);
  }

  /** startTask: PENDING, never started. */
  get canStart(): boolean {
    return this.status === 'PENDING' && !this.started;
  }

  /** completeTask, failTask, updateTaskProgress: RUNNING. */
  get isRunning(): boolean {
    return this.status === 'RUNNING';
  }

  start(): void {
    this.started = true;
    if (this.dependency === undefined || this.dependency === 'COMPLETED') this.#ready();
    else this.#enter('WAITING');
  }

  complete(result: unknown): void {
    this.#abortAttempt();
    this.result = result;
    this.#finish('COMPLETED');
  }

  fail(error: unknown): void {
    this.#abortAttempt();
    this.#finish('FAILED', { is: error });
  }

  cancel(): void {
    this.#abortAttempt();
    this.#finish('CANCELLED', { code: 'ERR_TASK_CANCELLED' });
  }

  /** Progress (updateTaskProgress while RUNNING) is a heartbeat too. */
  reportProgress(fraction: number): void {
    this.progress = fraction;
    this.#beat();
  }

  /** `ctx.heartbeat(details)` of the attempt `age` calls before the latest: only the running attempt's counts. */
  heartbeat(age: number, details: unknown): void {
    if (age !== 0 || !this.isRunning) return;
    this.#beat();
    if (details !== undefined) this.checkpoint = details;
  }

  attemptSucceeded(result: unknown): void {
    this.result = result;
    this.#finish('COMPLETED');
  }

  attemptFailed(error: unknown, failure: Failure): void {
    const { maxCrashes = 1 } = this.config;
    if (failure === 'process-crash' && this.crashes < maxCrashes) {
      // Not the task's fault: the attempt runs again at once, announced by a retry event, not counted.
      this.crashes++;
      this.freeAttempts++;
      this.#retry(0, { is: error });
      return;
    }
    this.#attemptFailed({ is: error }, failure !== 'non-retryable');
  }

  /** The clock reads `time`: every timer due by then has fired, in order, including timers set while firing. */
  advanceTo(time: number): void {
    while (this.due !== undefined && this.due <= time) this.fireNextTimer();
    this.now = time;
  }

  /**
   * The clock reaches `due` and its timer fires: the attempt times out or stalls, or the backoff ends. When the
   * attempt's timeout and stall are due at the same instant, either may fire first: `tie` says which did.
   */
  fireNextTimer(tie?: () => 'timeout' | 'stall'): void {
    const due = this.due;
    if (due === undefined) return;
    this.now = due;
    if (this.status !== 'RUNNING') {
      this.#ready();
      return;
    }
    const timedOut = this.timerDue === due;
    const stalled = this.stallDue === due;
    const which = timedOut && stalled ? (tie?.() ?? 'timeout') : stalled ? 'stall' : 'timeout';
    const { heartbeatTimeout } = this.config;
    this.#abortAttempt();
    if (which === 'stall') {
      this.stalls++;
      this.#attemptFailed({ code: 'ERR_TASK_STALLED', attempt: this.attempts, heartbeatTimeout }, true);
    } else {
      this.#attemptFailed({ code: 'ERR_TASK_TIMEOUT', attempt: this.attempts }, true);
    }
  }

  /** The dependency has no dependencies and a slot is free: it runs at once. */
  dependencyStarted(): void {
    this.dependency = 'RUNNING';
  }

  dependencyEnded(status: 'COMPLETED' | 'FAILED' | 'CANCELLED', error?: unknown): void {
    this.dependency = status;
    if (this.terminal) return;
    if (status === 'FAILED') this.#finish('FAILED', { code: 'ERR_DEPENDENCY_FAILED', cause: error });
    else if (status === 'CANCELLED') this.#finish('CANCELLED', { code: 'ERR_TASK_CANCELLED' });
    else if (this.status === 'WAITING') {
      // Per the contract's startTask row, WAITING leads to PENDING (queued), then RUNNING: even with a free slot.
      this.#enter('PENDING');
      this.#ready();
    }
  }

  /** shutdown() in its default mode cancels every non-terminal task. */
  shutDown(): void {
    if (this.dependency !== undefined && !isTerminal(this.dependency)) this.dependency = 'CANCELLED';
    if (!this.terminal) this.cancel();
  }

  /** Ready to run (queued): a cache hit completes it at once, without an attempt; else an attempt runs. */
  #ready(): void {
    if (this.config.kind === 'fn' && this.config.cache === 'primed') {
      this.cached = true;
      this.result = PRIMED_RESULT;
      this.#finish('COMPLETED');
      return;
    }
    this.#beginAttempt();
  }

  #beginAttempt(): void {
    this.attempts++;
    if (this.config.kind === 'fn') {
      this.aborted.push(false);
      this.lastHeartbeats.push(this.checkpoint);
    }
    this.timerDue = this.config.timeout === undefined ? undefined : this.now + this.config.timeout;
    this.stallDue = undefined;
    this.#enter('RUNNING');
    this.#beat();
  }

  /** The running attempt is alive: it stalls `heartbeatTimeout` from now. */
  #beat(): void {
    const { heartbeatTimeout } = this.config;
    if (this.isRunning && heartbeatTimeout !== undefined) this.stallDue = this.now + heartbeatTimeout;
  }

  #attemptFailed(error: ExpectedError, retryable: boolean): void {
    const { maxRetries, retryDelay, maxRetryDelay } = this.config;
    const counted = this.attempts - this.freeAttempts;
    if (!retryable || counted > maxRetries) {
      this.#finish('FAILED', error);
      return;
    }
    this.#retry(Math.min(retryDelay * 2 ** (counted - 1), maxRetryDelay ?? Infinity), error);
  }

  #retry(delay: number, error: ExpectedError): void {
    this.retries.push({ attempt: this.attempts + 1, delay, error, at: this.now });
    this.timerDue = this.now + delay;
    this.stallDue = undefined;
    this.#enter('PENDING');
  }

  /** The running attempt of a `fn` task is cut short: its signal aborts. */
  #abortAttempt(): void {
    if (this.status === 'RUNNING' && this.config.kind === 'fn') this.aborted[this.attempts - 1] = true;
  }

  #finish(status: Status, error?: ExpectedError): void {
    this.error = error;
    this.timerDue = undefined;
    this.stallDue = undefined;
    this.#enter(status);
  }

  #enter(status: Status): void {
    if (status !== this.status) this.path.push(status);
    this.status = status;
  }
}

/** The system under test, as the commands drive it; built by single-task.test.ts. */
export interface TaskSystem {
  readonly engine: TaskEngine;
  readonly taskId: string;
  readonly dependencyId: string | undefined;
  /** Settles the promise returned by the call of the task's function `age` calls before the latest. */
  settleCall(age: number, outcome: { readonly result: unknown } | { readonly error: unknown }): void;
  /** Calls `ctx.heartbeat(details)` of the call of the task's function `age` calls before the latest. */
  beat(age: number, details: unknown): void;
  /** Which ended the running attempt, as the engine tells it (the error of its retry, or of the task). */
  lastEnding(): 'timeout' | 'stall';
  /** Moves the simulated clock by `ms`, letting promise callbacks run before and after. */
  advance(ms: number): Promise<void>;
  /** Asserts that `act` throws ERR_INVALID_TRANSITION and changes nothing observable. */
  expectRefused(act: () => void): void;
  /** Lets promise callbacks run, then asserts that the engine agrees with the model. */
  verify(model: TaskModel): Promise<void>;
}
