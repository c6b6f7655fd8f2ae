/**
 * The supervisor under random interleavings. A random DAG of tasks (priorities,
 * dependencies, named resources, custom executors with their own concurrency
 * and with deferred start, retries, timeouts, failures, hangs, heartbeat
 * timeouts with functions that beat or do not, results cache groups) runs on an
 * engine on XState's SimulatedClock, and fast-check's scheduler decides the
 * order of everything that can happen: each attempt settling, each clock step,
 * each mid-run cancel, each late start and each take of a deferred attempt by
 * a worker is one scheduled step. The run is
 * observed only from outside (status and retry events, getTaskStatus,
 * getStats, onIdle, and the task functions themselves) against a small model,
 * and every invariant is checked at the instant it applies (at each status
 * event, at each function call) and again after every step. Long and repeated
 * work: an attempt that does not beat stalls `heartbeatTimeout` after it began
 * (unless it ended first) and is retried like a timeout (ERR_TASK_STALLED); one
 * that beats never stalls; a task with `cache` that is ready while a task of its
 * key has completed completes with that result (PENDING->COMPLETED, no attempt,
 * `cached`), and runs otherwise; getStats() counts both.
 *
 * A failure names the broken invariant (`[priority]`, `[concurrency]`, ...) and
 * prints its seed and path; replay it with
 * `TASKCHART_PROPERTY_SEED=<seed> TASKCHART_PROPERTY_PATH=<path> npx vitest run property-tests/supervisor.test.ts`.
 * Runs: TASKCHART_PROPERTY_RUNS (default DEFAULT_RUNS).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  DependencyFailedError,
  NonRetryableError,
  STATUS_OF_STATE,
  TaskCancelledError,
  TaskChartError,
  TaskStalledError,
  TaskStatus,
  TaskTimeoutError,
  taskMachine,
  type AttemptRequest,
  type Executor,
  type RetryEvent,
  type StatusEvent,
  type TaskContext,
  type TaskEngine,
  type TaskEvent,
  type TaskSpec,
  type TaskState,
} from '../src/index.js';
import { describeMachine } from '../src/monitor/statechart.js';
import { TriggerRuleError } from '../src/errors.js';
import { FAILS_ON_FAILURE, ruleState, type RuleState } from './rule-model.js';
import { flush, simulatedEngine } from '../test/helpers.js';
import { ASYNC_EXECUTOR, sizedScenarioArb, type ExecutorPlan, type Scenario, type TaskPlan } from './arbitraries.js';

const DEFAULT_RUNS = 500;
const numRuns = Number.parseInt(process.env.TASKCHART_PROPERTY_RUNS ?? '', 10) || DEFAULT_RUNS;
const replay =
  process.env.TASKCHART_PROPERTY_SEED === undefined
    ? {}
    : { seed: Number(process.env.TASKCHART_PROPERTY_SEED), path: process.env.TASKCHART_PROPERTY_PATH, endOnFailure: true };

// ---- The statechart, read off the machine ---------------------------------

const topOf = (path: string): TaskState => path.split('.')[0] as TaskState;
const statusOf = (state: TaskState): TaskStatus => STATUS_OF_STATE[state];
const isTerminal = (status: TaskStatus): boolean =>
  status === TaskStatus.COMPLETED || status === TaskStatus.FAILED || status === TaskStatus.CANCELLED;

/** Top-level successors of each top-level state (delayed transitions included). */
const SUCCESSORS: ReadonlyMap<TaskState, ReadonlySet<TaskState>> = (() => {
  const successors = new Map<TaskState, Set<TaskState>>();
  for (const { source, target } of describeMachine(taskMachine).transitions) {
    if (target === undefined || topOf(source) === topOf(target)) continue;
    const set = successors.get(topOf(source)) ?? new Set<TaskState>();
    set.add(topOf(target));
    successors.set(topOf(source), set);
  }
  return successors;
})();
const INITIAL_STATE = String(taskMachine.config.initial) as TaskState;

/** Adds the states reachable by moves that keep the public status: those emit no status event. */
function silentClosure(states: Iterable<TaskState>): Set<TaskState> {
  const closed = new Set(states);
  const stack = [...closed];
  for (let state = stack.pop(); state !== undefined; state = stack.pop()) {
    for (const next of SUCCESSORS.get(state) ?? []) {
      if (statusOf(next) === statusOf(state) && !closed.has(next)) {
        closed.add(next);
        stack.push(next);
      }
    }
  }
  return closed;
}

/** The states a status event to `status` may lead to from `states`; empty when the statechart forbids it. */
function statusStep(states: ReadonlySet<TaskState>, status: TaskStatus): Set<TaskState> {
  const next: TaskState[] = [];
  for (const state of states) {
    for (const target of SUCCESSORS.get(state) ?? []) {
      if (statusOf(target) === status && statusOf(state) !== status) next.push(target);
    }
  }
  return silentClosure(next);
}

/** Every `FROM->TO` public status step some transition makes. */
function publicSteps(): string[] {
  const steps = new Set<string>();
  for (const [state, targets] of SUCCESSORS) {
    for (const target of targets) if (statusOf(state) !== statusOf(target)) steps.add(`${statusOf(state)}->${statusOf(target)}`);
  }
  return [...steps].sort();
}

// ---- The model: what the outside can know about each task ------------------

interface Call {
  readonly attempt: number;
  readonly ctx: TaskContext;
  /** How the attempt left RUNNING: by its own outcome, or aborted (timeout, cancel, shutdown). */
  ended?: 'outcome' | 'aborted';
}

interface TaskView {
  readonly plan: TaskPlan;
  readonly deps: TaskView[];
  readonly dependents: TaskView[];
  status: TaskStatus;
  /** Statechart states consistent with the status events seen so far. */
  states: Set<TaskState>;
  /** Start order (startTask calls), undefined while never started. */
  seq: number | undefined;
  /** The current attempt's number: attempts dispatched so far (RUNNING at dispatch, or handed to a deferred executor). */
  attempts: number;
  /** RUNNING status events so far. */
  runs: number;
  runningSince: number;
  /** A deferred executor holds its current attempt, not yet taken by a worker (PENDING, holding its slot). */
  dispatched: boolean;
  dispatchedSince: number;
  awaitingRetryEvent: boolean;
  backoffEnd: number | undefined;
  terminalEvents: number;
  error: unknown;
  /** Its result, once COMPLETED (a dependent's cache key holds it). */
  result: unknown;
  /** Its cache key (a `cache` task), from its first time ready on: its group and its dependencies' results. */
  cacheKey: string | undefined;
  /** What the results cache must do at its latest time ready (a `cache` task), until it completes from it or runs. */
  lookup: Lookup | undefined;
  /** Completed from the results cache. */
  cachedHit: boolean;
  /** What may have ended the running attempt with no outcome of its own: its timeout, its stall, or either. */
  ending: ReadonlySet<'timeout' | 'stall'> | undefined;
  readonly calls: Call[];
  /** Each attempt's outcome, recorded just before the engine can see it. */
  readonly outcomes: Map<number, { readonly resolved: boolean; readonly value: unknown }>;
  readonly history: string[];
}

/**
 * The results cache's answer when a `cache` task was ready: `values` are the results it may complete with (the
 * latest remembered under its key), `mustHit` whether it has to. Ready when a backoff ends (`at` that time), the
 * answer is read off the remembered results then: one remembered at that same instant may or may not have been seen.
 */
type Lookup = { readonly mustHit: boolean; readonly values: readonly unknown[] } | { readonly at: number };

type Invariant =
  | 'cache'
  | 'concurrency'
  | 'executor'
  | 'key concurrency'
  | 'resources'
  | 'dependency gate'
  | 'dependency failure'
  | 'trigger rule'
  | 'priority'
  | 'work conservation'
  | 'terminal once'
  | 'statechart'
  | 'outcome'
  | 'retry'
  | 'timers'
  | 'signal'
  | 'idle'
  | 'liveness'
  | 'verbs'
  | 'stats';

const runsBefore = (a: TaskView, b: TaskView): boolean =>
  a.plan.priority !== b.plan.priority ? a.plan.priority > b.plan.priority : (a.seq as number) < (b.seq as number);

/** One scenario's engine, its scheduled steps and the model the invariants are checked against. */
/** An entry of XState's SimulatedClock timer map. */
interface PendingTimer {
  readonly start: number;
  readonly timeout: number;
}

class SupervisorRun {
  readonly violations: string[] = [];
  readonly #scenario: Scenario;
  readonly #s: fc.Scheduler;
  readonly #engine: TaskEngine;
  readonly #clock: { now(): number; set(time: number): void };
  readonly #timers: Map<unknown, PendingTimer>;
  readonly #tasks: TaskView[];
  readonly #byId = new Map<string, TaskView>();
  readonly #running = new Set<TaskView>();
  readonly #executors = new Map<string, ExecutorPlan>();
  /** Attempts each custom executor holds, from dispatch until the promise it returned settles. */
  readonly #inFlight = new Map<string, number>();
  /** {@link #unseenDispatches}, while the engine has not moved since it was read. */
  #unseen: Set<TaskView> | undefined;
  #seq = 0;
  #step = 0;
  #tick = 0;
  #tickPending = false;
  #cancelling: TaskView | undefined;
  #shuttingDown = false;
  #idle: { resolved: boolean } | undefined;
  /** The results each cache key holds: a `cache` task's own completions, in order, with the clock's time then. */
  readonly #remembered = new Map<string, Array<{ readonly time: number; readonly value: unknown }>>();
  /** Tasks completed from the results cache, and attempts ended by their stall, so far. */
  #cacheHits = 0;
  #stalls = 0;

  constructor(scenario: Scenario, s: fc.Scheduler) {
    this.#scenario = scenario;
    this.#s = s;
    const executors: Record<string, Executor> = {};
    for (const plan of scenario.engine.executors) {
      this.#executors.set(plan.name, plan);
      this.#inFlight.set(plan.name, 0);
      executors[plan.name] = {
        concurrency: plan.concurrency,
        deferredStart: plan.deferredStart,
        execute: (request) => this.#execute(plan, request),
      };
    }
    const { engine, clock } = simulatedEngine({
      concurrency: scenario.engine.concurrency,
      resources: { ...scenario.engine.resources },
      executors,
      ...(scenario.engine.siteConcurrency !== undefined && { limits: { site: { concurrency: scenario.engine.siteConcurrency } } }),
    });
    this.#engine = engine;
    this.#clock = clock;
    this.#timers = (clock as unknown as { timeouts: Map<unknown, PendingTimer> }).timeouts;
    this.#tasks = scenario.tasks.map((plan) => this.#view(plan));
    engine.events.subscribe((event) => this.#guard(() => this.#onEvent(event)));
    engine.registerTasks(scenario.tasks.map((plan) => this.#spec(plan)));
  }

  /** Runs every scheduled step to the end, then shuts down; violations are collected, not thrown. */
  async run(): Promise<void> {
    for (const id of this.#scenario.cancels) this.#scheduleStep(`cancel ${id}`, () => this.#cancel(this.#task(id)));
    const initial = this.#tasks.filter((t) => t.plan.start === 'initial');
    initial.sort((a, b) => a.plan.startRank - b.plan.startRank);
    for (const t of this.#tasks) if (t.plan.start === 'later') this.#scheduleStep(`start ${t.plan.id}`, () => this.#start(t));
    for (const t of initial) this.#guard(() => this.#start(t));
    await flush();
    this.#afterStep();
    const maxSteps = 60 * this.#tasks.length + 500;
    while (this.#s.count() > 0 && this.violations.length === 0) {
      if (++this.#step > maxSteps) {
        this.#violate('liveness', undefined, `still busy after ${maxSteps} steps`);
        break;
      }
      await this.#s.waitNext(1);
      this.#afterStep();
    }
    await flush();
    if (this.violations.length === 0) this.#checkQuiescent();
    if (this.violations.length === 0) await this.#checkShutdown();
  }

  // ---- Steps -----------------------------------------------------------

  #scheduleStep(label: string, act: () => void): void {
    void this.#s.schedule(Promise.resolve(), label).then(() => this.#guard(act));
  }

  /** Keeps one clock step scheduled while a timer is pending. */
  #ensureTick(): void {
    if (this.#tickPending || this.#timers.size === 0) return;
    const ticks = this.#scenario.ticks;
    const ms = ticks[this.#tick++ % ticks.length] as number;
    this.#tickPending = true;
    this.#scheduleStep(`clock +${ms} ms`, () => {
      this.#tickPending = false;
      this.#advance(ms);
    });
  }

  /**
   * Moves the clock `ms` forward one due time at a time, so each timer fires at
   * its own instant, as real timers do (SimulatedClock.increment would first jump
   * to the end and then fire every due timer at that later `now`).
   */
  #advance(ms: number): void {
    const target = this.#clock.now() + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      let next = Infinity;
      for (const timer of this.#timers.values()) next = Math.min(next, timer.start + timer.timeout);
      if (next > target) break;
      this.#clock.set(Math.max(next, this.#clock.now()));
    }
    this.#clock.set(target);
  }

  #start(t: TaskView): void {
    if (t.status !== TaskStatus.PENDING || t.seq !== undefined) {
      this.#expectRefused(t, 'startTask', () => this.#engine.startTask(t.plan.id));
      return;
    }
    t.seq = ++this.#seq;
    t.history.push(`startTask #${t.seq}`);
    // Started with its rule met, it is ready at once: the results cache answers now.
    if (t.plan.cacheGroup !== undefined && this.#rule(t) === 'ready') this.#ready(t);
    this.#engine.startTask(t.plan.id);
    const rule = this.#rule(t);
    if ((rule === 'open') !== ((t.status as TaskStatus) === TaskStatus.WAITING)) {
      this.#violate(
        'dependency gate',
        t,
        `after startTask it is ${t.status} with its ${t.plan.trigger} rule ${rule} (${this.#depsText(t)})`,
      );
    }
  }

  #cancel(t: TaskView): void {
    if (isTerminal(t.status)) {
      this.#expectRefused(t, 'cancelTask', () => this.#engine.cancelTask(t.plan.id, 'mid-run cancel'));
      return;
    }
    const wasTerminal = new Set(this.#tasks.filter((d) => isTerminal(d.status)));
    t.history.push('cancelTask');
    this.#cancelling = t;
    try {
      this.#engine.cancelTask(t.plan.id, 'mid-run cancel');
    } finally {
      this.#cancelling = undefined;
    }
    if (t.status !== TaskStatus.CANCELLED) this.#violate('verbs', t, `cancelTask returned with the task ${t.status}`);
    // Before it returns, every task downstream has heard: none is left live that its rule dooms, or WAITING that it lets run.
    for (const d of this.#downstream(t)) {
      if (wasTerminal.has(d) || isTerminal(d.status)) continue;
      const rule = this.#rule(d);
      if (rule === 'doomed' || (rule === 'ready' && d.status === TaskStatus.WAITING)) {
        this.#violate(
          'dependency failure',
          d,
          `${t.plan.id} was cancelled; when cancelTask returned, dependent ${d.plan.id} was ${d.status} with its ${d.plan.trigger} rule ${rule} (${this.#depsText(d)})`,
        );
      }
    }
  }

  #expectRefused(t: TaskView, verb: string, act: () => void): void {
    const before = t.status;
    try {
      act();
      this.#violate('verbs', t, `${verb} on a ${before} task did not throw`);
    } catch (error) {
      if (!(error instanceof TaskChartError) || error.code !== 'ERR_INVALID_TRANSITION') {
        this.#violate('verbs', t, `${verb} on a ${before} task threw ${String(error)}, not ERR_INVALID_TRANSITION`);
      }
    }
    if (t.status !== before || this.#engine.getTaskStatus(t.plan.id) !== before)
      this.#violate('verbs', t, `a refused ${verb} changed the status`);
  }

  // ---- Task functions --------------------------------------------------

  #spec(plan: TaskPlan): TaskSpec {
    const t = this.#task(plan.id);
    const group = plan.cacheGroup;
    return {
      id: plan.id,
      // The tasks of a cache group share their name and args (the default key hashes them, and the dependencies' results).
      name: group === undefined ? plan.id : `cached-${group}`,
      ...(group !== undefined && { cache: true, args: [group] }),
      ...(plan.heartbeat !== undefined && { heartbeatTimeout: plan.heartbeat.timeout }),
      priority: plan.priority,
      dependencies: [...plan.dependencies],
      trigger: plan.trigger,
      ...(plan.site !== undefined && { limits: { site: plan.site } }),
      resources: { ...plan.resources },
      ...(plan.executor === ASYNC_EXECUTOR ? {} : { executor: plan.executor }),
      maxRetries: plan.maxRetries,
      retryDelay: plan.retryDelay,
      timeout: plan.timeout,
      fn: (ctx: TaskContext, ..._args: unknown[]) => this.#attempt(t, ctx),
    };
  }

  /**
   * Beats (`ctx.heartbeat`) every half `heartbeatTimeout` of the engine's clock until the returned function is
   * called: the gap between beats stays under `heartbeatTimeout`, so the attempt never stalls.
   */
  #beat(ctx: TaskContext, heartbeatTimeout: number): () => void {
    const clock = this.#clock as unknown as { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void };
    const every = Math.max(1, Math.floor(heartbeatTimeout / 2));
    let beats = 0;
    let stopped = false;
    let timer: unknown;
    const arm = (): void => {
      timer = clock.setTimeout(() => {
        ctx.heartbeat({ beat: ++beats });
        if (!stopped) arm();
      }, every);
    };
    arm();
    return () => {
      stopped = true;
      clock.clearTimeout(timer);
    };
  }

  /** The task function: checks the moment it is called, then lets the scheduler decide when it settles. */
  #attempt(t: TaskView, ctx: TaskContext): Promise<unknown> {
    this.#engineMoved();
    this.#guard(() => this.#checkCall(t, ctx));
    t.calls.push({ attempt: ctx.attempt, ctx });
    const { id, behaviour, heartbeat } = t.plan;
    const attempt = ctx.attempt;
    // A function that beats does so until its attempt settles or is aborted.
    const stopBeating = heartbeat?.beats === true ? this.#beat(ctx, heartbeat.timeout) : () => {};
    if (heartbeat?.beats === true) ctx.signal.addEventListener('abort', stopBeating);
    const settle = (resolved: boolean, value: unknown): unknown => {
      stopBeating();
      t.outcomes.set(attempt, { resolved, value });
      if (resolved) return value;
      throw value;
    };
    if (behaviour.kind === 'hang') {
      return new Promise((_, reject) => {
        const signal = ctx.signal;
        signal.addEventListener('abort', () => {
          const late = this.#s.schedule(Promise.resolve(), `${id} attempt ${attempt} rejects after its abort`);
          late.then(() => settle(false, signal.reason)).catch(reject);
        });
      });
    }
    const fails =
      behaviour.kind === 'fail' || behaviour.kind === 'non-retryable' || (behaviour.kind === 'flaky' && attempt <= behaviour.failures);
    const value = fails
      ? behaviour.kind === 'non-retryable'
        ? new NonRetryableError(`${id} attempt ${attempt} refuses to retry`)
        : new Error(`${id} attempt ${attempt} failed`)
      : `${id} result ${attempt}`;
    return this.#s
      .schedule(Promise.resolve(), `${id} attempt ${attempt} ${fails ? 'throws' : 'resolves'}`)
      .then(() => settle(!fails, value));
  }

  /**
   * A custom executor's `execute`. RUNNING at dispatch: calls the task function. Deferred start: the attempt is
   * handed over (checked as a dispatch), and a worker takes it in a later scheduled step (RUNNING, then the
   * function), unless it was aborted first (timeout, cancel, shutdown), which rejects it at once.
   */
  #execute(plan: ExecutorPlan, request: AttemptRequest): Promise<unknown> {
    this.#engineMoved();
    const t = this.#task(request.taskId);
    let outcome: Promise<unknown>;
    if (!plan.deferredStart) {
      outcome = (request.fn as (ctx: TaskContext) => Promise<unknown>)(request.context);
    } else {
      this.#guard(() => this.#handedOver(t, plan));
      outcome = new Promise((resolve, reject) => {
        let taken = false;
        let aborted = false;
        request.whenAborted((reason) => {
          aborted = true;
          if (!taken) reject(reason);
        });
        this.#scheduleStep(`${t.plan.id} attempt ${request.attempt} taken by a worker`, () => {
          if (aborted) return;
          taken = true;
          request.started();
          resolve((request.fn as (ctx: TaskContext) => Promise<unknown>)(request.context));
        });
      });
    }
    // Attached before the engine's own reactions: the count drops just before the engine frees the executor slot.
    const settled = (): void => void this.#inFlight.set(plan.name, (this.#inFlight.get(plan.name) as number) - 1);
    outcome.then(settled, settled);
    return outcome;
  }

  /** A deferred executor was handed an attempt: it was dispatched, so it must have been the best ready task that fit. */
  #handedOver(t: TaskView, plan: ExecutorPlan): void {
    t.history.push(`handed to ${plan.name}`);
    this.#checkDispatch(t);
    this.#takeExecutorSlot(t);
    t.dispatched = true;
    t.dispatchedSince = this.#clock.now();
    t.attempts++;
    t.backoffEnd = undefined;
  }

  /** An attempt of a task on a custom executor starts to count against its concurrency (checked at its dispatch). */
  #takeExecutorSlot(t: TaskView): void {
    const inFlight = this.#inFlight.get(t.plan.executor);
    if (inFlight !== undefined) this.#inFlight.set(t.plan.executor, inFlight + 1);
  }

  #checkCall(t: TaskView, ctx: TaskContext): void {
    const running = [...this.#running].map((r) => r.plan.id);
    if (t.status !== TaskStatus.RUNNING || ctx.attempt !== t.attempts) {
      this.#violate('statechart', t, `function called for attempt ${ctx.attempt} while ${t.status} after ${t.attempts} RUNNING events`);
    }
    this.#checkDependenciesCompleted(t, 'its function was called');
    if (this.#holders().length > this.#scenario.engine.concurrency) {
      this.#violate('concurrency', t, `function called with ${this.#holders().length} holding slots (RUNNING: ${running.join(', ')})`);
    }
    this.#checkResourceUse(t, 'its function was called');
  }

  // ---- Events ----------------------------------------------------------

  #onEvent(event: TaskEvent): void {
    this.#engineMoved();
    if (event.type === 'status') this.#onStatus(this.#task(event.taskId), event);
    else if (event.type === 'retry') this.#onRetry(this.#task(event.taskId), event);
    else if (event.type === 'resource-error') this.#violate('outcome', this.#task(event.taskId), 'unexpected resource-error event');
  }

  #onStatus(t: TaskView, event: StatusEvent): void {
    const now = this.#clock.now();
    t.history.push(`@${now} ${event.previous}->${event.status}`);
    if (t.terminalEvents > 0)
      this.#violate('terminal once', t, `status event ${event.previous}->${event.status} after its terminal status`);
    if (event.previous !== t.status) this.#violate('statechart', t, `event says previous ${event.previous}, last status was ${t.status}`);
    const states = statusStep(t.states, event.status);
    if (states.size === 0) this.#violate('statechart', t, `${event.previous}->${event.status} from states {${[...t.states].join(', ')}}`);
    t.states = states;
    if (t.status === TaskStatus.RUNNING) this.#leaveRunning(t, event);
    const taken = t.dispatched && event.status === TaskStatus.RUNNING;
    if (event.status === TaskStatus.RUNNING && !taken) {
      if (this.#isDeferred(t)) this.#violate('statechart', t, 'RUNNING before a worker took its attempt');
      this.#checkDispatch(t);
      this.#takeExecutorSlot(t);
    }
    if (event.previous === TaskStatus.WAITING && event.status === TaskStatus.PENDING) {
      this.#checkDependenciesCompleted(t, 'it left WAITING');
      if (t.plan.cacheGroup !== undefined) this.#ready(t);
    }
    if (event.status === TaskStatus.COMPLETED) t.result = this.#engine.getTaskResult(t.plan.id);
    if (isTerminal(event.status)) this.#checkTerminal(t, event);
    if (t.dispatched && !taken) this.#leaveDispatched(t, event);
    t.status = event.status;
    if (event.status === TaskStatus.RUNNING) {
      this.#running.add(t);
      if (!taken) t.attempts++;
      t.dispatched = false;
      t.runs++;
      t.runningSince = now;
      t.backoffEnd = undefined;
    }
    if (isTerminal(event.status)) {
      t.terminalEvents++;
      t.error = event.error;
      t.lookup = undefined;
    }
  }

  // ---- The results cache -----------------------------------------------

  /** A `cache` task is ready (queued): the results cache answers with what its key holds now. */
  #ready(t: TaskView): void {
    t.cacheKey ??= `${t.plan.cacheGroup} ${JSON.stringify(t.deps.map((d) => d.result))}`;
    const latest = this.#remembered.get(t.cacheKey)?.at(-1);
    t.lookup = { mustHit: latest !== undefined, values: latest === undefined ? [] : [latest.value] };
    t.history.push(`ready, ${latest === undefined ? 'nothing' : show(latest.value)} cached`);
  }

  /** What the results cache must have answered at the task's latest time ready. */
  #answer(t: TaskView): { readonly mustHit: boolean; readonly values: readonly unknown[] } | undefined {
    const lookup = t.lookup;
    if (lookup === undefined || !('at' in lookup)) return lookup;
    const remembered = this.#remembered.get(t.cacheKey as string) ?? [];
    const before = remembered.filter((entry) => entry.time < lookup.at).at(-1);
    const then = remembered.filter((entry) => entry.time === lookup.at).map((entry) => entry.value);
    return { mustHit: before !== undefined, values: before === undefined ? then : [before.value, ...then] };
  }

  /** PENDING->COMPLETED: a `cache` task whose key held a result when it was ready, completed with it, no attempt counted. */
  #checkCacheHit(t: TaskView): void {
    const answer = this.#answer(t);
    const result = this.#engine.getTaskResult(t.plan.id);
    const info = this.#engine.getTask(t.plan.id);
    if (t.plan.cacheGroup === undefined || answer === undefined || !answer.values.includes(result)) {
      this.#violate(
        'cache',
        t,
        `PENDING->COMPLETED with ${show(result)}; the cache could give ${answer === undefined ? 'nothing' : answer.values.map(show).join(' or ') || 'nothing'}`,
      );
    }
    if (info.attempts !== t.attempts || !info.cached) {
      this.#violate('cache', t, `completed from the cache with attempts ${info.attempts} (expected ${t.attempts}), cached ${info.cached}`);
    }
    this.#checkDependenciesCompleted(t, 'it completed from the cache');
    t.cachedHit = true;
    this.#cacheHits++;
  }

  /** A `cache` task completed by its own attempt: its key holds its result from now on. */
  #remember(t: TaskView, value: unknown): void {
    if (t.cacheKey === undefined) return this.#violate('cache', t, 'completed with no time ready before');
    const remembered = this.#remembered.get(t.cacheKey) ?? [];
    remembered.push({ time: this.#clock.now(), value });
    this.#remembered.set(t.cacheKey, remembered);
  }

  /** Leaving RUNNING: by the attempt's own outcome (before its timeout), or by its timeout, or by a cancel. */
  #leaveRunning(t: TaskView, event: StatusEvent): void {
    this.#running.delete(t);
    const outcome = t.outcomes.get(t.attempts);
    const call = t.calls[t.calls.length - 1];
    if (call !== undefined) call.ended = outcome === undefined ? 'aborted' : 'outcome';
    const elapsed = this.#clock.now() - t.runningSince;
    const { timeout, heartbeat } = t.plan;
    const timedOut = timeout !== undefined && elapsed >= timeout;
    const stalled = heartbeat !== undefined && !heartbeat.beats && elapsed >= heartbeat.timeout;
    if (outcome !== undefined && (timedOut || stalled)) {
      this.#violate(
        'timers',
        t,
        `attempt ${t.attempts} ran ${elapsed} ms, past its ${timedOut ? `${timeout} ms timeout` : `${heartbeat?.timeout} ms heartbeatTimeout with no beat`}, and its outcome still counted`,
      );
    }
    if (event.status === TaskStatus.CANCELLED) return;
    if (outcome === undefined && !timedOut && !stalled) {
      this.#violate('outcome', t, `left RUNNING for ${event.status} with no outcome, no timeout and no stall (after ${elapsed} ms)`);
      return;
    }
    if (outcome === undefined) {
      // The sooner of its timeout and its stall ended it; at the same instant, either.
      const endings = new Set<'timeout' | 'stall'>();
      if (timedOut && (!stalled || (timeout as number) <= (heartbeat?.timeout as number))) endings.add('timeout');
      if (stalled && (!timedOut || (heartbeat?.timeout as number) <= (timeout as number))) endings.add('stall');
      t.ending = endings;
    }
    if (event.status === TaskStatus.PENDING) {
      t.awaitingRetryEvent = true;
      const retryable = outcome === undefined || (!outcome.resolved && !(outcome.value instanceof NonRetryableError));
      if (!retryable || t.attempts > t.plan.maxRetries) {
        this.#violate('retry', t, `retried after attempt ${t.attempts} of maxRetries ${t.plan.maxRetries} (outcome ${show(outcome)})`);
      }
    }
  }

  /**
   * A deferred attempt ends before a worker took it (PENDING throughout: a status event only when it ends the
   * task): by a cancel, or by its timeout, which bounds the wait for a worker.
   */
  #leaveDispatched(t: TaskView, event: StatusEvent | RetryEvent): void {
    t.dispatched = false;
    if (event.type === 'status' && event.status === TaskStatus.CANCELLED) return;
    const waited = this.#clock.now() - t.dispatchedSince;
    if (t.plan.timeout === undefined || waited < t.plan.timeout) {
      this.#violate(
        'timers',
        t,
        `attempt ${t.attempts} left the executor's queue after ${waited} ms, before its timeout ${t.plan.timeout ?? 'none'}`,
      );
    }
  }

  #onRetry(t: TaskView, event: RetryEvent): void {
    const expectedDelay = t.plan.retryDelay * 2 ** (t.attempts - 1);
    t.history.push(`@${event.timestamp} retry ${event.attempt} in ${event.delay} ms`);
    if (t.dispatched) {
      this.#leaveDispatched(t, event);
      if (t.attempts > t.plan.maxRetries)
        this.#violate(
          'retry',
          t,
          `retried after attempt ${t.attempts} of maxRetries ${t.plan.maxRetries} (timed out waiting for a worker)`,
        );
    } else if (!t.awaitingRetryEvent) this.#violate('retry', t, 'retry event without RUNNING->PENDING before it');
    if (event.attempt !== t.attempts + 1 || event.delay !== expectedDelay || event.timestamp !== this.#clock.now()) {
      this.#violate(
        'retry',
        t,
        `retry event (attempt ${event.attempt}, delay ${event.delay}); expected attempt ${t.attempts + 1}, delay ${expectedDelay}`,
      );
    }
    if (!t.states.has('retrying')) this.#violate('statechart', t, 'retry event while not possibly retrying');
    if (t.ending !== undefined) this.#checkEnding(t, event.error, 'retried');
    t.states = silentClosure(['retrying']);
    t.awaitingRetryEvent = false;
    t.backoffEnd = event.timestamp + event.delay;
    // Ready again when the backoff ends: the results cache answers then.
    if (t.plan.cacheGroup !== undefined) t.lookup = { at: t.backoffEnd };
  }

  /** An attempt ended by no outcome of its own: by its timeout (ERR_TASK_TIMEOUT) or its stall (ERR_TASK_STALLED), as {@link TaskView.ending} allows. */
  #checkEnding(t: TaskView, error: unknown, how: string): void {
    const endings = t.ending ?? new Set();
    t.ending = undefined;
    const which = error instanceof TaskStalledError ? 'stall' : error instanceof TaskTimeoutError ? 'timeout' : undefined;
    const attempt = (error as { attempt?: unknown } | undefined)?.attempt;
    const heartbeatTimeout = (error as { heartbeatTimeout?: unknown } | undefined)?.heartbeatTimeout;
    if (
      which === undefined ||
      !endings.has(which) ||
      attempt !== t.attempts ||
      (which === 'stall' && heartbeatTimeout !== t.plan.heartbeat?.timeout)
    ) {
      this.#violate('timers', t, `attempt ${t.attempts} ${how} with ${show(error)}; ended by its ${[...endings].join(' or ')}`);
    }
    if (which === 'stall') this.#stalls++;
  }

  /**
   * A task is dispatched (RUNNING, or handed to a deferred executor): it must be ready, fit, and be the best ready
   * task that fits.
   */
  #checkDispatch(t: TaskView): void {
    this.#checkDependenciesCompleted(t, 'it started');
    const answer = this.#answer(t);
    t.lookup = undefined;
    if (answer?.mustHit === true) {
      this.#violate('cache', t, `an attempt ran although its key held ${answer.values.map(show).join(' or ')} when it was ready`);
    }
    if (!this.#readyByModel(t)) {
      const why =
        t.seq === undefined ? 'never started' : t.backoffEnd !== undefined ? `in backoff until ${t.backoffEnd}` : `it was ${t.status}`;
      this.#violate('priority', t, `started while not ready (${why})`);
    }
    const holders = this.#holders(t);
    if (holders.length + 1 > this.#scenario.engine.concurrency) {
      this.#violate(
        'concurrency',
        t,
        `dispatched with ${holders.map((r) => r.plan.id).join(', ')} already holding slots (concurrency ${this.#scenario.engine.concurrency})`,
      );
    }
    const use = this.#resourceUse(t);
    if (!this.#unitsFree(t, use))
      this.#violate('resources', t, `started needing ${JSON.stringify(t.plan.resources)} with ${JSON.stringify(use)} in use`);
    if (!this.#keyHasRoom(t, t)) {
      this.#violate(
        'key concurrency',
        t,
        `dispatched under site ${t.plan.site} with ${this.#holders(t)
          .filter((r) => r.plan.site === t.plan.site)
          .map((r) => r.plan.id)
          .join(', ')} already holding it (its concurrency ${this.#scenario.engine.siteConcurrency})`,
      );
    }
    if (!this.#executorHasRoom(t.plan.executor, t)) {
      this.#violate(
        'executor',
        t,
        `dispatched to ${t.plan.executor} holding ${this.#inFlight.get(t.plan.executor)} attempts (its concurrency ${this.#executors.get(t.plan.executor)?.concurrency})`,
      );
    }
    for (const r of this.#tasks) {
      // A backoff ending exactly now may not have fired yet: timers due at one instant fire one by one, each
      // followed by its effects (as real timers are, with microtasks between them), so such a tie can go either way.
      const tie = r.backoffEnd !== undefined && r.backoffEnd === this.#clock.now();
      if (r !== t && !tie && this.#isReady(r) && this.#fits(r, use, t) && runsBefore(r, t)) {
        this.#violate(
          'priority',
          t,
          `started (priority ${t.plan.priority}, start #${t.seq}) while ${r.plan.id} (priority ${r.plan.priority}, start #${r.seq}) was ready and fit`,
        );
        break;
      }
    }
  }

  /** The terminal status matches what happened: an outcome, a timeout, a cancel or a dependency. */
  #checkTerminal(t: TaskView, event: StatusEvent): void {
    const error = event.error;
    const outcome = t.outcomes.get(t.attempts);
    if (event.status === TaskStatus.COMPLETED) {
      if (event.previous === TaskStatus.PENDING) this.#checkCacheHit(t);
      else if (
        event.previous !== TaskStatus.RUNNING ||
        outcome?.resolved !== true ||
        this.#engine.getTaskResult(t.plan.id) !== outcome.value
      ) {
        this.#violate('outcome', t, `COMPLETED from ${event.previous} with attempt ${t.attempts} outcome ${show(outcome)}`);
      } else if (t.plan.cacheGroup !== undefined) this.#remember(t, outcome.value);
    } else if (event.status === TaskStatus.CANCELLED) {
      const byDependency = t.deps.find((d) => d.status === TaskStatus.CANCELLED && d.error === (error as Error | undefined)?.cause);
      if (error instanceof TriggerRuleError) {
        if (this.#rule(t) !== 'doomed' || t.attempts > 0) {
          this.#violate('trigger rule', t, `skipped with its ${t.plan.trigger} rule ${this.#rule(t)} (${this.#depsText(t)})`);
        }
      } else if (!(error instanceof TaskCancelledError)) this.#violate('outcome', t, `CANCELLED with ${show(error)}`);
      else if (
        this.#cancelling !== t &&
        !this.#shuttingDown &&
        (byDependency === undefined || t.attempts > 0 || t.plan.trigger !== 'all_success')
      ) {
        this.#violate(
          'dependency failure',
          t,
          `CANCELLED (${t.plan.trigger}) with no cancel of it and no cancelled dependency as the cause`,
        );
      }
    } else if (t.dispatched) {
      if (!(error instanceof TaskTimeoutError) || error.attempt !== t.attempts || t.attempts !== t.plan.maxRetries + 1) {
        this.#violate('outcome', t, `FAILED waiting for a worker after attempt ${t.attempts}/${t.plan.maxRetries + 1} with ${show(error)}`);
      }
    } else if (event.previous !== TaskStatus.RUNNING) {
      const dependency = error instanceof DependencyFailedError ? this.#byId.get(error.dependencyId) : undefined;
      if (
        dependency === undefined ||
        !t.deps.includes(dependency) ||
        dependency.status !== TaskStatus.FAILED ||
        (error as Error).cause !== dependency.error ||
        t.attempts > 0 ||
        !FAILS_ON_FAILURE.has(t.plan.trigger)
      ) {
        this.#violate('dependency failure', t, `FAILED from ${event.previous} with ${show(error)}`);
      }
    } else if (outcome !== undefined) {
      const fatal = outcome.value instanceof NonRetryableError || t.attempts === t.plan.maxRetries + 1;
      if (outcome.resolved || error !== outcome.value || !fatal) {
        this.#violate(
          'outcome',
          t,
          `FAILED after attempt ${t.attempts}/${t.plan.maxRetries + 1} (outcome ${show(outcome)}) with ${show(error)}`,
        );
      }
    } else {
      if (t.attempts !== t.plan.maxRetries + 1) {
        this.#violate(
          'outcome',
          t,
          `FAILED by its timeout or stall after attempt ${t.attempts}/${t.plan.maxRetries + 1} with ${show(error)}`,
        );
      }
      this.#checkEnding(t, error, 'FAILED');
    }
  }

  // ---- After each step -------------------------------------------------

  #afterStep(): void {
    this.#guard(() => this.#checkStep());
    this.#ensureTick();
  }

  #checkStep(): void {
    this.#engineMoved();
    const now = this.#clock.now();
    const use = this.#resourceUse();
    const holding = this.#holders().length;
    const counts: Record<TaskStatus, number> = { PENDING: 0, WAITING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 };
    let queued = 0;
    let retrying = 0;
    let dispatched = 0;
    for (const t of this.#tasks) {
      counts[t.status]++;
      if (t.dispatched) dispatched++;
      else if (this.#isReady(t)) queued++;
      else if (t.seq !== undefined && t.status === TaskStatus.PENDING) retrying++;
      const actual = this.#engine.getTaskStatus(t.plan.id);
      if (actual !== t.status) this.#violate('stats', t, `getTaskStatus is ${actual}, the status events say ${t.status}`);
      if (t.awaitingRetryEvent) this.#violate('retry', t, 'RUNNING->PENDING with no retry event');
      const rule = this.#rule(t);
      if (!isTerminal(t.status) && rule === 'doomed') {
        this.#violate(
          'dependency failure',
          t,
          `still ${t.status} when its ${t.plan.trigger} rule can no longer be met (${this.#depsText(t)})`,
        );
      }
      if (t.status === TaskStatus.WAITING && rule === 'ready') {
        this.#violate('liveness', t, `still WAITING although its ${t.plan.trigger} rule is met (${this.#depsText(t)})`);
      }
      if (t.status === TaskStatus.RUNNING && t.plan.timeout !== undefined && now - t.runningSince >= t.plan.timeout) {
        this.#violate('timers', t, `RUNNING for ${now - t.runningSince} ms past its ${t.plan.timeout} ms timeout`);
      }
      const heartbeat = t.plan.heartbeat;
      if (t.status === TaskStatus.RUNNING && heartbeat?.beats === false && now - t.runningSince >= heartbeat.timeout) {
        this.#violate(
          'timers',
          t,
          `RUNNING for ${now - t.runningSince} ms with no beat, past its ${heartbeat.timeout} ms heartbeatTimeout`,
        );
      }
      if (t.dispatched && t.plan.timeout !== undefined && now - t.dispatchedSince >= t.plan.timeout) {
        this.#violate('timers', t, `waiting for a worker ${now - t.dispatchedSince} ms, past its ${t.plan.timeout} ms timeout`);
      }
      if (holding < this.#scenario.engine.concurrency && this.#isReady(t) && this.#fits(t, use)) {
        this.#violate(
          'work conservation',
          t,
          `ready and fits, yet not started with ${holding} of ${this.#scenario.engine.concurrency} slots taken (engine: ${JSON.stringify(this.#engine.getTask(t.plan.id).waitingOn)} ${this.#engine.getTask(t.plan.id).state}; site ${t.plan.site}: ${this.#tasks
            .filter((r) => r.plan.site === t.plan.site)
            .map((r) => `${r.plan.id} ${r.status}`)
            .join(', ')})`,
        );
      }
    }
    const stats = this.#engine.getStats();
    const expected = {
      counts,
      running: counts.RUNNING,
      queued,
      retrying,
      dispatched,
      cacheHits: this.#cacheHits,
      stalledAttempts: this.#stalls,
    };
    const actual = {
      counts: stats.counts,
      running: stats.running,
      queued: stats.queued,
      retrying: stats.retrying,
      dispatched: stats.dispatched,
      cacheHits: stats.cacheHits,
      stalledAttempts: stats.stalledAttempts,
    };
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      this.#violate('stats', undefined, `getStats ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }
    this.#watchIdle(queued + retrying + dispatched + counts.RUNNING === 0);
  }

  /** onIdle resolves exactly when nothing is RUNNING, queued, waiting for a worker or in backoff. */
  #watchIdle(idle: boolean): void {
    if (this.#idle !== undefined && !this.#idle.resolved && idle) {
      this.#violate('idle', undefined, 'onIdle() still pending although nothing is RUNNING, queued or in backoff');
    }
    if (this.#idle !== undefined && !this.#idle.resolved) return;
    const watch = { resolved: false };
    this.#idle = watch;
    void this.#engine.onIdle().then(() => {
      watch.resolved = true;
      if (this.#running.size > 0 || this.#tasks.some((t) => t.seq !== undefined && t.status === TaskStatus.PENDING)) {
        this.#violate('idle', undefined, 'onIdle() resolved while a task was RUNNING, queued or in backoff');
      }
    });
  }

  // ---- At the end ------------------------------------------------------

  /** No step left: every started task is terminal, unless it waits (transitively) on a never-started one. */
  #checkQuiescent(): void {
    const blocked = new Set<TaskView>();
    for (const t of this.#tasks) {
      if (isTerminal(t.status)) {
        if (t.terminalEvents !== 1) this.#violate('terminal once', t, `${t.terminalEvents} terminal status events`);
      } else if (
        t.seq === undefined ? t.status === TaskStatus.PENDING : t.status === TaskStatus.WAITING && t.deps.some((d) => blocked.has(d))
      ) {
        blocked.add(t);
      } else {
        this.#violate('liveness', t, `${t.status} when nothing is left to happen`);
      }
      if (this.#engine.getTask(t.plan.id).cached !== t.cachedHit) {
        this.#violate('cache', t, `getTask().cached ${this.#engine.getTask(t.plan.id).cached}, completed from the cache: ${t.cachedHit}`);
      }
      if (t.calls.length !== t.runs || this.#engine.getTask(t.plan.id).attempts !== t.attempts) {
        this.#violate(
          'stats',
          t,
          `${t.calls.length} calls, ${t.runs} RUNNING events, ${t.attempts} dispatches, getTask().attempts ${this.#engine.getTask(t.plan.id).attempts}`,
        );
      }
    }
    if (this.#idle?.resolved !== true) this.#violate('idle', undefined, 'onIdle() did not resolve at the end');
    if (this.#timers.size > 0) this.#violate('timers', undefined, `${this.#timers.size} timers left on the clock`);
  }

  /** shutdown() cancels what is left, resolves, and leaves no timer; every task ends exactly once. */
  async #checkShutdown(): Promise<void> {
    this.#shuttingDown = true;
    let done = false;
    void this.#engine.shutdown().then(
      () => (done = true),
      (error: unknown) => this.#violate('verbs', undefined, `shutdown() rejected with ${show(error)}`),
    );
    await flush();
    if (!done) this.#violate('verbs', undefined, 'shutdown() did not resolve');
    while (this.#s.count() > 0) await this.#s.waitNext(1);
    for (const t of this.#tasks) {
      if (t.terminalEvents !== 1) this.#violate('terminal once', t, `${t.terminalEvents} terminal status events after shutdown`);
      for (const call of t.calls) {
        if (call.ctx.signal.aborted !== (call.ended !== 'outcome')) {
          this.#violate(
            'signal',
            t,
            `attempt ${call.attempt} ended by ${call.ended ?? 'nothing'}, signal.aborted ${call.ctx.signal.aborted}`,
          );
        }
      }
    }
    if (this.#timers.size > 0) this.#violate('timers', undefined, `${this.#timers.size} timers left after shutdown`);
  }

  // ---- Helpers ---------------------------------------------------------

  #view(plan: TaskPlan): TaskView {
    const t: TaskView = {
      plan,
      deps: plan.dependencies.map((id) => this.#task(id)),
      dependents: [],
      status: TaskStatus.PENDING,
      states: silentClosure([INITIAL_STATE]),
      seq: undefined,
      attempts: 0,
      runs: 0,
      runningSince: 0,
      dispatched: false,
      dispatchedSince: 0,
      awaitingRetryEvent: false,
      backoffEnd: undefined,
      terminalEvents: 0,
      error: undefined,
      result: undefined,
      cacheKey: undefined,
      lookup: undefined,
      cachedHit: false,
      ending: undefined,
      calls: [],
      outcomes: new Map(),
      history: [],
    };
    for (const d of t.deps) d.dependents.push(t);
    this.#byId.set(plan.id, t);
    return t;
  }

  #task(id: string): TaskView {
    const t = this.#byId.get(id);
    if (t === undefined) throw new Error(`no task ${id} in the scenario`);
    return t;
  }

  /**
   * Ready to run, from the model alone: started, not RUNNING or ended, every dependency COMPLETED, any backoff
   * over. Not from the status the engine reports (PENDING rather than WAITING): a dependent the engine wakes too
   * late (after a lower-priority task took the slot its dependency freed) must count as ready at that dispatch.
   */
  #readyByModel(t: TaskView): boolean {
    if (t.seq === undefined || t.status === TaskStatus.RUNNING || isTerminal(t.status) || t.awaitingRetryEvent) return false;
    if (this.#rule(t) !== 'ready') return false;
    return t.backoffEnd === undefined || this.#clock.now() >= t.backoffEnd;
  }

  /** Ready ({@link #readyByModel}) and not dispatched already. */
  #isReady(t: TaskView): boolean {
    return this.#readyByModel(t) && !t.dispatched && !this.#unseenDispatches().has(t);
  }

  #isDeferred(t: TaskView): boolean {
    return this.#executors.get(t.plan.executor)?.deferredStart === true;
  }

  /**
   * Dispatched to a deferred executor by the pump going on now, and not yet handed to it: the engine hands
   * attempts over only once the pump is done, and nothing outside shows such a dispatch before, so this one fact
   * is read from the engine. (The handover itself is checked as the dispatch it was.)
   */
  #unseenDispatches(): ReadonlySet<TaskView> {
    this.#unseen ??= new Set(
      this.#tasks.filter(
        (t) => !t.dispatched && this.#isDeferred(t) && this.#readyByModel(t) && this.#engine.getTask(t.plan.id).state === 'dispatched',
      ),
    );
    return this.#unseen;
  }

  /** The engine may have moved (an event, a call into the test's code, a step): dispatches are read again when needed. */
  #engineMoved(): void {
    this.#unseen = undefined;
  }

  /** The tasks holding a concurrency slot and their resource units (RUNNING, or with a deferred executor), `except` one. */
  #holders(except?: TaskView): TaskView[] {
    const unseen = this.#unseenDispatches();
    return this.#tasks.filter((r) => r !== except && (this.#running.has(r) || r.dispatched || unseen.has(r)));
  }

  /** Units in use, from the specs of the tasks holding slots (`except` one). */
  #resourceUse(except?: TaskView): Record<string, number> {
    const use: Record<string, number> = {};
    for (const r of this.#holders(except))
      for (const [pool, units] of Object.entries(r.plan.resources)) use[pool] = (use[pool] ?? 0) + units;
    return use;
  }

  /** Its resource units are free (in `use`) and its executor has room (`except` one task's unseen dispatch). */
  #fits(t: TaskView, use: Record<string, number>, except?: TaskView): boolean {
    return this.#unitsFree(t, use) && this.#executorHasRoom(t.plan.executor, except) && this.#keyHasRoom(t, except);
  }

  /** Fewer tasks holding a slot under its `site` key than the limiter's concurrency (`except` one); true without a key. */
  #keyHasRoom(t: TaskView, except?: TaskView): boolean {
    const limit = this.#scenario.engine.siteConcurrency;
    if (t.plan.site === undefined || limit === undefined) return true;
    return this.#holders(except).filter((r) => r !== t && r.plan.site === t.plan.site).length < limit;
  }

  #unitsFree(t: TaskView, use: Record<string, number>): boolean {
    const capacity = this.#scenario.engine.resources;
    return Object.entries(t.plan.resources).every(([pool, units]) => (use[pool] ?? 0) + units <= (capacity[pool] ?? 0));
  }

  /** Fewer attempts out than its concurrency, counting those dispatched in the pump going on now (`except` one). */
  #executorHasRoom(name: string, except?: TaskView): boolean {
    const plan = this.#executors.get(name);
    if (plan?.concurrency === undefined) return true;
    let unseen = 0;
    for (const r of this.#unseenDispatches()) if (r !== except && r.plan.executor === name) unseen++;
    return (this.#inFlight.get(name) as number) + unseen < plan.concurrency;
  }

  #checkResourceUse(t: TaskView, when: string): void {
    const use = this.#resourceUse();
    for (const [pool, units] of Object.entries(use)) {
      if (units > (this.#scenario.engine.resources[pool] ?? 0))
        this.#violate('resources', t, `${pool}: ${units} units in use when ${when}`);
    }
  }

  /** Its trigger rule is met (rule-model.ts: by default, every dependency COMPLETED). */
  #checkDependenciesCompleted(t: TaskView, when: string): void {
    const rule = this.#rule(t);
    if (rule !== 'ready') this.#violate('dependency gate', t, `${when} with its ${t.plan.trigger} rule ${rule} (${this.#depsText(t)})`);
  }

  /** What the task's trigger rule says of its dependencies as the status events left them. */
  #rule(t: TaskView): RuleState {
    return ruleState(
      t.plan.trigger,
      t.deps.map((d) => d.status),
    );
  }

  #depsText(t: TaskView): string {
    return t.deps.map((d) => `${d.plan.id} ${d.status}`).join(', ') || 'no dependencies';
  }

  /** Every task that depends on `t`, directly or not. */
  #downstream(t: TaskView): Set<TaskView> {
    const seen = new Set<TaskView>();
    const stack = [...t.dependents];
    for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
      if (seen.has(d)) continue;
      seen.add(d);
      stack.push(...d.dependents);
    }
    return seen;
  }

  #violate(invariant: Invariant, t: TaskView | undefined, message: string): void {
    const where = t === undefined ? '' : `${t.plan.id}: `;
    const history = t === undefined ? '' : ` [${t.plan.id}: ${t.history.join('; ')}]`;
    this.violations.push(`[${invariant}] ${where}${message} (clock ${this.#clock.now()} ms, step ${this.#step})${history}`);
  }

  /** Runs `act`, turning an unexpected throw into a violation (an event subscriber must not throw). */
  #guard(act: () => void): void {
    try {
      act();
    } catch (error) {
      this.violations.push(`[verbs] unexpected throw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
}

function show(value: unknown): string {
  if (value instanceof TaskChartError) return `${value.code} (${value.message})`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return fc.stringify(value);
}

// ---- Properties --------------------------------------------------------------

describe('the supervisor under random interleavings', () => {
  it('reads the allowed public status steps off the task statechart', () => {
    expect(publicSteps()).toEqual(
      [
        'PENDING->WAITING',
        'PENDING->RUNNING',
        'PENDING->COMPLETED',
        'PENDING->FAILED',
        'PENDING->CANCELLED',
        'WAITING->PENDING',
        'WAITING->FAILED',
        'WAITING->CANCELLED',
        'RUNNING->PENDING',
        'RUNNING->COMPLETED',
        'RUNNING->FAILED',
        'RUNNING->CANCELLED',
      ].sort(),
    );
    // PENDING->COMPLETED: only from the queue, by a cache hit (checked against the model in the property below).
    expect([...statusStep(silentClosure([INITIAL_STATE]), TaskStatus.COMPLETED)]).toEqual(['completed']);
    expect([...(SUCCESSORS.get('queued') ?? [])].filter((state) => statusOf(state) === TaskStatus.COMPLETED)).toEqual(['completed']);
  });

  test.prop(
    [
      sizedScenarioArb,
      fc.scheduler({
        act: async (f) => {
          await f();
          await flush();
        },
      }),
    ],
    { numRuns, ...replay },
  )(
    'keeps concurrency, resources, dependencies, priority order and the statechart, and ends every started task once',
    async (scenario, s) => {
      const run = new SupervisorRun(scenario, s);
      await run.run();
      expect(run.violations, 'invariant violations (first ones)').toEqual([]);
    },
    60_000 + numRuns * 200,
  );
});
