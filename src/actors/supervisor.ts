/**
 * The supervisor: owns every task's actor (each a root actor, kept in a Map),
 * the ready queue, the dependency graph, the concurrency limit, the named
 * resource pools and the executors. It binds the pure task machine to these
 * effects once, with `taskMachine.provide`.
 *
 * Run-to-completion: every event goes through `send`. Effects that must not
 * run inside a transition (calling user code, waking dependents, dispatching)
 * are queued by the machine's actions and carried out by `#drain`, iteratively,
 * once the outermost send has returned. Transitions fired by a timer drain as
 * soon as the timer callback returns (the clock given to XState is wrapped).
 * Invariants:
 * - `#running` is the number of tasks in state `running` or `dispatched`; it never exceeds `concurrency`
 *   (except for attempts `restore()` re-attached to, which were in flight already);
 * - a task holds its resource units exactly while it is in state `running` or `dispatched`;
 * - `record.actor` is present exactly while the task is not terminal (a task restored never-started
 *   is `dormant` instead, until something happens to it).
 */
import { DependencyFailedError, TaskCancelledError } from '../errors.js';
import type { Executor } from '../executors/executor.js';
import { TaskEvents } from '../monitor/task-events.js';
import { STATUS_OF_STATE, taskMachine, type TaskMachineContext, type TaskMachineEvent, type TaskState } from '../machines/task.machine.js';
import type { EventStream } from '../monitor/event-stream.js';
import type { StatsCollector } from '../monitor/stats.js';
import type { Clock, ResolvedEngineOptions } from '../options.js';
import { DependencyGraph } from '../scheduling/dependency-graph.js';
import { Fifo } from '../scheduling/fifo.js';
import { ReadyQueue } from '../scheduling/ready-queue.js';
import { ResourcePools } from '../scheduling/resources.js';
import { isTerminal, TaskStatus } from '../status.js';
import { releaseSpec, type ResolvedTaskSpec, type TaskFunction } from '../task-spec.js';
import { AttemptRunner } from './attempt-runner.js';
import { Disposals } from './disposals.js';
import { ExecutorSlots } from './executor-slots.js';
import { Retention } from './retention.js';
import { TaskRecord, type Disposer } from './task-record.js';
import type { Durability } from '../store/durability.js';
import type { TaskStateRow } from '../store/task-store.js';
import { Commits } from './commits.js';
import { createTaskRuntime, type TaskRun, type TaskRuntime } from '../runtime/task-runtime.js';
import { fillRecord, isEnded, isFinalState, restoreEventOf, type StoredTask } from './restore.js';

const DISPATCH: TaskMachineEvent = { type: 'DISPATCH', deferred: false };
const DISPATCH_DEFERRED: TaskMachineEvent = { type: 'DISPATCH', deferred: true };
const DEPENDENCY_COMPLETED: TaskMachineEvent = { type: 'DEPENDENCY_COMPLETED' };

export class Supervisor {
  readonly records = new Map<string, TaskRecord>();
  readonly graph = new DependencyGraph();
  readonly resources: ResourcePools;
  readonly handlers = new Map<string, TaskFunction>();
  readonly #options: ResolvedEngineOptions;
  readonly #events: TaskEvents;
  readonly #stats: StatsCollector;
  readonly #executors = new ExecutorSlots();
  readonly #disposals: Disposals;
  readonly #runner: AttemptRunner;
  readonly #ready = new ReadyQueue<TaskRecord>((record) => record.state === 'queued');
  /** Runs each task's statechart: XState actors or the compiled table (task-runtime.ts); nothing else here knows which. */
  readonly #runtime: TaskRuntime;
  readonly #retention: Retention<TaskRecord> | undefined;
  #running = 0;
  #seq = 0;
  #depth = 0;
  #draining = false;
  #drainScheduled = false;
  #pumpRequested = false;
  readonly #propagation = new Fifo<readonly [TaskRecord, TaskMachineEvent]>();
  /**
   * Attempts to run, with their number, the commit count when queued (a durable attempt waits for the next commit)
   * and whether an earlier process had handed them to their executor already (restore).
   */
  readonly #toExecute = new Fifo<readonly [TaskRecord, number, number, boolean]>();
  #idleWaiters: Array<() => void> = [];
  /** The durable store's group commit; undefined for an in-memory engine. */
  readonly #commits: Commits | undefined;
  /** Why the engine stopped on its own (the store failed); nothing runs or changes afterwards. */
  #halted: Error | undefined;
  /** Called once when the store fails: the engine stops accepting work. */
  readonly #onHalt: (error: Error) => void;

  constructor(
    options: ResolvedEngineOptions,
    events: EventStream,
    stats: StatsCollector,
    durability?: { readonly durability: Durability; readonly onHalt: (error: Error) => void },
  ) {
    this.#options = options;
    this.#onHalt = durability?.onHalt ?? (() => {});
    this.#commits =
      durability &&
      new Commits(durability.durability, {
        halted: () => this.#halted !== undefined,
        halt: (error) => this.halt(error),
        drain: () => this.#drain(),
        now: options.now,
      });
    this.#events = new TaskEvents(events, options.now, this.#commits?.gate);
    this.#disposals = new Disposals((taskId, name, error) => this.#events.resourceError(taskId, name, error));
    this.#stats = stats;
    this.#runner = new AttemptRunner(
      {
        records: this.records,
        handlers: this.handlers,
        send: (record, event) => this.send(record, event),
        slotFreed: (now) => {
          this.#pumpRequested = true;
          if (now) this.#drain();
        },
        addDisposer: (record, dispose) => this.addDisposer(record, dispose),
        runOrphanDisposer: (taskId, name, dispose) => this.#disposals.runOrphan(taskId, name, dispose),
        started: (record, attempt) => {
          if (record.state === 'dispatched') this.send(record, { type: 'STARTED', attempt });
        },
        unavailable: (record, attempt, error) => this.#unavailable(record, attempt, error),
      },
      this.#executors,
    );
    this.resources = new ResourcePools(options.resources);
    const machine = taskMachine.provide({
      actions: {
        entered: ({ context }, { state }) => this.#entered(context, state),
        abortAttempt: ({ context, event }) => this.#abortAttempt(context, event),
        reportProgress: ({ context, event }) => {
          if (event.type === 'PROGRESS') this.#reportProgress(context.id, event.progress, event.message);
        },
      },
    });
    const base = options.clock ?? { setTimeout, clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout) };
    // A timer callback (an attempt timeout, a backoff end) runs XState's transition inside our depth count, so
    // the effects it queues (failing dependents, dispatching) are carried out right after it, synchronously,
    // before any promise the transition settled can react: "at once", as for a verb.
    const clock: Clock = {
      setTimeout: (fn, ms) =>
        base.setTimeout((...args: unknown[]) => {
          this.#depth++;
          try {
            fn(...args);
          } finally {
            this.#depth--;
          }
          if (this.#depth === 0) this.#drain();
        }, ms),
      clearTimeout: (id) => base.clearTimeout(id),
    };
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
    this.#executors.add(name, executor);
  }

  getExecutor(name: string): Executor | undefined {
    return this.#executors.get(name);
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
      const spec = record.spec;
      for (const dependencyId of spec.dependencies) {
        const dependency = this.records.get(dependencyId);
        if (dependency?.status === TaskStatus.FAILED || dependency?.status === TaskStatus.CANCELLED) {
          record.doomedBy ??= dependency;
        }
      }
      this.records.set(spec.id, record);
      this.graph.add(spec.id, spec.dependencies);
      this.#stats.move(undefined, TaskStatus.PENDING);
    }
    const ids: string[] = [];
    for (const record of records) {
      (record.actor as TaskRun).start();
      ids.push(record.id);
    }
    this.#events.registered(records);
    return ids;
  }

  #createRecord(spec: ResolvedTaskSpec, now: number): TaskRecord {
    const record = new TaskRecord(spec, now);
    record.actor = this.#newActor(spec);
    return record;
  }

  /**
   * The task's actor. A task restored never-started gets it on first use (an actor costs about 18 µs,
   * and a store may hold many tasks that are never started); undefined once the task is terminal.
   */
  #actorOf(record: TaskRecord): TaskRun | undefined {
    if (record.dormant) {
      record.dormant = false;
      record.actor = this.#newActor(record.spec);
      record.actor.start();
    }
    return record.actor;
  }

  #newActor(spec: ResolvedTaskSpec): TaskRun {
    return this.#runtime.create({
      id: spec.id,
      maxRetries: spec.maxRetries,
      retryDelay: spec.retryDelay,
      maxRetryDelay: spec.maxRetryDelay,
      jitter: spec.jitter,
      timeout: spec.timeout,
    });
  }

  /** Which runtime runs the tasks' statecharts. */
  get runtime(): TaskRuntime['kind'] {
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
      const terminal = isFinalState(task.row.state);
      const dormant = lazy && task.row.state === 'pending' && task.unrunnable === undefined;
      const record = terminal || dormant ? new TaskRecord(task.spec, task.row.createdAt) : this.#createRecord(task.spec, task.row.createdAt);
      record.dormant = dormant;
      fillRecord(record, task);
      if (terminal) record.spec = releaseSpec(record.spec);
      // Its wait for a first attempt starts again here: the time between the processes is not queueing.
      else if (record.submittedAt !== undefined && record.startedAt === undefined) record.submittedAt = now;
      this.records.set(record.id, record);
      this.graph.add(record.id, record.dependencies);
      this.#stats.move(undefined, record.status);
      if (record.seq > this.#seq) this.#seq = record.seq;
      records.push(record);
    }
    for (const record of records) record.actor?.start();
    this.#events.registered(records, true);
    this.#depth++;
    try {
      for (let i = 0; i < records.length; i++) {
        const record = records[i] as TaskRecord;
        if (record.settled) {
          this.#events.status(record, TaskStatus.PENDING);
          continue;
        }
        const dependencies = record.dependencies.map((id) => this.records.get(id));
        const ended = dependencies.find(isEnded);
        const event = restoreEventOf(tasks[i] as StoredTask, dependencies, ended, now);
        if (event === 'dependency-ended') this.send(record, this.#dependencyEndedEvent(record, ended as TaskRecord));
        else if (event !== undefined) this.send(record, event);
        // A dependency's end and its dependents' are committed together: a never-started task stored
        // beside an ended dependency was registered after that end, and ends when it is started.
        else if (ended !== undefined) record.doomedBy = ended;
      }
    } finally {
      this.#depth--;
    }
    this.#drain();
    if (this.#retention !== undefined) for (const record of records) if (record.settled) this.#retention.add(record);
  }

  /** Starts a PENDING, never-started task (the caller checked that the machine allows START). */
  start(record: TaskRecord): void {
    record.seq = ++this.#seq;
    record.submittedAt = this.#options.now();
    const doomedBy = record.doomedBy;
    if (doomedBy !== undefined) {
      record.doomedBy = undefined;
      this.send(record, this.#dependencyEndedEvent(record, doomedBy));
      return;
    }
    let unmetDependencies = 0;
    for (const dependencyId of record.dependencies) {
      // A forgotten dependency had COMPLETED: a failed or cancelled one would have ended this task already.
      // One that is COMPLETED but has not yet told its dependents (a subscriber of its status event is starting
      // this task, in memory) still counts as unmet: telling them is what sends DEPENDENCY_COMPLETED. A durable
      // task tells them at the transition, before its status event, which waits for the commit.
      const dependency = this.records.get(dependencyId);
      if (dependency !== undefined && (dependency.status !== TaskStatus.COMPLETED || dependency.actor !== undefined)) unmetDependencies++;
    }
    this.send(record, { type: 'START', unmetDependencies });
  }

  /** Sends an event to a live task and, from the outermost call, carries out the effects. */
  send(record: TaskRecord, event: TaskMachineEvent): void {
    if (this.#halted !== undefined) return;
    const actor = this.#actorOf(record);
    if (actor === undefined) return;
    this.#depth++;
    try {
      actor.send(event);
    } finally {
      this.#depth--;
    }
    if (this.#depth === 0) this.#drain();
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
    this.records.delete(record.id);
    this.graph.remove(record.id, record.dependencies);
    this.#stats.move(record.status, undefined);
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
      this.#toExecute.size === 0
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
    this.#drain();
    if (commits.hasPending && !commits.commit()) return;
    this.#drain();
  }

  onIdle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stopTimers(): void {
    this.#retention?.stop();
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
    for (const record of this.records.values()) if (record.durable && (record.state === 'running' || record.state === 'dispatched')) commits.touch(record);
    // One transaction: everything pending, with running (and dispatched) attempts written back as queued and uncounted.
    const uncount = (row: TaskStateRow): TaskStateRow =>
      row.state === 'running' || row.state === 'dispatched' ? { ...row, state: 'queued', attempts: row.attempts - 1, attemptStartedAt: null, deadline: null } : row;
    if (!commits.commit(uncount)) return;
    this.#stopAll(reason);
  }

  /** Stops every live task where it stands: timers cleared, attempts aborted, disposers run, waiters rejected with `reason`. */
  #stopAll(reason: Error): void {
    this.#halted = reason;
    while (this.#toExecute.shift() !== undefined);
    while (this.#propagation.shift() !== undefined);
    for (const record of this.records.values()) {
      if (record.settled) continue;
      record.dormant = false;
      record.actor?.stop();
      record.actor = undefined;
      const attempt = record.attemptContext;
      record.attemptContext = undefined;
      attempt?.abort(reason);
      record.abandonWaiter(reason);
      this.#disposals.disposeAll(record);
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  closeExecutors(): Promise<void> {
    return this.#executors.closeAll();
  }

  // ---- Machine actions -------------------------------------------------

  #entered(context: TaskMachineContext, state: TaskState): void {
    const record = this.records.get(context.id);
    if (record === undefined || record.state === state) return; // the initial entry of `pending`
    const leaving = record.state;
    const previous = record.status;
    const status = STATUS_OF_STATE[state];
    if (leaving === 'running') this.#endAttempt(record);
    else if (leaving === 'dispatched') this.#leaveDispatched(record, state === 'running');
    else if (leaving === 'queued') this.#stats.queued--;
    else if (leaving === 'retrying') this.#stats.retrying--;
    record.state = state;
    if (status !== previous) {
      record.status = status;
      this.#stats.move(previous, status);
    }
    switch (state) {
      case 'queued':
        this.#stats.queued++;
        this.#ready.push(record);
        this.#pumpRequested = true;
        break;
      case 'dispatched':
        this.#dispatched(record, context.attempts, leaving === 'pending');
        break;
      case 'running':
        this.#beginAttempt(record, context.attempts, leaving !== 'dispatched');
        break;
      case 'retrying':
        this.#stats.retrying++;
        break;
      case 'completed':
        record.result = context.result;
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
    if (this.#depth === 0 && !this.#draining) this.#scheduleDrain(); // outside any send or timer: not expected, but never left undone
  }

  #abortAttempt(context: TaskMachineContext, event: TaskMachineEvent): void {
    const record = this.records.get(context.id);
    const attempt = record?.attemptContext;
    if (record === undefined || attempt === undefined) return;
    record.attemptContext = undefined;
    attempt.abort(
      event.type === 'COMPLETE'
        ? new DOMException(`Task \`${record.id}\` was completed from outside`, 'AbortError')
        : context.error,
    );
  }

  #reportProgress(id: string, progress: number, message: string | undefined): void {
    const record = this.records.get(id);
    if (record === undefined) return;
    record.progress = progress;
    record.message = message;
    if (record.durable) this.#commits?.progressed(record);
    this.#events.progress(record);
  }

  // ---- Effects ---------------------------------------------------------

  /** Entering `running`: the attempt starts now; `execute` unless a deferred-start executor holds it already. */
  #beginAttempt(record: TaskRecord, attempt: number, execute: boolean): void {
    const now = this.#options.now();
    record.attempts = attempt;
    record.attemptStartedAt = now;
    if (record.startedAt === undefined) {
      record.startedAt = now;
      this.#stats.recordWait(now - (record.submittedAt ?? now));
    }
    if (execute) this.#toExecute.push([record, attempt, this.#commits?.count ?? 0, false]);
  }

  /**
   * Entering `dispatched`: the attempt goes to its deferred-start executor and holds its slot until a worker takes
   * it. `restored`: an earlier process had handed it over already; it takes its slot and resources back here.
   */
  #dispatched(record: TaskRecord, attempt: number, restored: boolean): void {
    record.attempts = attempt;
    this.#stats.dispatched++;
    if (restored) {
      this.#running++;
      this.resources.acquire(record.spec.resources);
      this.#executors.slot(record.spec.executor).inFlight++;
    }
    this.#toExecute.push([record, attempt, this.#commits?.count ?? 0, restored]);
  }

  /** Leaving `dispatched`: to `running` it keeps its slot; anywhere else the slot and the resource units are free at once. */
  #leaveDispatched(record: TaskRecord, toRunning: boolean): void {
    this.#stats.dispatched--;
    if (record.unavailable) {
      record.unavailable = false;
      this.#stats.unavailable--;
    }
    if (toRunning) return;
    this.#running--;
    this.resources.release(record.spec.resources);
    record.attemptContext = undefined;
    this.#pumpRequested = true;
  }

  /** A deferred-start executor cannot hand a dispatched attempt to its backend (`error`), or did after all. */
  #unavailable(record: TaskRecord, attempt: number, error: Error | undefined): void {
    if (record.state !== 'dispatched' || record.attempts !== attempt || record.unavailable === (error !== undefined)) return;
    record.unavailable = error !== undefined;
    this.#stats.unavailable += record.unavailable ? 1 : -1;
    this.#events.executorWait(record, attempt, error);
  }

  /** Leaving `running`: the slot and the resource units are free at once. */
  #endAttempt(record: TaskRecord): void {
    this.#running--;
    this.resources.release(record.spec.resources);
    this.#stats.recordRun(this.#options.now() - record.attemptStartedAt);
    record.attemptContext = undefined;
    this.#pumpRequested = true;
  }

  /** At the terminal state: dependents, disposers, then (after the commit, when `held`) waiters and retention. */
  #settle(record: TaskRecord, held: boolean): void {
    record.finishedAt ??= this.#options.now();
    record.actor = undefined;
    record.doomedBy = undefined;
    record.spec = releaseSpec(record.spec);
    this.#stats.recordFinished();
    for (const dependentId of this.graph.dependentsOf(record.id)) {
      const dependent = this.records.get(dependentId);
      if (dependent === undefined || isTerminal(dependent.status)) continue;
      if (record.status !== TaskStatus.COMPLETED) {
        this.#propagation.push([dependent, this.#dependencyEndedEvent(dependent, record)]);
      } else if (dependent.state === 'waiting') {
        this.#propagation.push([dependent, DEPENDENCY_COMPLETED]);
      }
    }
    if (held) {
      (this.#commits as Commits).gate.defer(() => this.#finish(record));
    } else {
      this.#finish(record);
    }
  }

  /** The last of a terminal task: its waiters, its disposers (on a microtask), and retention. */
  #finish(record: TaskRecord): void {
    record.settleWaiter();
    this.#disposals.disposeAll(record);
    this.#retention?.add(record);
  }

  #dependencyEndedEvent(record: TaskRecord, dependency: TaskRecord): TaskMachineEvent {
    if (dependency.status === TaskStatus.FAILED) {
      return { type: 'DEPENDENCY_FAILED', error: new DependencyFailedError(record.id, dependency.id, dependency.error) };
    }
    const reason = `its dependency \`${dependency.id}\` was cancelled`;
    return { type: 'DEPENDENCY_CANCELLED', error: new TaskCancelledError(record.id, reason, { cause: dependency.error }) };
  }

  #drain(): void {
    if (this.#draining || this.#halted !== undefined) return;
    this.#draining = true;
    try {
      for (;;) {
        const next = this.#propagation.shift();
        if (next !== undefined) {
          this.send(next[0], next[1]);
          continue;
        }
        // An attempt runs only once a commit has written it (its RUNNING row and attempt count), so a task that
        // kills the process is seen as interrupted, and never runs uncounted.
        const attempt = this.#toExecute.peek();
        if (attempt !== undefined && (!attempt[0].durable || attempt[2] < (this.#commits as Commits).count)) {
          this.#toExecute.shift();
          this.#runner.execute(attempt[0], attempt[1], attempt[3]);
          continue;
        }
        if (this.#pumpRequested) {
          this.#pumpRequested = false;
          this.#pump();
          continue;
        }
        break;
      }
    } finally {
      this.#draining = false;
    }
    this.#commits?.afterDrain(this.#toExecute.size > 0);
    if (this.#idleWaiters.length > 0 && this.isIdle) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  readonly #canRun = (record: TaskRecord): boolean =>
    this.#executors.hasRoom(record.spec.executor) && this.resources.canAcquire(record.spec.resources);

  /** Fills free slots from the ready queue, best task first among those whose needs are free. */
  #pump(): void {
    while (this.#running < this.#options.concurrency) {
      const record = this.#ready.take(this.#canRun);
      if (record === undefined) return;
      this.#running++;
      this.resources.acquire(record.spec.resources);
      const slot = this.#executors.slot(record.spec.executor);
      slot.inFlight++;
      this.send(record, slot.executor.deferredStart === true ? DISPATCH_DEFERRED : DISPATCH);
    }
  }
}

