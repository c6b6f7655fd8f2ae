/**
 * The TaskEngine facade: the verbs between imperative code and the task
 * statecharts. Every verb checks its arguments and the task's state before it
 * changes anything, and refuses with a typed error (a synchronous verb throws
 * it, a verb that returns a promise rejects with it); otherwise it sends the
 * event, and when it returns the transition is applied.
 */
import type { Observable } from 'rxjs';
import { createActor, type Actor } from 'xstate';
import { Supervisor } from './actors/supervisor.js';
import { toTaskInfo, type TaskInfo, type TaskRecord } from './actors/task-record.js';
import {
  EngineShutDownError,
  ErrorCode,
  InvalidOptionError,
  StoreError,
  InvalidTransitionError,
  TaskCancelledError,
  TaskChartError,
  TaskNotFoundError,
  toError,
  taskLabel,
  type TaskRef,
} from './errors.js';
import type { TaskEvent } from './events.js';
import { INSTRUMENT, type Instrumentation, type InstrumentationHost } from './instrumentation.js';
import { AsyncExecutor } from './executors/async-executor.js';
import { PoolExecutor } from './pool/pool-executor.js';
import type { TaskMachineEvent } from './machines/task.machine.js';
import { supervisorMachine } from './machines/supervisor.machine.js';
import { EventStream } from './monitor/event-stream.js';
import { StatsCollector, type TaskStats } from './monitor/stats.js';
import type { RuntimeKind } from './runtime/task-runtime.js';
import { resolveEngineOptions, type ResolvedEngineOptions, type TaskEngineOptions } from './options.js';
import { restoreFrom, type RestoreReport } from './actors/restore.js';
import { recordRows } from './actors/task-rows.js';
import { encodeResult } from './store/codec.js';
import { Durability } from './store/durability.js';
import { openStore } from './store/restore-tasks.js';
import { findUncloneable } from './wire/cloneable.js';
import { checkProgress } from './wire/task-context.js';
import { isTerminal, TaskStatus } from './status.js';
import { type SpecEnvironment, type TaskFunction, type TaskSpec } from './task-spec.js';
import { invalid, readingInput } from './validate.js';
import { resolveBatch } from './registration.js';
import {
  resolveRegisterOptions,
  resolveRestoreOptions,
  resolveShutdownMode,
  type RegisterTasksOptions,
  type RestoreOptions,
  type ShutdownMode,
  type ShutdownOptions,
} from './verb-options.js';

const NON_TERMINAL = 'PENDING, WAITING or RUNNING';
const NEVER_STARTED = 'PENDING (never started)';
/** The event `can` is asked about for startTask(s); the supervisor sends the real one with the unmet count. */
const START_PROBE: TaskMachineEvent = { type: 'START' };

/**
 * Runs tasks as statecharts under a supervisor: each task a root XState actor, or with `runtime: 'compiled'` a run
 * of the same machine compiled into a table.
 *
 * @example
 * const engine = new TaskEngine({ concurrency: 4 });
 * const id = engine.registerTask({ name: 'fetch', fn: async (ctx, url) => download(url, ctx.signal), args: [url] });
 * engine.startTask(id);
 * const body = await engine.waitForTask(id);
 */
export class TaskEngine {
  readonly #supervisor: Supervisor;
  readonly #lifecycle: Actor<typeof supervisorMachine>;
  readonly #stream = new EventStream();
  readonly #stats = new StatsCollector();
  readonly #specEnvironment: SpecEnvironment;
  readonly #durability: Durability | undefined;
  /** Tasks the store held when it was opened; registering waits for `restore()` when there are any. */
  readonly #storedTasks: number;
  #restored = false;
  /** The engine clock (options `now`): its events' timestamps. */
  readonly #now: () => number;
  #shutdown: Promise<void> | undefined;

  constructor(options?: TaskEngineOptions) {
    const resolved = readingInput('options', () => resolveEngineOptions(options));
    this.#now = resolved.now;
    const store = resolved.store;
    // Opened first: a store that cannot be used (held by another engine, not ours, newer) fails the constructor.
    this.#storedTasks = store === undefined ? 0 : openStore(store);
    this.#durability = store === undefined ? undefined : new Durability(store, 0, recordRows);
    try {
      this.#supervisor = this.#createSupervisor(resolved);
      // The inspect observer first runs here: if it throws, the option is at fault.
      this.#lifecycle = readingInput('inspect', () =>
        createActor(supervisorMachine, resolved.inspect ? { inspect: resolved.inspect } : undefined).start(),
      );
    } catch (error) {
      store?.close(); // a constructor that throws leaves the file free for the next engine
      throw error;
    }
    const supervisor = this.#supervisor;
    this.#specEnvironment = {
      resourceCapacity: (name) => supervisor.capacity.resources.capacityOf(name),
      hasExecutor: (name) => supervisor.getExecutor(name) !== undefined,
      startsLater: (name) => supervisor.getExecutor(name)?.deferredStart === true,
      validateForExecutor: (executor, spec) => {
        if (executor === 'async' && spec.kind === 'handler' && !supervisor.handlers.has(spec.handler as string)) {
          throw invalid('handler', 'the name of a task defined with engine.defineTask()', spec.handler);
        }
        try {
          supervisor.getExecutor(executor)?.validate?.(spec);
        } catch (error) {
          if (error instanceof TaskChartError) throw error;
          const reason = error instanceof Error ? error.message : String(error);
          throw new InvalidOptionError(
            'executor',
            `Expected the \`executor\` (\`${executor}\`) to accept the spec, but its validate() threw (${reason})`,
            { cause: error },
          );
        }
      },
      generateId: () => crypto.randomUUID(),
      durable: store !== undefined,
      limiters: resolved.limiters,
      reruns: resolved.reruns,
    };
  }

  #createSupervisor(resolved: ResolvedEngineOptions): Supervisor {
    const supervisor = new Supervisor(
      resolved,
      this.#stream,
      this.#stats,
      this.#durability && { durability: this.#durability, onHalt: () => this.#lifecycle.send({ type: 'SHUTDOWN', mode: 'suspend' }) },
    );
    supervisor.addExecutor('async', new AsyncExecutor());
    supervisor.addExecutor('pool', new PoolExecutor(resolved.pool));
    for (const [name, executor] of resolved.executors) supervisor.addExecutor(name, executor);
    return supervisor;
  }

  /**
   * Which runtime runs the tasks' statecharts: `'xstate'` (root XState actors) or `'compiled'` (the same machine
   * compiled to a table). It is `'xstate'` whenever the engine has an `inspect` observer.
   *
   * @example
   * new TaskEngine({ runtime: 'compiled' }).runtime; // 'compiled'
   */
  get runtime(): RuntimeKind {
    return this.#supervisor.runtime;
  }

  /** Every task event, as an rxjs Observable. Filter with `ofType(...)`. */
  get events(): Observable<TaskEvent> {
    return this.#stream.observable;
  }

  /**
   * Registers one task (PENDING) and returns its id. Refuses a bad spec with ERR_INVALID_OPTION naming the field.
   *
   * @example
   * const id = engine.registerTask({ name: 'resize', fn: (ctx, path: string) => resize(path, ctx.signal), args: ['a.png'], maxRetries: 2 });
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  registerTask<A extends unknown[] = any[], R = unknown>(spec: TaskSpec<A, R>): string {
    return this.#register([spec], 'registerTask')[0] as string;
  }

  /**
   * Registers a batch, all or nothing; dependencies may refer forward inside the batch. With `{ start: true }` the
   * whole batch is then started as {@link startTasks} does: queued before any of it is dispatched.
   *
   * @example
   * const [fetch, parse] = engine.registerTasks(
   *   [{ id: 'fetch', name: 'fetch', fn: download }, { name: 'parse', dependencies: ['fetch'], fn: parse }],
   *   { start: true },
   * );
   */
  registerTasks(specs: readonly TaskSpec[], options?: RegisterTasksOptions): string[] {
    const { list, start } = readingInput('specs', () => {
      if (!Array.isArray(specs)) throw invalid('specs', 'an array of task specs', specs);
      return { list: [...(specs as readonly unknown[])], start: resolveRegisterOptions(options) };
    });
    const ids = this.#register(list, 'registerTasks');
    if (start) {
      // Every task of the batch is new and PENDING, unless a subscriber of its `registered` event already started,
      // cancelled or cleaned it up: those are left as that subscriber made them.
      const supervisor = this.#supervisor;
      const startable: TaskRecord[] = [];
      for (const id of ids) {
        const record = supervisor.records.get(id);
        if (record !== undefined && supervisor.can(record, START_PROBE)) startable.push(record);
      }
      supervisor.start(startable);
      this.#throwIfHalted();
    }
    return ids;
  }

  /**
   * Starts a registered task: WAITING for dependencies, or PENDING until a slot is free, then RUNNING.
   * To start several at once, in priority order, use {@link startTasks}.
   *
   * @example
   * engine.startTask(id);
   * engine.getTaskStatus(id); // 'PENDING' (queued) or 'WAITING', 'RUNNING' once it has a slot
   */
  startTask(id: string): void {
    this.#assertAccepting('startTask');
    const record = this.#require(id, 'startTask', START_PROBE, NEVER_STARTED);
    this.#supervisor.start([record]);
    this.#throwIfHalted();
  }

  /**
   * Starts registered tasks in one step, all or nothing: every one is queued (or WAITING) before any is dispatched,
   * so their priorities order the whole batch, which a loop of `startTask` calls cannot do (the first tasks take the
   * free slots before the later, perhaps more urgent, ones are queued).
   *
   * @example
   * engine.startTasks(ids); // with concurrency 2, the two HIGH tasks among them run first
   */
  startTasks(ids: readonly string[]): void {
    this.#assertAccepting('startTasks');
    if (!Array.isArray(ids)) throw invalid('ids', 'an array of task ids', ids);
    const seen = new Set<string>();
    const records: TaskRecord[] = [];
    for (const id of ids as readonly unknown[]) {
      if (seen.has(id as string))
        throw new InvalidOptionError('ids', `Expected \`ids\` to name each task once, but \`${String(id)}\` appears twice`);
      seen.add(id as string);
      records.push(this.#require(id as string, 'startTasks', START_PROBE, NEVER_STARTED));
    }
    this.#supervisor.start(records);
    this.#throwIfHalted();
  }

  /**
   * Reports progress of a RUNNING task (an external one, usually; a task function calls `ctx.progress`); `fraction` in [0, 1].
   *
   * @example
   * engine.updateTaskProgress(id, 0.5, 'halfway');
   */
  updateTaskProgress(id: string, fraction: number, message?: string): void {
    checkProgress(fraction, message);
    const record = this.#require(id, 'updateTaskProgress', { type: 'PROGRESS', progress: fraction, message }, 'RUNNING');
    this.#supervisor.send(record, { type: 'PROGRESS', progress: fraction, message });
  }

  /**
   * Completes a RUNNING task with `result`; a running function is aborted and its late result ignored.
   *
   * @example
   * engine.completeTask(id, { rows: 42 }); // an external task: your code did the work
   */
  completeTask(id: string, result?: unknown): void {
    const event: TaskMachineEvent = { type: 'COMPLETE', result };
    const record = this.#require(id, 'completeTask', event, 'RUNNING');
    if (record.durable) record.storedResult = storableResult(record, result);
    this.#supervisor.send(record, event);
    this.#supervisor.flush();
    this.#throwIfHalted();
  }

  /**
   * Fails a RUNNING task with `error`, without retries; its dependents fail with ERR_DEPENDENCY_FAILED.
   *
   * @example
   * engine.failTask(id, new Error('upstream rejected the upload'));
   */
  failTask(id: string, error: unknown): void {
    if (error === undefined) throw invalid('error', 'the reason the task failed (an Error, or a value to wrap in one)', error);
    const event: TaskMachineEvent = { type: 'FAIL', error: toError(error) };
    this.#supervisor.send(this.#require(id, 'failTask', event, 'RUNNING'), event);
    this.#supervisor.flush();
    this.#throwIfHalted();
  }

  /**
   * Cancels a non-terminal task and, transitively, its dependents; a running attempt's `ctx.signal` is aborted.
   *
   * @example
   * engine.cancelTask(id, 'the user closed the tab');
   * engine.getTaskStatus(id); // 'CANCELLED'
   */
  cancelTask(id: string, reason?: unknown): void {
    const record = this.#find(id);
    const event: TaskMachineEvent = { type: 'CANCEL', error: new TaskCancelledError(record, reason) };
    this.#supervisor.send(this.#require(id, 'cancelTask', event, NON_TERMINAL), event);
    this.#supervisor.flush();
    this.#throwIfHalted();
  }

  /** The task's public status: PENDING, WAITING, RUNNING, COMPLETED, FAILED or CANCELLED. */
  getTaskStatus(id: string): TaskStatus {
    return this.#find(id).status;
  }

  /** The result when COMPLETED, else undefined. */
  getTaskResult(id: string): unknown {
    const record = this.#find(id);
    return record.status === TaskStatus.COMPLETED ? record.result : undefined;
  }

  /** The error when FAILED or CANCELLED, else undefined. */
  getTaskError(id: string): unknown {
    const record = this.#find(id);
    return record.status === TaskStatus.FAILED || record.status === TaskStatus.CANCELLED ? record.error : undefined;
  }

  /** A copy of what the engine knows about the task. */
  getTask(id: string): TaskInfo {
    const record = this.#find(id);
    return toTaskInfo(record, this.#supervisor.waitingOn(record));
  }

  /**
   * Resolves with the task's result, or rejects with its error, at its terminal status (after its status event).
   * An unknown id is a rejected promise, never a throw.
   *
   * @example
   * const csv = await engine.waitForTask<string>(fetchId);
   */
  waitForTask<R = unknown>(id: string): Promise<R> {
    let record: TaskRecord;
    try {
      record = this.#find(id);
    } catch (error) {
      return Promise.reject(error); // a promise-returning verb refuses by rejecting, never by throwing
    }
    const halted = this.#supervisor.halted;
    if (halted !== undefined && !record.settled) return Promise.reject(halted);
    return record.wait() as Promise<R>;
  }

  /**
   * Runs a terminal task's remaining disposers, then forgets it.
   * A task that is not terminal, or an unknown id, is a rejected promise.
   *
   * @example
   * await engine.waitForTask(id).catch(() => undefined);
   * await engine.cleanupTask(id);
   */
  async cleanupTask(id: string): Promise<void> {
    // Checked on the call (an async function: a refusal is a rejected promise), before the first await.
    const record = this.#find(id);
    if (!isTerminal(record.status)) {
      throw new InvalidTransitionError(record, 'cleanupTask', record.status, 'COMPLETED, FAILED or CANCELLED');
    }
    // A durable outcome not yet on disk: its events and waiters go first (they wait for the tick's commit).
    if (!record.settled && this.#supervisor.halted === undefined) await record.wait().catch(() => undefined);
    await record.disposal;
    this.#supervisor.forget(record);
  }

  /**
   * Registers a disposer run once when the task reaches its terminal status (last registered, first run).
   *
   * @example
   * const socket = openSocket();
   * engine.registerResource(id, () => socket.close());
   */
  registerResource(id: string, dispose: () => void | Promise<void>): void {
    if (typeof dispose !== 'function') throw invalid('dispose', 'a function', dispose);
    const record = this.#find(id);
    if (this.#supervisor.halted !== undefined) throw this.#supervisor.halted;
    if (isTerminal(record.status)) throw new InvalidTransitionError(record, 'registerResource', record.status, NON_TERMINAL);
    this.#supervisor.addDisposer(record, dispose);
  }

  /**
   * Names a task function, for `registerTask({ handler: name })`: the form durable and remote tasks need.
   *
   * @example
   * engine.defineTask('download', async (ctx, url: string) => fetchToDisk(url, ctx.signal));
   * engine.registerTask({ name: 'download a.csv', handler: 'download', args: ['https://example.com/a.csv'] });
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  defineTask<A extends unknown[] = any[], R = unknown>(name: string, fn: TaskFunction<A, R>): void {
    if (typeof name !== 'string' || name.length === 0) throw invalid('name', 'a non-empty string', name);
    if (typeof fn !== 'function') throw invalid('fn', 'a function', fn);
    if (this.#supervisor.handlers.has(name)) {
      throw new InvalidOptionError('name', `A task named \`${name}\` is already defined with defineTask()`);
    }
    this.#supervisor.handlers.set(name, fn as TaskFunction);
  }

  /**
   * With a store: reloads every task the store holds (all but those cleaned up) and resumes the
   * started ones; see {@link RestoreReport}. Call it once, after the `defineTask` calls (a handler
   * not defined by then fails its tasks) and before registering or starting tasks. Without a store,
   * or with an empty one, it restores nothing.
   *
   * @example
   * const engine = new TaskEngine({ store: new SqliteStore({ path: 'tasks.db' }) });
   * engine.defineTask('download', download);
   * const report = await engine.restore(); // { restored, finished, pending, resumed, retrying, interrupted, reattached, unrunnable }
   */
  async restore(options?: RestoreOptions): Promise<RestoreReport> {
    const refuse = readingInput('options', () => resolveRestoreOptions(options));
    this.#assertAccepting('restore');
    if (this.#restored || this.#supervisor.records.size > 0) {
      throw new TaskChartError(
        ErrorCode.INVALID_TRANSITION,
        'Cannot restore(): call it once, before registering or starting tasks' +
          (this.#restored ? ' (it was already called)' : ' (tasks are already registered)'),
      );
    }
    this.#restored = true;
    if (this.#durability === undefined || this.#storedTasks === 0) {
      return { restored: 0, finished: 0, pending: 0, resumed: 0, retrying: 0, interrupted: 0, rerunFree: 0, reattached: 0, unrunnable: 0 };
    }
    let report: RestoreReport;
    try {
      report = restoreFrom(this.#resolvedStore(), this.#durability, this.#supervisor, this.#specEnvironment, refuse);
    } catch (error) {
      if (error instanceof InvalidOptionError && error.field === 'unrunnable') {
        this.#restored = false; // nothing changed: define the missing handlers and call restore() again
        throw error;
      }
      // A store that cannot be read back is not one to write new tasks next to.
      this.#supervisor.halt(error as Error);
      throw error;
    }
    // What restoring decided (interrupted attempts counted, unrunnable tasks failed) is on disk before restore() resolves.
    this.#supervisor.flush();
    this.#throwIfHalted();
    return report;
  }

  /**
   * Resolves when nothing is RUNNING, queued or in backoff (WAITING tasks wait only on never-started ones, which a
   * `stalled` event reports).
   *
   * @example
   * engine.startTasks(ids);
   * await engine.onIdle();
   */
  onIdle(): Promise<void> {
    return this.#supervisor.onIdle();
  }

  /**
   * Counts by status, running, queued, in backoff and finished tasks, and mean wait and run times.
   *
   * @example
   * const { running, queued, meanRunTime } = engine.getStats();
   */
  getStats(): TaskStats {
    return this.#stats.snapshot();
  }

  /**
   * Installs an instrumentation (taskchart/otel's `instrument`); one at a time. Not part of the public API.
   * @internal
   */
  [INSTRUMENT](instrumentation: Instrumentation): InstrumentationHost {
    const supervisor = this.#supervisor;
    if (supervisor.instrumentation !== undefined) {
      throw new InvalidOptionError(
        'engine',
        'Expected an engine that is not instrumented yet, but it is: call uninstrument() on the first instrument() before instrumenting it again',
      );
    }
    supervisor.instrumentation = instrumentation;
    return {
      events: this.#stream.observable,
      now: this.#now,
      stats: () => this.#stats.snapshot(),
      heldByLimiter: () => supervisor.heldByLimiter(),
      detach: () => {
        if (supervisor.instrumentation === instrumentation) supervisor.instrumentation = undefined;
      },
    };
  }

  /**
   * Empties the results cache (`cache` on task specs): the in-memory one, and a durable engine's in its store.
   * Tasks that completed from it keep their results.
   *
   * @example
   * engine.clearCache(); // the next run of the pipeline calls the LLM again
   */
  clearCache(): void {
    this.#assertAccepting('clearCache');
    this.#supervisor.clearCache();
  }

  /**
   * Stops accepting work, cancels (or drains, or suspends) tasks, waits for disposers,
   * frees workers and timers. Idempotent: later calls return the same promise.
   *
   * @example
   * process.once('SIGTERM', () => void engine.shutdown({ mode: 'drain' }));
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    let mode: ShutdownMode;
    try {
      mode = readingInput('options', () => resolveShutdownMode(options, this.#durability !== undefined));
    } catch (error) {
      return Promise.reject(error); // refused by rejecting, never by throwing
    }
    if (this.#shutdown !== undefined) return this.#shutdown;
    this.#lifecycle.send({ type: 'SHUTDOWN', mode });
    if (mode === 'cancel') {
      this.#cancelAll();
      this.#supervisor.flush();
    }
    if (mode === 'suspend')
      this.#supervisor.suspend(
        new EngineShutDownError('waitForTask', 'the engine was suspended; the task resumes after restore() in the next process'),
      );
    this.#shutdown = (async () => {
      if (mode === 'drain') {
        await this.#supervisor.onIdle();
        this.#cancelAll();
        this.#supervisor.flush();
      }
      await this.#supervisor.settleDisposals();
      await this.#supervisor.closeExecutors();
      this.#supervisor.stopTimers();
      const storeFailure = this.#closeStore();
      this.#lifecycle.send({ type: 'STOPPED' });
      this.#stream.complete();
      // Everything is stopped and freed either way; the caller still learns that the last writes were lost.
      if (storeFailure !== undefined) throw storeFailure;
    })();
    return this.#shutdown;
  }

  /** Writes what is still pending (progress, deletions) and closes the store; the error, if either failed. */
  #closeStore(): Error | undefined {
    const durability = this.#durability;
    if (durability === undefined) return undefined;
    let failure: Error | undefined;
    if (this.#supervisor.halted === undefined) {
      try {
        durability.commit();
      } catch (error) {
        failure = error as Error;
        this.#supervisor.halt(failure);
      }
    }
    try {
      durability.close();
    } catch (error) {
      failure ??=
        error instanceof StoreError
          ? error
          : new StoreError(`The store could not be closed: ${(error as Error)?.message}`, { cause: error });
    }
    return failure;
  }

  #resolvedStore() {
    return (this.#durability as Durability).store;
  }

  #cancelAll(): void {
    this.#supervisor.cancelAll((record) => new TaskCancelledError(record, 'the engine shut down'));
  }

  #register(specs: readonly unknown[], verb: string): string[] {
    this.#assertAccepting(verb);
    if (this.#storedTasks > 0 && !this.#restored) {
      throw new StoreError(
        `Cannot ${verb}: the store holds ${this.#storedTasks} task(s) from an earlier process; call engine.restore() first (after defineTask), then register new tasks`,
      );
    }
    return this.#supervisor.addBatch(resolveBatch(specs, this.#supervisor, this.#specEnvironment));
  }

  /** A verb whose change the store could not write fails with the StoreError (the engine has stopped). */
  #throwIfHalted(): void {
    const halted = this.#supervisor.halted;
    if (halted instanceof StoreError) throw halted;
  }

  #assertAccepting(verb: string): void {
    if (this.#supervisor.halted instanceof StoreError) throw this.#supervisor.halted;
    // The lifecycle machine is flat: its value is the state's name (cheaper than `matches`, on every verb).
    if (this.#lifecycle.getSnapshot().value !== 'accepting') throw new EngineShutDownError(verb);
  }

  #find(id: string): TaskRecord {
    if (typeof id !== 'string') throw invalid('id', 'a task id (string)', id);
    const record = this.#supervisor.records.get(id);
    if (record === undefined) throw new TaskNotFoundError(id);
    return record;
  }

  /** The task, if its statechart accepts `event` now; else ERR_INVALID_TRANSITION naming verb and state. */
  #require(id: string, verb: string, event: TaskMachineEvent, allowed: string): TaskRecord {
    const record = this.#find(id);
    const halted = this.#supervisor.halted;
    if (halted !== undefined) throw halted instanceof StoreError ? halted : new EngineShutDownError(verb);
    if (!this.#supervisor.can(record, event)) {
      const detail = record.status === TaskStatus.PENDING && record.state !== 'pending' ? ' (started, not yet running)' : '';
      throw new InvalidTransitionError(record, verb, `${record.status}${detail}`, allowed);
    }
    return record;
  }
}

function storableResult(task: TaskRef, result: unknown): Uint8Array {
  try {
    return encodeResult(result);
  } catch (error) {
    const where = findUncloneable(result, 'result') ?? (error as Error).message;
    throw new InvalidOptionError(
      'result',
      `Expected the \`result\` of durable task ${taskLabel(task)} to be storable data (structured-cloneable), but ${where}`,
      { cause: error },
    );
  }
}
