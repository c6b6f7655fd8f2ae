/**
 * The supervisor: owns every task's record and its run of the task statechart (task-runtime.ts: an XState
 * actor or a compiled run, kept on the record), and the ready queue. It binds the pure task machine to its
 * effects once, with `taskMachine.provide`, and keeps each concern in its own part:
 * - capacity (concurrency slots, resource units, executor slots): CapacityLedger (capacity.ts);
 * - run-to-completion (steps, the effects queued during them, the timer clock): EffectQueue (effect-queue.ts);
 * - what dependencies mean for a task: DependencyTracker (dependency-tracker.ts);
 * - counts by state: StatsCollector's enter/leave; durability: Commits.
 * Every event goes through `send`, a step; the machine's `entered` action is where a task's record follows
 * its state, takes and releases capacity, and queues effects.
 * Invariants:
 * - a task holds a slot and its resource units exactly while it is in state `running` or `dispatched`;
 * - `record.actor` is present exactly while the task is not terminal (a task restored never-started
 *   is `dormant` instead, until something happens to it).
 */
import { AsyncResource } from 'node:async_hooks';
import { taskLabel } from '../errors.js';
import type { Executor } from '../executors/executor.js';
import {
  STATUS_OF_STATE,
  taskMachine,
  type TaskMachineContext,
  type TaskMachineEvent,
  type TaskState,
  type Upstream,
} from '../machines/task.machine.js';
import type { EventStream } from '../monitor/event-stream.js';
import type { StatsCollector } from '../monitor/stats.js';
import type { ResolvedEngineOptions } from '../options.js';
import { ReadyQueue } from '../scheduling/ready-queue.js';
import { LimitGate } from './limit-gate.js';
import { isTerminal, TaskStatus } from '../status.js';
import { releaseSpec, type ResolvedTaskSpec, type TaskFunction } from '../task-spec.js';
import { AttemptRunner } from './attempt-runner.js';
import { Disposals } from './disposals.js';
import { CapacityLedger } from './capacity.js';
import { DependencyTracker } from './dependency-tracker.js';
import { EffectQueue, type PendingAttempt } from './effect-queue.js';
import { Retention } from './retention.js';
import { TaskRecord, type Disposer, type WaitingOn } from './task-record.js';
import type { Durability } from '../store/durability.js';
import type { TaskStateRow } from '../store/task-store.js';
import { Commits } from './commits.js';
import { RecordEvents } from './record-events.js';
import { StallReporter } from './stalled.js';
import { createTaskRuntime, type RuntimeKind, type TaskRun, type TaskRuntime } from '../runtime/task-runtime.js';
import { fillRecord, restoreEventOf, type StoredTask } from './restore.js';
import { LongWork } from './long-work.js';
import type { Instrumentation } from '../instrumentation.js';

const START: TaskMachineEvent = { type: 'START' };
const DISPATCH: TaskMachineEvent = { type: 'DISPATCH', deferred: false };
const DISPATCH_DEFERRED: TaskMachineEvent = { type: 'DISPATCH', deferred: true };

export class Supervisor {
  readonly records = new Map<string, TaskRecord>();
  readonly dependencies = new DependencyTracker(this.records);
  readonly capacity: CapacityLedger;
  readonly handlers = new Map<string, TaskFunction>();
  readonly #options: ResolvedEngineOptions;
  readonly #events: RecordEvents;
  readonly #stats: StatsCollector;
  readonly #effects: EffectQueue;
  readonly #disposals: Disposals;
  readonly #runner: AttemptRunner;
  readonly #ready = new ReadyQueue<TaskRecord>((record) => record.state === 'queued');
  /** Runs each task's statechart: XState actors or the compiled table (task-runtime.ts); nothing else here knows which. */
  readonly #runtime: TaskRuntime;
  readonly #retention: Retention<TaskRecord> | undefined;
  #seq = 0;
  #idleWaiters: Array<() => void> = [];
  /** The `stalled` events (stalled.ts). */
  readonly #stalls: StallReporter;
  /** The durable store's group commit; undefined for an in-memory engine. */
  readonly #commits: Commits | undefined;
  /** Why the engine stopped on its own (the store failed); nothing runs or changes afterwards. */
  #halted: Error | undefined;
  /** Called once when the store fails: the engine stops accepting work. */
  readonly #onHalt: (error: Error) => void;
  /** `cancelAll` is under way: a dependency cancelled now cancels its dependents whatever their trigger rule. */
  #cancellingAll = false;
  /** Per-key limits (the `limits` option); undefined without limiters, so that unlimited engines pay nothing. */
  readonly #limits: LimitGate | undefined;
  /** Heartbeats, the results cache and deadlines (long-work.ts). */
  readonly #long: LongWork;
  /** taskchart/otel, when the engine is instrumented (src/instrumentation.ts); undefined otherwise, and then free. */
  #instrumentation: Instrumentation | undefined;

  constructor(
    options: ResolvedEngineOptions,
    events: EventStream,
    stats: StatsCollector,
    durability?: { readonly durability: Durability; readonly onHalt: (error: Error) => void },
  ) {
    this.#options = options;
    this.#stalls = new StallReporter({
      records: this.records,
      stream: events,
      now: options.now,
      waiting: () => stats.counts.WAITING,
      isIdle: () => this.isIdle,
      halted: () => this.#halted !== undefined,
    });
    this.#onHalt = durability?.onHalt ?? (() => {});
    this.capacity = new CapacityLedger(options.concurrency, options.resources);
    this.#effects = new EffectQueue({
      send: (record, event) => this.send(record, event),
      // An attempt runs only once a commit has written it (its RUNNING row and attempt count), so a task that
      // kills the process is seen as interrupted, and never runs uncounted.
      mayRun: (attempt) => !attempt.record.durable || attempt.commitCount < (this.#commits as Commits).count,
      run: (attempt) => {
        const { record } = attempt;
        // In the caller's async context: its AsyncLocalStorage stores are what the task function sees.
        if (record.caller === undefined) this.#runner.execute(record, attempt.attempt, attempt.resumed);
        else record.caller.runInAsyncScope(this.#runner.execute, this.#runner, record, attempt.attempt, attempt.resumed);
      },
      pump: () => this.#pump(),
      drained: () => this.#drained(),
      halted: () => this.#halted !== undefined,
    });
    this.#commits =
      durability &&
      new Commits(durability.durability, {
        halted: () => this.#halted !== undefined,
        halt: (error) => this.halt(error),
        drain: () => this.#effects.drain(),
        now: options.now,
      });
    this.#events = new RecordEvents(events, options.now, this.#commits?.gate);
    this.#disposals = new Disposals((taskId, name, error) => this.#events.resourceError(taskId, name, error));
    this.#stats = stats;
    this.#runner = new AttemptRunner(
      {
        records: this.records,
        handlers: this.handlers,
        send: (record, event) => this.send(record, event),
        slotFreed: (now) => {
          this.#effects.requestPump();
          if (now) this.#effects.drain();
        },
        addDisposer: (record, dispose) => this.addDisposer(record, dispose),
        runOrphanDisposer: (taskId, name, dispose) => this.#disposals.runOrphan(taskId, name, dispose),
        dependenciesOf: (record) => this.dependencies.outcomesOf(record),
        started: (record, attempt) => {
          if (record.state === 'dispatched') this.send(record, { type: 'STARTED', attempt });
        },
        unavailable: (record, attempt, error) => this.#unavailable(record, attempt, error),
        instrumentation: () => this.#instrumentation,
      },
      this.capacity,
    );
    const machine = taskMachine.provide({
      actions: {
        entered: ({ context }, { state }) => this.#entered(context, state),
        abortAttempt: ({ context, event }) => this.#abortAttempt(context, event),
        reportProgress: ({ context, event }) => {
          if (event.type === 'PROGRESS') this.#reportProgress(context.id, event.progress, event.message);
        },
        pauseLimits: ({ context, event }) => {
          const record = this.records.get(context.id);
          if (event.type === 'ATTEMPT_FAILED' && record !== undefined) this.#limits?.pause(record, event.error);
        },
        recordHeartbeat: ({ context, event }) => {
          const record = this.records.get(context.id);
          if (event.type === 'HEARTBEAT' && record !== undefined) this.#long.heartbeat(record, event.details);
        },
      },
    });
    const clock = this.#effects.wrapClock(
      options.clock ?? { setTimeout, clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout) },
    );
    this.#long = new LongWork(
      {
        clock,
        now: options.now,
        stats,
        events: this.#events,
        isLive: (record) => this.records.get(record.id) === record,
        halted: () => this.#halted !== undefined,
        send: (record, event) => this.send(record, event),
        sendAfterStep: (record, event) => this.#effects.propagate(record, event),
        changed: (record) => this.#commits?.progressed(record),
        outcomes: (record) => this.dependencies.outcomesOf(record),
        halt: (error) => this.halt(error),
      },
      options.cacheSize,
      durability?.durability,
    );
    this.#limits =
      options.limiters.size === 0
        ? undefined
        : new LimitGate(options.limiters, {
            clock,
            now: options.now,
            wake: (record) => {
              if (record.state === 'queued') this.#ready.push(record);
            },
            requestPump: () => this.#effects.requestPump(),
            setHeld: (count) => (stats.limited = count),
            halted: () => this.#halted !== undefined,
            rateLimited: (record, limiter, key, until) => this.#events.rateLimited(record, limiter, key, until),
            held: (record) => {
              const hold = this.#instrumentation === undefined ? undefined : this.#limits?.holdOf(record);
              if (hold !== undefined) this.#instrumentation?.taskHeld(record, hold);
            },
          });
    this.#runtime = createTaskRuntime(options.runtime, machine, { clock, inspect: options.inspect });
    const policy = { maxFinished: options.maxFinished, finishedTtl: options.finishedTtl };
    this.#retention = Retention.isActive(policy)
      ? new Retention<TaskRecord>({
          policy,
          clock,
          now: options.now,
          isRemembered: (record) => this.records.get(record.id) === record,
          rememberedCount: () => stats.counts.COMPLETED + stats.counts.FAILED + stats.counts.CANCELLED,
          forget: (record) => this.forget(record),
        })
      : undefined;
  }

  addExecutor(name: string, executor: Executor): void {
    this.capacity.addExecutor(name, executor);
  }

  getExecutor(name: string): Executor | undefined {
    return this.capacity.executors.get(name);
  }

  /** Installs (or, with undefined, removes) the engine's instrumentation. */
  set instrumentation(instrumentation: Instrumentation | undefined) {
    this.#instrumentation = instrumentation;
  }

  get instrumentation(): Instrumentation | undefined {
    return this.#instrumentation;
  }

  /** Queued tasks each per-key limiter holds back now, every limiter named (taskchart/otel's gauge; read on collection). */
  heldByLimiter(): Map<string, number> {
    const held = new Map<string, number>();
    for (const name of this.#options.limiters.keys()) held.set(name, 0);
    const limits = this.#limits;
    if (limits === undefined) return held;
    for (const record of this.records.values()) {
      const hold = record.state === 'queued' ? limits.holdOf(record) : undefined;
      if (hold !== undefined) held.set(hold.limiter, (held.get(hold.limiter) ?? 0) + 1);
    }
    return held;
  }

  /**
   * Adds a validated batch (the batch checks are done): every task is in the
   * maps before any `registered` event, so a subscriber that starts a task
   * from that event sees the whole batch, forward references included.
   */
  addBatch(specs: Iterable<ResolvedTaskSpec>): string[] {
    const now = this.#options.now();
    const records: TaskRecord[] = [];
    for (const spec of specs) records.push(this.#createRecord(spec, now));
    this.#commits?.registered(records);
    for (const record of records) {
      this.records.set(record.id, record);
      this.dependencies.add(record);
      this.#stats.enter('pending');
    }
    const ids: string[] = [];
    for (const record of records) {
      (record.actor as TaskRun).start();
      ids.push(record.id);
    }
    this.#events.registered(records);
    return ids;
  }

  /** A new task's record and actor; its dependencies outside its batch are in the maps already. */
  #createRecord(spec: ResolvedTaskSpec, now: number): TaskRecord {
    const record = new TaskRecord(spec, now);
    record.actor = this.#newActor(spec, this.dependencies.upstreamOf(record, false));
    return record;
  }

  /**
   * The task's actor. A task restored never-started gets it on first use (an actor costs about 18 µs,
   * and a store may hold many tasks that are never started); undefined once the task is terminal.
   */
  #actorOf(record: TaskRecord): TaskRun | undefined {
    if (record.dormant) {
      record.dormant = false;
      record.actor = this.#newActor(record.spec, record.upstream);
      record.upstream = undefined;
      record.actor.start();
    }
    return record.actor;
  }

  #newActor(spec: ResolvedTaskSpec, upstream: Upstream | undefined): TaskRun {
    return this.#runtime.create({
      id: spec.id,
      name: spec.name,
      maxRetries: spec.maxRetries,
      retryDelay: spec.retryDelay,
      maxRetryDelay: spec.maxRetryDelay,
      jitter: spec.jitter,
      timeout: spec.timeout,
      maxInterruptions: spec.maxInterruptions,
      maxCrashes: spec.maxCrashes,
      trigger: spec.trigger,
      upstream,
    });
  }

  /** Which runtime runs the tasks' statecharts. */
  get runtime(): RuntimeKind {
    return this.#runtime.kind;
  }

  /**
   * Adds the tasks read from the store (see restore.ts): every record is in the maps before any
   * event, then the unfinished ones are brought back in registration order, in one step.
   */
  restore(tasks: readonly StoredTask[]): void {
    const now = this.#options.now();
    const records: TaskRecord[] = [];
    // Without inspection, a task that stays never-started gets its actor only when something happens to it.
    const lazy = this.#options.inspect === undefined;
    for (const task of tasks) {
      const record = new TaskRecord(task.spec, task.row.createdAt);
      record.dormant = lazy && task.row.state === 'pending' && task.unrunnable === undefined;
      fillRecord(record, task);
      const terminal = record.settled;
      // Its deadline counts from its first start, in the earlier process too; an alert that went out stays out.
      if (
        !terminal &&
        record.spec.deadline !== undefined &&
        record.submittedAt !== undefined &&
        record.long?.deadlineMissedAt === undefined
      ) {
        this.#long.armDeadline(record, record.submittedAt + record.spec.deadline);
      }
      if (terminal) record.spec = releaseSpec(record.spec);
      // Its wait for a first attempt starts again here: the time between the processes is not queueing.
      else if (record.submittedAt !== undefined && record.startedAt === undefined) record.submittedAt = now;
      this.records.set(record.id, record);
      this.dependencies.add(record);
      this.#stats.enter(record.state);
      if (record.seq > this.#seq) this.#seq = record.seq;
      records.push(record);
    }
    // Every record is in the maps: each live task's machine starts from its dependencies as restored.
    for (const record of records) {
      if (record.settled) continue;
      const upstream = this.dependencies.upstreamOf(record, true);
      if (record.dormant) record.upstream = upstream;
      else record.actor = this.#newActor(record.spec, upstream);
    }
    for (const record of records) record.actor?.start();
    this.#events.registered(records, true);
    this.#effects.enter();
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as TaskRecord;
        if (record.settled) {
          this.#events.status(record, TaskStatus.PENDING);
          continue;
        }
        // A never-started task (no event) stays pending: its rule decides when it is started.
        const event = restoreEventOf(tasks[i] as StoredTask, now);
        if (event !== undefined) this.send(record, event);
      }
    } finally {
      this.#effects.leave();
    }
    this.#effects.drain();
    if (this.#retention !== undefined) for (const record of records) if (record.settled) this.#retention.add(record);
  }

  /**
   * Starts PENDING, never-started tasks (the caller checked that each machine allows START) in one step: all of them
   * are queued (or WAITING) before any is dispatched, so the ready queue's priorities order the whole batch. Their
   * attempts run in the async context of this call (`AsyncLocalStorage` of the code that started them).
   */
  start(records: readonly TaskRecord[]): void {
    const caller = new AsyncResource('taskchart.task');
    this.#effects.enter();
    try {
      for (const record of records) this.#start(record, caller);
    } finally {
      this.#effects.leave();
    }
    this.#effects.settle();
  }

  #start(record: TaskRecord, caller: AsyncResource): void {
    record.caller = caller;
    record.seq = ++this.#seq;
    record.submittedAt = this.#options.now();
    if (record.spec.deadline !== undefined) this.#long.armDeadline(record, record.submittedAt + record.spec.deadline);
    this.#instrumentation?.taskStarted(record);
    this.send(record, START);
  }

  /**
   * Cancels every live task in one step (a shutdown): nothing is dispatched in between, and no task starts because
   * its dependencies were cancelled by this, whatever its trigger rule.
   */
  cancelAll(errorFor: (record: TaskRecord) => Error): void {
    this.#effects.enter();
    this.#cancellingAll = true;
    try {
      for (const record of [...this.records.values()]) {
        if (!isTerminal(record.status)) this.send(record, { type: 'CANCEL', error: errorFor(record) });
      }
    } finally {
      this.#cancellingAll = false;
      this.#effects.leave();
    }
    this.#effects.settle();
  }

  /** Sends an event to a live task (a step) and, from the outermost step, carries out the effects. */
  send(record: TaskRecord, event: TaskMachineEvent): void {
    if (this.#halted !== undefined) return;
    const actor = this.#actorOf(record);
    if (actor === undefined) return;
    this.#effects.enter();
    try {
      actor.send(event);
    } finally {
      this.#effects.leave();
    }
    this.#effects.settle();
  }

  /** Whether the task's machine accepts `event` in its current state. */
  can(record: TaskRecord, event: TaskMachineEvent): boolean {
    return this.#actorOf(record)?.getSnapshot().can(event) ?? false;
  }

  addDisposer(record: TaskRecord, dispose: Disposer): void {
    this.#disposals.add(record, dispose, isTerminal(record.status));
  }

  /** Forgets a terminal task: its record, its edges and its counts. */
  forget(record: TaskRecord): void {
    if (this.records.get(record.id) !== record) return;
    for (const dependent of this.dependencies.keepForDependents(record)) if (dependent.durable) this.#commits?.touch(dependent);
    this.records.delete(record.id);
    this.dependencies.remove(record);
    this.#stats.leave(record.state);
    if (record.durable) this.#commits?.forgotten(record);
  }

  /** Disposals started and not yet finished (shutdown waits for them). */
  settleDisposals(): Promise<void> {
    return this.#disposals.settle();
  }

  get isIdle(): boolean {
    if (this.#halted !== undefined) return true; // suspended or stopped by a store failure: nothing runs any more
    return (
      this.#stats.counts.RUNNING === 0 &&
      this.#stats.queued === 0 &&
      this.#stats.dispatched === 0 &&
      this.#stats.retrying === 0 &&
      // A durable engine is not idle while an outcome or an attempt waits for its commit.
      !(this.#commits?.gate.holding ?? false) &&
      this.#effects.pendingAttempts === 0
    );
  }

  /**
   * Commits what is pending now rather than at the end of the tick, and carries out what waited for it:
   * the verbs that end a task use this, so that their status events (and their dependents') still go out
   * before they return. Called from inside a step (a subscriber's verb), it commits what that step did.
   */
  flush(): void {
    const commits = this.#commits;
    if (this.#halted !== undefined || commits === undefined) return;
    this.#effects.drain();
    if (commits.hasPending && !commits.commit()) return;
    this.#effects.drain();
  }

  onIdle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stopTimers(): void {
    this.#retention?.stop();
    this.#limits?.stop();
  }

  /** Empties the results cache (`engine.clearCache()`). */
  clearCache(): void {
    if (this.#halted === undefined) this.#long.clearCache();
  }

  /** What a started task waits for besides a slot (getTask): unended dependencies while WAITING, a per-key limit while held. */
  waitingOn(record: TaskRecord): WaitingOn | undefined {
    if (record.state === 'waiting') {
      const open = record.dependencies.filter((id) => {
        const dependency = this.records.get(id);
        return dependency !== undefined && !isTerminal(dependency.status);
      });
      return { dependencies: open, limit: undefined };
    }
    const limit = record.state === 'queued' ? this.#limits?.holdOf(record) : undefined;
    return limit === undefined ? undefined : { dependencies: [], limit };
  }

  /** Why the engine stopped on its own, if it did. */
  get halted(): Error | undefined {
    return this.#halted;
  }

  /**
   * The store failed: stop where everything stands rather than carry on in memory.
   * Nothing more is written; the next process restores what the store last committed.
   */
  halt(error: Error): void {
    if (this.#halted !== undefined) return;
    const first = [...this.records.values()].find((record) => record.durable && !record.settled);
    this.#commits?.gate.discard();
    this.#stopAll(error);
    this.#events.storeError(first?.id ?? '', first?.name ?? '', error);
    this.#onHalt(error);
  }

  /**
   * `shutdown({ mode: 'suspend' })`: writes every unfinished task as it stands, a running attempt as not
   * started (not counted, not interrupted), then stops everything without a transition.
   */
  suspend(reason: Error): void {
    const commits = this.#commits;
    if (this.#halted !== undefined || commits === undefined) return;
    for (const record of this.records.values())
      if (record.durable && (record.state === 'running' || record.state === 'dispatched')) commits.touch(record);
    // One transaction: everything pending, with running (and dispatched) attempts written back as queued and uncounted.
    const uncount = (row: TaskStateRow): TaskStateRow =>
      row.state === 'running' || row.state === 'dispatched'
        ? { ...row, state: 'queued', attempts: row.attempts - 1, attemptStartedAt: null, deadline: null }
        : row;
    if (!commits.commit(uncount)) return;
    this.#stopAll(reason);
  }

  /** Stops every live task where it stands: timers cleared, attempts aborted, disposers run, waiters rejected with `reason`. */
  #stopAll(reason: Error): void {
    this.#halted = reason;
    this.#effects.clear();
    for (const record of this.records.values()) {
      if (record.settled) continue;
      record.dormant = false;
      record.actor?.stop();
      record.actor = undefined;
      const attempt = record.attemptContext;
      record.attemptContext = undefined;
      attempt?.abort(reason);
      this.#long.stop(record);
      record.abandonWaiter(reason);
      this.#disposals.disposeAll(record);
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  closeExecutors(): Promise<void> {
    return this.capacity.executors.closeAll();
  }

  // ---- Machine actions -------------------------------------------------

  #entered(context: TaskMachineContext, state: TaskState): void {
    const record = this.records.get(context.id);
    if (record === undefined || record.state === state) return; // the initial entry of `pending`
    const leaving = record.state;
    const previous = record.status;
    const status = STATUS_OF_STATE[state];
    if (leaving === 'running') this.#endAttempt(record, state, context.error);
    else if (leaving === 'dispatched') this.#leaveDispatched(record, state, context.error);
    else if (leaving === 'queued' && state !== 'running' && state !== 'dispatched' && record.claims.length > 0)
      this.#limits?.abandon(record);
    if (context.interruptions !== 0 || context.crashes !== 0) {
      const long = record.longState;
      long.interruptions = context.interruptions;
      long.crashes = context.crashes;
    }
    this.#stats.leave(leaving);
    this.#stats.enter(state);
    record.state = state;
    record.status = status;
    switch (state) {
      case 'queued':
        if (record.spec.cache !== undefined && this.#long.cacheHit(record)) break;
        this.#ready.push(record);
        this.#effects.requestPump();
        break;
      case 'dispatched':
        this.#dispatched(record, context.attempts, leaving === 'pending');
        break;
      case 'running':
        this.#beginAttempt(record, context.attempts, leaving !== 'dispatched');
        break;
      case 'completed':
        record.result = context.result;
        // `queued` to `completed` is the machine's cache hit, and nothing else.
        if (leaving === 'queued' || record.long !== undefined) this.#long.completed(record, leaving === 'queued', context.result);
        break;
      case 'failed':
      case 'cancelled':
        record.error = context.error;
        break;
    }
    const commits = record.durable ? this.#commits : undefined;
    if (commits !== undefined) {
      if (isTerminal(status)) record.finishedAt = this.#options.now();
      commits.entered(record, state, context);
      if (isTerminal(status)) {
        // The durability point: its status event and waiters (and every event after them) wait for the commit;
        // its dependents move now, in the same transaction, and none of them runs before the commit.
        commits.gate.defer(() => undefined); // holds from here on, so that the status event below waits too
        this.#events.status(record, previous);
        this.#settle(record, true);
        commits.schedule(true);
        return;
      }
    }
    if (status !== previous) this.#events.status(record, previous);
    if (state === 'retrying') this.#events.retry(record, context.attempts + 1, context.backoff, context.error);
    if (isTerminal(status)) this.#settle(record, false);
    if (!this.#effects.busy) this.#effects.scheduleDrain(); // outside any step: not expected, but never left undone
  }

  #abortAttempt(context: TaskMachineContext, event: TaskMachineEvent): void {
    const record = this.records.get(context.id);
    const attempt = record?.attemptContext;
    if (record === undefined || attempt === undefined) return;
    record.attemptContext = undefined;
    attempt.abort(
      event.type === 'COMPLETE' ? new DOMException(`Task ${taskLabel(record)} was completed from outside`, 'AbortError') : context.error,
    );
  }

  #reportProgress(id: string, progress: number, message: string | undefined): void {
    const record = this.records.get(id);
    if (record === undefined) return;
    this.#long.progressed(record); // progress is a heartbeat too
    record.progress = progress;
    record.message = message;
    if (record.durable) this.#commits?.progressed(record);
    this.#events.progress(record);
  }

  // ---- Effects ---------------------------------------------------------

  #queueAttempt(record: TaskRecord, attempt: number, resumed: boolean): void {
    const pending: PendingAttempt = { record, attempt, commitCount: this.#commits?.count ?? 0, resumed };
    this.#effects.runAttempt(pending);
  }

  /** Entering `running`: the attempt starts now; it runs unless a deferred-start executor holds it already. */
  #beginAttempt(record: TaskRecord, attempt: number, execute: boolean): void {
    const now = this.#options.now();
    this.#stalls.attemptBegun();
    record.attempts = attempt;
    record.attemptStartedAt = now;
    const heartbeatTimeout = record.spec.heartbeatTimeout;
    if (heartbeatTimeout !== undefined) this.#long.watch(record, attempt, heartbeatTimeout, now);
    else if (record.long !== undefined) this.#long.attemptBegun(record, now);
    if (record.startedAt === undefined) {
      record.startedAt = now;
      this.#stats.recordWait(now - (record.submittedAt ?? now));
    }
    if (execute) this.#queueAttempt(record, attempt, false);
  }

  /**
   * Entering `dispatched`: the attempt goes to its deferred-start executor and holds its slot until a worker takes
   * it. `restored`: an earlier process had handed it over already; it takes its capacity back here.
   */
  #dispatched(record: TaskRecord, attempt: number, restored: boolean): void {
    record.attempts = attempt;
    if (restored) {
      this.capacity.take(record.spec);
      // Its attempt holds its keys as it did in the earlier process: their running tasks count it again.
      if (record.claims.length > 0) this.#limits?.reclaim(record);
    }
    this.#queueAttempt(record, attempt, restored);
  }

  /** Leaving `dispatched`: to `running` it keeps its capacity; anywhere else the attempt is over, its capacity free at once. */
  #leaveDispatched(record: TaskRecord, state: TaskState, error: unknown): void {
    if (record.unavailable) {
      record.unavailable = false;
      this.#stats.unavailable--;
    }
    if (state === 'running') return;
    this.#instrumentation?.attemptEnded(record, state, error, false, this.#options.now());
    this.#releaseCapacity(record);
  }

  /** Leaving `running`: the attempt's run time is recorded and its capacity is free at once. */
  #endAttempt(record: TaskRecord, state: TaskState, error: unknown): void {
    const now = this.#options.now();
    this.#stats.recordRun(now - record.attemptStartedAt);
    this.#instrumentation?.attemptEnded(record, state, error, true, now);
    this.#long.attemptEnded(record);
    this.#releaseCapacity(record);
  }

  #releaseCapacity(record: TaskRecord): void {
    this.capacity.release(record.spec);
    record.attemptContext = undefined;
    this.#effects.requestPump();
    if (record.claims.length > 0) this.#limits?.finish(record);
  }

  /** A deferred-start executor cannot hand a dispatched attempt to its backend (`error`), or did after all. */
  #unavailable(record: TaskRecord, attempt: number, error: Error | undefined): void {
    if (record.state !== 'dispatched' || record.attempts !== attempt || record.unavailable === (error !== undefined)) return;
    record.unavailable = error !== undefined;
    this.#stats.unavailable += record.unavailable ? 1 : -1;
    this.#events.executorWait(record, attempt, error);
  }

  /** At the terminal state: dependents, disposers, then (after the commit, when `held`) waiters and retention. */
  #settle(record: TaskRecord, held: boolean): void {
    record.finishedAt ??= this.#options.now();
    this.#long.stop(record);
    record.actor = undefined;
    record.upstream = undefined;
    record.spec = releaseSpec(record.spec);
    this.#stats.recordFinished();
    this.dependencies.tellDependents(record, this.#cancellingAll, this.#propagate);
    if (held) {
      (this.#commits as Commits).gate.defer(() => this.#finish(record));
    } else {
      this.#finish(record);
    }
  }

  readonly #propagate = (dependent: TaskRecord, event: TaskMachineEvent): void => this.#effects.propagate(dependent, event);

  /** The last of a terminal task: its waiters, its disposers (on a microtask), and retention. */
  #finish(record: TaskRecord): void {
    record.caller = undefined; // a finished task does not keep its caller's context (and what it holds) alive
    record.settleWaiter();
    this.#disposals.disposeAll(record);
    this.#retention?.add(record);
  }

  /** After a drain: the store commits what it did; idle waiters hear of it. */
  #drained(): void {
    this.#commits?.afterDrain(this.#effects.pendingAttempts > 0);
    if (this.#idleWaiters.length === 0) return this.#stalls.check();
    if (!this.isIdle) return;
    this.#stalls.report(); // before the waiters hear that the engine is idle
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Fills free slots from the ready queue, best task first among those whose needs are free. A task a per-key limit
   * holds back leaves the ready queue (held on its key, holding nothing) and the next one is looked at.
   */
  #pump(): void {
    const limits = this.#limits;
    while (this.capacity.hasSlot) {
      const record = this.#ready.take(this.capacity.fits);
      if (record === undefined) return;
      // Held back by a per-key limit: it leaves the ready queue, parked on its key, and the next one is looked at.
      if (limits !== undefined && record.claims.length > 0 && !limits.admit(record)) continue;
      const slot = this.capacity.take(record.spec);
      this.send(record, slot.executor.deferredStart === true ? DISPATCH_DEFERRED : DISPATCH);
    }
  }
}
