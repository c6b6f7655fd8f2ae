/**
 * What the supervisor keeps per task. While the task is live it holds the
 * task's actor; at its terminal status the actor is dropped and the record
 * stays as the compact memory of the task until it is forgotten.
 */
import type { AsyncResource } from 'node:async_hooks';
import type { TaskState, Upstream } from '../machines/task.machine.js';
import type { TriggerRule } from '../machines/trigger-rules.js';
import type { TaskRun } from '../runtime/task-runtime.js';
import type { AttemptContext } from './attempt-context.js';
import type { ReadyItem } from '../scheduling/ready-queue.js';
import type { Hold, LimitClaim, Limited } from '../scheduling/key-limits.js';
import { TaskStatus, type TaskPriority } from '../status.js';
import type { DependencyOutcome, ResolvedTaskSpec } from '../task-spec.js';

export type { Disposer } from '../wire/task-context.js';
import type { Disposer } from '../wire/task-context.js';
import type { Watched } from './heartbeats.js';

interface Deferred {
  readonly promise: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class TaskRecord implements ReadyItem, Limited {
  readonly id: string;
  readonly name: string;
  readonly priority: TaskPriority;
  readonly lane: string;
  /**
   * The whole spec while the task is live. At its terminal status it is
   * replaced by a placeholder shared by every finished task of the same
   * executor (see `releaseSpec`), so a finished task keeps no copy of it.
   */
  spec: ResolvedTaskSpec;
  /** The task's dependencies (frozen), kept after the spec is released. */
  readonly dependencies: readonly string[];
  /** How the task was asked to run, kept after the spec is released (getTask, the dashboard). */
  readonly settings: TaskSettings;
  readonly createdAt: number;
  /** Whether the engine's store keeps this task. */
  readonly durable: boolean;
  /** Start order, set by startTask; orders FIFO within a priority level. */
  seq = 0;
  /** The machine's top-level state; `status` is derived from it on every entry. */
  state: TaskState = 'pending';
  status: TaskStatus = TaskStatus.PENDING;
  progress = 0;
  message: string | undefined = undefined;
  attempts = 0;
  /** Of `attempts`, those that do not count against maxRetries (rate limited); kept for a durable store. */
  freeAttempts = 0;
  submittedAt: number | undefined = undefined;
  startedAt: number | undefined = undefined;
  attemptStartedAt = 0;
  finishedAt: number | undefined = undefined;
  result: unknown = undefined;
  error: unknown = undefined;
  /** The error of the last failed attempt while waiting out a backoff (kept by a durable store). */
  lastError: unknown = undefined;
  /** The backoff's end (retrying) or the running attempt's timeout (running); else undefined. */
  deadline: number | undefined = undefined;
  /** A durable task's result as the store keeps it, encoded when the attempt (or completeTask) delivers it. */
  storedResult: Uint8Array | undefined = undefined;
  /** Terminal, and its terminal effects (status event, waiters, dependents) carried out. */
  settled = false;
  /** The task's statechart (an XState actor or a compiled run); present exactly while the task is not terminal (and not dormant). */
  actor: TaskRun | undefined = undefined;
  /** Restored never-started: its actor (in `pending`) is created on first use. */
  dormant = false;
  /** The running attempt's context (its signal, progress and resources); present exactly while an attempt of a fn/handler/module task runs. */
  attemptContext: AttemptContext | undefined = undefined;
  /** Dispatched, and its deferred-start executor reported that it cannot hand the attempt over now. */
  unavailable = false;
  /** Disposers not yet run, last registered runs first. */
  disposers: Disposer[] | undefined = undefined;
  /** The disposal under way or done, once the task is terminal and had disposers. */
  disposal: Promise<void> | undefined = undefined;
  waiter: Deferred | undefined = undefined;
  /** Whether its `registered` event went out (events of a task never precede it). */
  announced = false;
  /** The async context of the code that started it, in which its attempts run; dropped at the terminal status. */
  caller: AsyncResource | undefined = undefined;
  /** The supervisor's count of attempts begun when a `stalled` event last reported it (stalled.ts); -1: never. */
  stalledPeriod = -1;
  /**
   * Restored never-started (`dormant`): its dependencies as restored, for its machine's input when it is created
   * (dependency-tracker.ts `upstreamOf`).
   */
  upstream: Upstream | undefined = undefined;
  /** Per-key limits (key-limits.ts): the key it is held on while held, and the key that woke it until it starts. */
  heldOn: object | undefined = undefined;
  wokenFrom: object | undefined = undefined;
  /** Dependencies forgotten (retention, cleanupTask) while this task was live, as they ended: for `ctx.dependencies`. */
  forgottenDependencies: Map<string, DependencyOutcome> | undefined = undefined;
  /**
   * Heartbeats, checkpoint, cache, deadline and free re-runs (long and repeated work): made on first use, so that a
   * task using none of it pays one field.
   */
  long: LongState | undefined = undefined;

  constructor(spec: ResolvedTaskSpec, createdAt: number) {
    this.id = spec.id;
    this.name = spec.name;
    this.priority = spec.priority;
    this.lane = spec.lane;
    this.spec = spec;
    this.dependencies = spec.dependencies;
    this.settings = settingsOf(spec);
    this.createdAt = createdAt;
    this.durable = spec.durable;
  }

  /** Its long-running state, made on first use. */
  get longState(): LongState {
    return (this.long ??= new LongState());
  }

  /** Its claims on the engine's limiters (empty once finished: only live tasks are limited). */
  get claims(): readonly LimitClaim[] {
    return this.spec.limits;
  }

  /** The promise `waitForTask` returns: settles with the task's terminal status. */
  wait(): Promise<unknown> {
    // A durable task's terminal status is settled only once it is on disk: until then, wait like anyone else.
    if (this.settled && this.status === TaskStatus.COMPLETED) return Promise.resolve(this.result);
    if (this.settled) return Promise.reject(this.error);
    if (this.waiter === undefined) {
      let resolve!: (value: unknown) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.waiter = { promise, resolve, reject };
    }
    return this.waiter.promise;
  }

  /** Settles `waitForTask` promises; called once, at the terminal status. */
  settleWaiter(): void {
    this.settled = true;
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    if (this.status === TaskStatus.COMPLETED) waiter.resolve(this.result);
    else waiter.reject(this.error);
  }

  /** Rejects `waitForTask` promises without settling the task (the engine stopped before it ended here). */
  abandonWaiter(error: unknown): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    this.waiter = undefined;
    waiter.reject(error);
  }
}

/** What a task using heartbeats, the results cache, a deadline or free re-runs keeps besides the rest. */
export class LongState implements Watched {
  /** When the running attempt (or the last one) last beat: its start, a heartbeat or progress. */
  lastHeartbeatAt: number | undefined = undefined;
  /** The stall watch's timer while an attempt runs under `heartbeatTimeout`. */
  heartbeatTimer: unknown = undefined;
  /** The latest heartbeat details of any attempt (its checkpoint), handed to the next attempt; undefined: none. */
  checkpoint: unknown = undefined;
  /** Attempts interrupted by a process death, and remote attempts whose worker process died. */
  interruptions = 0;
  crashes = 0;
  /** Completed from the results cache. */
  cached = false;
  /** Its cache key once computed; null when it cannot be (it runs uncached). */
  cacheKey: string | null | undefined = undefined;
  /** The deadline alert's timer while it is armed, and when the deadline passed (the alert went out). */
  deadlineTimer: unknown = undefined;
  deadlineMissedAt: number | undefined = undefined;
}

/** How a task was asked to run: the spec's settings, without what it runs (fn, args). */
export interface TaskSettings {
  readonly executor: string;
  readonly kind: 'fn' | 'handler' | 'module' | 'external';
  readonly handler: string | undefined;
  readonly module: string | undefined;
  readonly maxRetries: number;
  readonly retryDelay: number;
  /** When its dependencies let it run. */
  readonly trigger: TriggerRule;
  /** Per-attempt timeout in ms, undefined for none. */
  readonly timeout: number | undefined;
  /** Units of the engine's named resource pools held while running. */
  readonly resources: Readonly<Record<string, number>>;
  /** Whether the engine's store keeps the task (false on an engine without a store). */
  readonly durable: boolean;
}

const NO_RESOURCES: Readonly<Record<string, number>> = Object.freeze({});

/**
 * Settings objects shared by tasks with identical settings (the usual case: many tasks of one
 * kind), so a million finished tasks do not keep a million copies. Bounded: past the limit,
 * tasks get their own object.
 */
const sharedSettings = new Map<string, TaskSettings>();
const SHARED_SETTINGS_LIMIT = 1000;

/** The settings last looked up: consecutive tasks of one kind skip building the key (no spec is kept, only settings). */
let lastSettings: TaskSettings | undefined;
/** The lane (executor and resources) of the task `lastSettings` was looked up for. */
let lastLane = '';

function settingsOf(spec: ResolvedTaskSpec): TaskSettings {
  const last = lastSettings;
  if (
    last !== undefined &&
    lastLane === spec.lane &&
    last.kind === spec.kind &&
    last.handler === spec.handler &&
    last.module === spec.module &&
    last.maxRetries === spec.maxRetries &&
    last.retryDelay === spec.retryDelay &&
    last.timeout === spec.timeout &&
    last.trigger === spec.trigger &&
    last.durable === spec.durable
  ) {
    return last;
  }
  const settings = lookUpSettings(spec);
  lastSettings = settings;
  lastLane = spec.lane;
  return settings;
}

function lookUpSettings(spec: ResolvedTaskSpec): TaskSettings {
  const key = `${spec.lane}\u0000${spec.kind}\u0000${spec.handler}\u0000${spec.module}\u0000${spec.maxRetries}\u0000${spec.retryDelay}\u0000${spec.timeout}\u0000${spec.durable}\u0000${spec.trigger}`;
  let settings = sharedSettings.get(key);
  if (settings === undefined) {
    settings = newSettings(spec);
    if (sharedSettings.size < SHARED_SETTINGS_LIMIT) sharedSettings.set(key, settings);
  }
  return settings;
}

function newSettings(spec: ResolvedTaskSpec): TaskSettings {
  return Object.freeze({
    executor: spec.executor,
    kind: spec.kind,
    handler: spec.handler,
    module: spec.module,
    maxRetries: spec.maxRetries,
    retryDelay: spec.retryDelay,
    timeout: spec.timeout,
    trigger: spec.trigger,
    resources: spec.resources.length === 0 ? NO_RESOURCES : Object.freeze(Object.fromEntries(spec.resources)),
    durable: spec.durable,
  });
}

/** What `getTask` returns: a copy, safe to keep. */
export interface TaskInfo {
  readonly id: string;
  readonly name: string;
  readonly status: TaskStatus;
  /** The task machine's state, finer than the status (`queued`, `dispatched` and `retrying` all show as PENDING). */
  readonly state: TaskState;
  readonly priority: TaskPriority;
  readonly progress: number;
  readonly message: string | undefined;
  readonly attempts: number;
  readonly dependencies: readonly string[];
  /** How the task was asked to run (executor, retries, timeout, resources). */
  readonly settings: TaskSettings;
  readonly createdAt: number;
  /** When the first attempt started RUNNING. */
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  readonly result: unknown;
  readonly error: unknown;
  /**
   * Why a started task is not running yet, when something other than a free slot holds it: the dependencies it
   * still waits for (WAITING), or the per-key limit that holds it back (queued), with until when (undefined: until a
   * running task of that key ends). Undefined otherwise.
   */
  readonly waitingOn: WaitingOn | undefined;
  /** Its claims on the engine's per-key limiters (`limits` of its spec), by limiter name; empty for none or once finished. */
  readonly limits: readonly LimitClaim[];
  /** Completed from the results cache, without an attempt. */
  readonly cached: boolean;
  /**
   * For a task that uses heartbeats (a `heartbeatTimeout`, or a `ctx.heartbeat()` in an earlier attempt): when the
   * running (or last) attempt last sent a heartbeat or progress, its start until then. Undefined for other tasks.
   */
  readonly lastHeartbeatAt: number | undefined;
  /** Attempts interrupted by a process death (seen at `restore()`), and remote attempts whose worker process died. */
  readonly interruptions: number;
  readonly crashes: number;
  /** When its `deadline` passed while it was not terminal (a `deadline` event went out); undefined otherwise. */
  readonly deadlineMissedAt: number | undefined;
}

export interface WaitingOn {
  /** Ids of the dependencies that have not ended. */
  readonly dependencies: readonly string[];
  readonly limit: Hold | undefined;
}

export function toTaskInfo(record: TaskRecord, waitingOn?: WaitingOn): TaskInfo {
  return {
    id: record.id,
    name: record.name,
    status: record.status,
    state: record.state,
    priority: record.priority,
    progress: record.progress,
    message: record.message,
    attempts: record.attempts,
    dependencies: record.dependencies,
    settings: record.settings,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    result: record.result,
    error: record.error,
    waitingOn,
    limits: record.claims,
    cached: record.long?.cached ?? false,
    lastHeartbeatAt: record.long?.lastHeartbeatAt,
    interruptions: record.long?.interruptions ?? 0,
    crashes: record.long?.crashes ?? 0,
    deadlineMissedAt: record.long?.deadlineMissedAt,
  };
}
