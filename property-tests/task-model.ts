/**
 * A model of one task's public life, written from the contract
 * (/work/shared/CONTRACT.md), not from the statechart: its status, attempts,
 * progress and outcome, the retries it must announce and which attempts'
 * signals must be aborted. PENDING is split only by `started` (never started,
 * or waiting out a backoff: with free slots a task never waits in the queue),
 * and time is one number, `due`: when the running attempt times out or the
 * backoff ends.
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
}

/** An error as the contract pins it: this very object, or one with this code (and cause, and attempt). */
export type ExpectedError = { readonly is: unknown } | { readonly code: string; readonly cause?: unknown; readonly attempt?: number };

export interface ExpectedRetry {
  /** The number of the attempt about to run. */
  readonly attempt: number;
  readonly delay: number;
  readonly error: ExpectedError;
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
  progress = 0;
  /** When the next timer fires: the running attempt's timeout or the end of the backoff. */
  due: number | undefined = undefined;
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
    if (this.dependency === undefined || this.dependency === 'COMPLETED') this.#beginAttempt();
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

  reportProgress(fraction: number): void {
    this.progress = fraction;
  }

  attemptSucceeded(result: unknown): void {
    this.result = result;
    this.#finish('COMPLETED');
  }

  attemptFailed(error: unknown, retryable: boolean): void {
    this.#attemptFailed({ is: error }, retryable);
  }

  /** The clock reads `time`: every timer due by then has fired, in order, including timers set while firing. */
  advanceTo(time: number): void {
    while (this.due !== undefined && this.due <= time) this.fireNextTimer();
    this.now = time;
  }

  /** The clock reaches `due` and its timer fires: the attempt times out, or the backoff ends. */
  fireNextTimer(): void {
    if (this.due === undefined) return;
    this.now = this.due;
    if (this.status === 'RUNNING') {
      this.#abortAttempt();
      this.#attemptFailed({ code: 'ERR_TASK_TIMEOUT', attempt: this.attempts }, true);
    } else {
      this.#beginAttempt();
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
      this.#beginAttempt();
    }
  }

  /** shutdown() in its default mode cancels every non-terminal task. */
  shutDown(): void {
    if (this.dependency !== undefined && !isTerminal(this.dependency)) this.dependency = 'CANCELLED';
    if (!this.terminal) this.cancel();
  }

  #beginAttempt(): void {
    this.attempts++;
    if (this.config.kind === 'fn') this.aborted.push(false);
    this.due = this.config.timeout === undefined ? undefined : this.now + this.config.timeout;
    this.#enter('RUNNING');
  }

  #attemptFailed(error: ExpectedError, retryable: boolean): void {
    const { maxRetries, retryDelay, maxRetryDelay } = this.config;
    if (!retryable || this.attempts > maxRetries) {
      this.#finish('FAILED', error);
      return;
    }
    const delay = Math.min(retryDelay * 2 ** (this.attempts - 1), maxRetryDelay ?? Infinity);
    this.retries.push({ attempt: this.attempts + 1, delay, error });
    this.due = this.now + delay;
    this.#enter('PENDING');
  }

  /** The running attempt of a `fn` task is cut short: its signal aborts. */
  #abortAttempt(): void {
    if (this.status === 'RUNNING' && this.config.kind === 'fn') this.aborted[this.attempts - 1] = true;
  }

  #finish(status: Status, error?: ExpectedError): void {
    this.error = error;
    this.due = undefined;
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
  /** Moves the simulated clock by `ms`, letting promise callbacks run before and after. */
  advance(ms: number): Promise<void>;
  /** Asserts that `act` throws ERR_INVALID_TRANSITION and changes nothing observable. */
  expectRefused(act: () => void): void;
  /** Lets promise callbacks run, then asserts that the engine agrees with the model. */
  verify(model: TaskModel): Promise<void>;
}
