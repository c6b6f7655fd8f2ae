/**
 * The supervisor: owns every task's actor (each a root actor, kept in a Map),
 * the ready queue, the dependency graph, the concurrency limit, the named
 * resource pools and the executors. It binds the pure task machine to these
 * effects once, with `taskMachine.provide`.
 *
 * Run-to-completion: every event goes through `#send`. Effects that must not
 * run inside a transition (calling user code, waking dependents, dispatching)
 * are queued by the machine's actions and carried out by `#drain`, iteratively,
 * once the outermost send has returned. Transitions fired by timers drain on
 * the next microtask. Invariants:
 * - `#running` is the number of tasks in state `running`; it never exceeds `concurrency`;
 * - a task holds its resource units exactly while it is in state `running`;
 * - `record.actor` is present exactly while the task is not terminal.
 */
import { createActor, type Actor } from 'xstate';
import { DependencyFailedError, TaskCancelledError, toError } from '../errors.js';
import type { AttemptRequest, Executor } from '../executors/executor.js';
import { STATUS_OF_STATE, taskMachine, type TaskMachineContext, type TaskMachineEvent, type TaskState } from '../machines/task.machine.js';
import type { EventStream } from '../monitor/event-stream.js';
import type { StatsCollector } from '../monitor/stats.js';
import type { ResolvedEngineOptions } from '../options.js';
import { DependencyGraph } from '../scheduling/dependency-graph.js';
import { Fifo } from '../scheduling/fifo.js';
import { ReadyQueue } from '../scheduling/ready-queue.js';
import { ResourcePools } from '../scheduling/resources.js';
import { isTerminal, TaskStatus } from '../status.js';
import { releaseSpec, type ResolvedTaskSpec, type TaskFunction } from '../task-spec.js';
import { runDisposers } from './disposers.js';
import { AttemptContext, type AttemptHost } from './attempt-context.js';
import { Retention } from './retention.js';
import { TaskRecord, type Disposer } from './task-record.js';
import { invalid } from '../validate.js';

interface ExecutorSlot {
  readonly executor: Executor;
  /** Attempts this executor may hold at once (Infinity: unlimited). */
  readonly limit: number;
  /** Attempts dispatched to it whose promise has not settled yet. */
  inFlight: number;
}

const DISPATCH: TaskMachineEvent = { type: 'DISPATCH' };
const DEPENDENCY_COMPLETED: TaskMachineEvent = { type: 'DEPENDENCY_COMPLETED' };

export class Supervisor {
  readonly records = new Map<string, TaskRecord>();
  readonly graph = new DependencyGraph();
  readonly resources: ResourcePools;
  readonly handlers = new Map<string, TaskFunction>();
  readonly #options: ResolvedEngineOptions;
  readonly #events: EventStream;
  readonly #stats: StatsCollector;
  readonly #executors = new Map<string, ExecutorSlot>();
  readonly #ready = new ReadyQueue<TaskRecord>((record) => record.state === 'queued');
  readonly #machine;
  readonly #retention: Retention<TaskRecord> | undefined;
  /** XState's own default clock unless one was injected. */
  readonly #clock: ResolvedEngineOptions['clock'];
  #running = 0;
  #seq = 0;
  #depth = 0;
  #draining = false;
  #drainScheduled = false;
  #pumpRequested = false;
  readonly #propagation = new Fifo<readonly [TaskRecord, TaskMachineEvent]>();
  readonly #toExecute = new Fifo<TaskRecord>();
  #idleWaiters: Array<() => void> = [];
  readonly #disposals = new Set<Promise<void>>();

  constructor(options: ResolvedEngineOptions, events: EventStream, stats: StatsCollector) {
    this.#options = options;
    this.#events = events;
    this.#stats = stats;
    this.resources = new ResourcePools(options.resources);
    this.#machine = taskMachine.provide({
      actions: {
        entered: ({ context }, { state }) => this.#entered(context, state),
        abortAttempt: ({ context, event }) => this.#abortAttempt(context, event),
        reportProgress: ({ context, event }) => {
          if (event.type === 'PROGRESS') this.#reportProgress(context.id, event.progress, event.message);
        },
      },
    });
    const clock = options.clock ?? { setTimeout, clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout) };
    this.#clock = clock;
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
    this.#executors.set(name, { executor, limit: executor.concurrency ?? Infinity, inFlight: 0 });
  }

  getExecutor(name: string): Executor | undefined {
    return this.#executors.get(name)?.executor;
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
      (record.actor as TaskActor).start();
      ids.push(record.id);
    }
    if (this.#events.observed) {
      for (const record of records) this.#events.emit({ type: 'registered', taskId: record.id, name: record.name, timestamp: record.createdAt });
    }
    return ids;
  }

  #createRecord(spec: ResolvedTaskSpec, now: number): TaskRecord {
    const record = new TaskRecord(spec, now);
    record.actor = createActor(this.#machine, {
      input: {
        id: spec.id,
        maxRetries: spec.maxRetries,
        retryDelay: spec.retryDelay,
        maxRetryDelay: spec.maxRetryDelay,
        jitter: spec.jitter,
        timeout: spec.timeout,
      },
      clock: this.#clock,
      inspect: this.#options.inspect,
    });
    return record;
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
    for (const dependencyId of record.spec.dependencies) {
      // A forgotten dependency had COMPLETED: a failed or cancelled one would have ended this task already.
      // One that is COMPLETED but not yet settled (a subscriber of its status event is starting this task)
      // still counts as unmet: its settlement is what sends DEPENDENCY_COMPLETED.
      const dependency = this.records.get(dependencyId);
      if (dependency !== undefined && (dependency.status !== TaskStatus.COMPLETED || dependency.actor !== undefined)) unmetDependencies++;
    }
    this.send(record, { type: 'START', unmetDependencies });
  }

  /** Sends an event to a live task and, from the outermost call, carries out the effects. */
  send(record: TaskRecord, event: TaskMachineEvent): void {
    const actor = record.actor;
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
    return record.actor !== undefined && record.actor.getSnapshot().can(event);
  }

  addDisposer(record: TaskRecord, dispose: Disposer): void {
    if (isTerminal(record.status)) {
      // Registered after the end (an abandoned attempt still running): dispose at once.
      this.#track(record, runDisposers([dispose], (error) => this.#resourceError(record, error)));
      return;
    }
    (record.disposers ??= []).push(dispose);
  }

  /** Forgets a terminal task: its record, its edges and its counts. */
  forget(record: TaskRecord): void {
    if (this.records.get(record.id) !== record) return;
    this.records.delete(record.id);
    this.graph.remove(record.id, record.spec.dependencies);
    this.#stats.move(record.status, undefined);
  }

  /** Disposals started and not yet finished (shutdown waits for them). */
  async settleDisposals(): Promise<void> {
    while (this.#disposals.size > 0) await Promise.all([...this.#disposals]);
  }

  get isIdle(): boolean {
    return this.#stats.counts.RUNNING === 0 && this.#stats.queued === 0 && this.#stats.retrying === 0;
  }

  onIdle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stopTimers(): void {
    this.#retention?.stop();
  }

  /** Closes every executor; one that fails to close is reported as a process warning and does not stop the others. */
  async closeExecutors(): Promise<void> {
    const names = [...this.#executors.keys()];
    const results = await Promise.allSettled([...this.#executors.values()].map(async (slot) => slot.executor.close?.()));
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      process.emitWarning(`taskchart: executor \`${names[i]}\` failed to close: ${reason}`, { code: 'TASKCHART_EXECUTOR_CLOSE' });
    });
  }

  // ---- Machine actions -------------------------------------------------

  #entered(context: TaskMachineContext, state: TaskState): void {
    const record = this.records.get(context.id);
    if (record === undefined || record.state === state) return; // the initial entry of `pending`
    const leaving = record.state;
    const previous = record.status;
    const status = STATUS_OF_STATE[state];
    if (leaving === 'running') this.#endAttempt(record);
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
      case 'running':
        this.#beginAttempt(record, context.attempts);
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
    if (status !== previous) this.#emitStatus(record, previous);
    if (state === 'retrying' && this.#events.observed) {
      this.#events.emit({
        type: 'retry',
        taskId: record.id,
        name: record.name,
        timestamp: this.#options.now(),
        attempt: context.attempts + 1,
        delay: context.backoff,
        error: context.error,
      });
    }
    if (isTerminal(status)) this.#settle(record);
    if (this.#depth === 0 && !this.#draining) this.#scheduleDrain(); // fired by a timer
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
    if (this.#events.observed) {
      this.#events.emit({ type: 'progress', taskId: id, name: record.name, timestamp: this.#options.now(), progress, message });
    }
  }

  // ---- Effects ---------------------------------------------------------

  #beginAttempt(record: TaskRecord, attempt: number): void {
    const now = this.#options.now();
    record.attempts = attempt;
    record.attemptStartedAt = now;
    if (record.startedAt === undefined) {
      record.startedAt = now;
      this.#stats.recordWait(now - (record.submittedAt ?? now));
    }
    this.#toExecute.push(record);
  }

  /** Leaving `running`: the slot and the resource units are free at once. */
  #endAttempt(record: TaskRecord): void {
    this.#running--;
    this.resources.release(record.spec.resources);
    this.#stats.recordRun(this.#options.now() - record.attemptStartedAt);
    record.attemptContext = undefined;
    this.#pumpRequested = true;
  }

  #settle(record: TaskRecord): void {
    record.finishedAt = this.#options.now();
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
    record.settleWaiter();
    const disposers = record.disposers;
    if (disposers !== undefined) {
      record.disposers = undefined;
      // Started on a microtask: user code never runs inside a transition.
      const disposal = Promise.resolve().then(() => runDisposers(disposers, (error) => this.#resourceError(record, error)));
      this.#track(record, disposal);
    }
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
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (;;) {
        const next = this.#propagation.shift();
        if (next !== undefined) {
          this.send(next[0], next[1]);
          continue;
        }
        const toExecute = this.#toExecute.shift();
        if (toExecute !== undefined) {
          this.#execute(toExecute);
          continue;
        }
        if (!this.#pumpRequested) break;
        this.#pumpRequested = false;
        this.#pump();
      }
    } finally {
      this.#draining = false;
    }
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

  readonly #canRun = (record: TaskRecord): boolean => {
    const slot = this.#executors.get(record.spec.executor);
    return slot !== undefined && slot.inFlight < slot.limit && this.resources.canAcquire(record.spec.resources);
  };

  /** Fills free slots from the ready queue, best task first among those whose needs are free. */
  #pump(): void {
    while (this.#running < this.#options.concurrency) {
      const record = this.#ready.take(this.#canRun);
      if (record === undefined) return;
      this.#running++;
      this.resources.acquire(record.spec.resources);
      (this.#executors.get(record.spec.executor) as ExecutorSlot).inFlight++;
      this.send(record, DISPATCH);
    }
  }

  #execute(record: TaskRecord): void {
    const slot = this.#executors.get(record.spec.executor) as ExecutorSlot;
    const attempt = record.attempts;
    if (record.state !== 'running' || record.spec.kind === 'external') {
      // External tasks: the caller drives RUNNING; nothing runs here.
      this.#attemptReleased(slot);
      return;
    }
    const context = new AttemptContext(record.id, record.name, attempt, this.#attemptHost);
    record.attemptContext = context;
    const request: AttemptRequest = {
      taskId: record.id,
      name: record.name,
      attempt,
      args: record.spec.args,
      fn: record.spec.fn ?? (record.spec.handler === undefined ? undefined : this.handlers.get(record.spec.handler)),
      handler: record.spec.handler,
      module: record.spec.module,
      exportName: record.spec.exportName,
      context,
      transfer: record.spec.transfer,
    };
    let outcome: Promise<unknown>;
    try {
      outcome = slot.executor.execute(request);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (result) => this.#attemptEnded(record, attempt, slot, { type: 'ATTEMPT_SUCCEEDED', attempt, result }),
      (error: unknown) => this.#attemptEnded(record, attempt, slot, { type: 'ATTEMPT_FAILED', attempt, error: toError(error) }),
    );
  }

  #attemptEnded(record: TaskRecord, attempt: number, slot: ExecutorSlot, event: TaskMachineEvent): void {
    this.#attemptReleased(slot);
    if (record.actor !== undefined && record.state === 'running' && record.attempts === attempt) this.send(record, event);
    else this.#drain(); // a late outcome: ignored, but the executor's slot is free
  }

  #attemptReleased(slot: ExecutorSlot): void {
    slot.inFlight--;
    if (slot.limit !== Infinity) this.#pumpRequested = true;
  }

  /** Progress and resources from an attempt's context; progress of an attempt that is over is ignored. */
  readonly #attemptHost: AttemptHost = {
    progress: (context, fraction, message) => {
      checkProgress(fraction, message);
      const record = this.records.get(context.id);
      if (record !== undefined && record.attemptContext === context) {
        this.send(record, { type: 'PROGRESS', progress: fraction as number, message: message as string | undefined });
      }
    },
    registerResource: (context, dispose) => {
      if (typeof dispose !== 'function') throw invalid('dispose', 'a function', dispose);
      const record = this.records.get(context.id);
      if (record !== undefined && record.attemptContext === context) this.addDisposer(record, dispose as Disposer);
      else void runDisposers([dispose as Disposer], (error) => this.#reportOrphanError(context, error));
    },
  };

  #track(record: TaskRecord, disposal: Promise<void>): void {
    const previous = record.disposal;
    const chained = previous === undefined ? disposal : Promise.all([previous, disposal]).then(() => undefined);
    record.disposal = chained;
    this.#disposals.add(chained);
    void chained.finally(() => this.#disposals.delete(chained));
  }

  /** A disposer of an attempt whose task was already forgotten failed. */
  #reportOrphanError(context: AttemptContext, error: unknown): void {
    this.#events.emit({ type: 'resource-error', taskId: context.id, name: context.name, timestamp: this.#options.now(), error });
  }

  #resourceError(record: TaskRecord, error: unknown): void {
    this.#events.emit({ type: 'resource-error', taskId: record.id, name: record.name, timestamp: this.#options.now(), error });
  }

  #emitStatus(record: TaskRecord, previous: TaskStatus): void {
    if (!this.#events.observed) return;
    const failed = record.status === TaskStatus.FAILED || record.status === TaskStatus.CANCELLED;
    this.#events.emit({
      type: 'status',
      taskId: record.id,
      name: record.name,
      timestamp: this.#options.now(),
      status: record.status,
      previous,
      ...(failed && { error: record.error }),
    });
  }
}

export type TaskActor = Actor<typeof taskMachine>;

/** Checks `progress(fraction, message)` arguments, from a task or from updateTaskProgress. */
export function checkProgress(fraction: unknown, message: unknown): void {
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
    throw invalid('fraction', 'a number from 0 to 1', fraction);
  }
  if (message !== undefined && typeof message !== 'string') throw invalid('message', 'a string or undefined', message);
}
