/**
 * The durable engine against crashes, in-process. A random DAG of durable tasks
 * (retries, timeouts, flaky and failing and hanging handlers, priorities) is
 * registered in batches and run by a sequence of "processes" on one SQLite
 * file: each is a fresh engine on its own SimulatedClock that restores, registers
 * the batches the file lacks, starts every never-started task and runs a random
 * number of scheduling steps (timers firing, microtasks, event-loop turns); then it
 * crashes (its store is closed under it: nothing it does afterwards reaches the
 * file, as if its process had died) or suspends. The last one runs to the end,
 * and a fresh one reads the outcome.
 *
 * Checked as it happens: a handler runs only with its RUNNING row and attempt
 * count on disk, its dependencies COMPLETED on disk, and in a live process; a
 * terminal status event or settled waiter only after its row is on disk; at most
 * one terminal event per task per process, events in order; restore() reads back
 * exactly the committed rows (none lost, no torn batch, RUNNING ones interrupted: re-run
 * at once, free, within maxInterruptions, else counted as failed); a suspend leaves no row
 * RUNNING and its attempts uncounted; each attempt's ctx.lastHeartbeat is the checkpoint
 * its task last gave (in this process, else as committed), and a checkpoint is on disk
 * an event-loop turn after its heartbeat, and in every later row of its task. At the end
 * (durable-model.ts):
 * every task in exactly one terminal status its history explains, each result the
 * value computed from its dependencies', each attempt run at most once (a suspended
 * one may run again), none beyond the count, never CANCELLED.
 *
 * A failure names the broken invariant and prints its seed and path; replay it with
 * `TASKCHART_PROPERTY_SEED=<seed> TASKCHART_PROPERTY_PATH=<path> npx vitest run property-tests/durable.test.ts`.
 * Runs: TASKCHART_PROPERTY_RUNS (default DEFAULT_RUNS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  NonRetryableError,
  STATUS_OF_STATE,
  TaskChartError,
  TaskEngine,
  TaskStatus,
  type RestoreReport,
  type RetryEvent,
  type StoreBatch,
  type TaskContext,
  type TaskEvent,
  type TaskRow,
  type TaskStore,
  taskMachine,
} from '../src/index.js';
import { describeMachine } from '../src/monitor/statechart.js';
import { SqliteStore } from '../src/sqlite/index.js';
import { flush } from '../test/helpers.js';
import {
  DiskModel,
  attemptFails,
  checkpointOf,
  maxInterruptionsOf,
  durableScenarioArb,
  expectedValues,
  outcomeProblems,
  valueOf,
  type DurableScenario,
  type DiskRow,
  type DurableTaskPlan,
  type Execution,
  type Outcome,
  type ProcessPlan,
  type Step,
} from './durable-model.js';

const DEFAULT_RUNS = 100;
const numRuns = Number.parseInt(process.env.TASKCHART_PROPERTY_RUNS ?? '', 10) || DEFAULT_RUNS;
const replay =
  process.env.TASKCHART_PROPERTY_SEED === undefined
    ? {}
    : { seed: Number(process.env.TASKCHART_PROPERTY_SEED), path: process.env.TASKCHART_PROPERTY_PATH, endOnFailure: true };

const TERMINAL_STATE: Partial<Record<string, string>> = { COMPLETED: 'completed', FAILED: 'failed', CANCELLED: 'cancelled' };
const TERMINAL_STATE_STATUS: Partial<Record<string, string>> = { completed: 'COMPLETED', failed: 'FAILED', cancelled: 'CANCELLED' };
const isTerminal = (status: string): boolean => TERMINAL_STATE[status] !== undefined;

/** Every `FROM->TO` public status step a transition of the task machine makes (RESTORE included). */
const MACHINE_STEPS: ReadonlySet<string> = (() => {
  const statusOf = (path: string) => STATUS_OF_STATE[path.split('.')[0] as keyof typeof STATUS_OF_STATE];
  const steps = new Set<string>();
  for (const { source, target } of describeMachine(taskMachine).transitions) {
    if (target !== undefined && statusOf(source) !== statusOf(target)) steps.add(`${statusOf(source)}->${statusOf(target)}`);
  }
  return steps;
})();
/** restore() announces a finished task by a status event from PENDING, which no transition makes. */
const RESTORED_STEPS: ReadonlySet<string> = new Set(['PENDING->COMPLETED', 'PENDING->FAILED', 'PENDING->CANCELLED']);

/** A real SqliteStore whose successful commits also update the run's model of the file. */
class ModelStore implements TaskStore {
  readonly #inner: SqliteStore;
  readonly #disk: DiskModel;
  readonly #committed: (batch: StoreBatch) => void;
  constructor(path: string, disk: DiskModel, committed: (batch: StoreBatch) => void) {
    this.#inner = new SqliteStore({ path });
    this.#disk = disk;
    this.#committed = committed;
  }
  open() {
    return this.#inner.open();
  }
  load(): Iterable<TaskRow> {
    return this.#inner.load();
  }
  commit(batch: StoreBatch): void {
    this.#inner.commit(batch);
    this.#disk.apply(batch);
    this.#committed(batch);
  }
  close(): void {
    this.#inner.close();
  }
}

/** One engine on the file, with its own clock: a process. */
interface Proc {
  readonly index: number;
  readonly engine: TaskEngine;
  readonly clock: SimulatedClock;
  readonly store: ModelStore;
  crashed: boolean;
  suspended: boolean;
  restoring: boolean;
  readonly lastStatus: Map<string, string>;
  readonly terminalEvents: Map<string, number>;
  /** Each restored task as its `registered` event found it, before anything happened to it. */
  readonly restored: Map<string, { readonly status: string; readonly attempts: number }>;
  /** Of each restored task's attempts, those not counted against maxRetries (its re-run after this restore included). */
  readonly free: Map<string, number>;
  /** Each task's checkpoint as committed when this process restored it. */
  readonly restoredCheckpoints: Map<string, unknown>;
  /** Each task's last heartbeat details given in this process, and by which attempt. */
  readonly beats: Map<string, { readonly attempt: number; readonly details: unknown }>;
}

/** The due time of the clock's next timer (XState's SimulatedClock keeps them in `timeouts`). */
function nextDue(clock: SimulatedClock): number | undefined {
  let next: number | undefined;
  for (const { start, timeout } of (clock as unknown as { timeouts: Map<unknown, { start: number; timeout: number }> }).timeouts.values()) {
    next = Math.min(next ?? Infinity, start + timeout);
  }
  return next;
}

/** Whether the engine knows the task (getTask throws ERR_TASK_NOT_FOUND otherwise). */
function knows(engine: TaskEngine, id: string): boolean {
  try {
    engine.getTask(id);
    return true;
  } catch {
    return false;
  }
}

function codeOf(value: unknown): string | undefined {
  return value instanceof TaskChartError ? value.code : undefined;
}

class DurableRun {
  readonly violations: string[] = [];
  readonly #scenario: DurableScenario;
  readonly #dir = mkdtempSync(join(tmpdir(), 'taskchart-durable-property-'));
  readonly #path = join(this.#dir, 'tasks.db');
  readonly #disk = new DiskModel();
  readonly #plans = new Map<string, DurableTaskPlan>();
  readonly #executions = new Map<string, Execution[]>();
  readonly #history = new Map<string, string[]>();
  /** `id#attempt` -> when the backoff before that attempt ends, from the latest retry event. */
  readonly #retryDue = new Map<string, number>();
  readonly #expected: Map<string, number>;
  readonly #procs: Proc[] = [];
  #time = 1_000_000;

  constructor(scenario: DurableScenario) {
    this.#scenario = scenario;
    this.#expected = expectedValues(scenario.tasks);
    for (const plan of scenario.tasks) {
      this.#plans.set(plan.id, plan);
      this.#executions.set(plan.id, []);
      this.#history.set(plan.id, []);
    }
  }

  async run(): Promise<void> {
    try {
      for (const plan of this.#scenario.processes) {
        await this.#interruptedProcess(plan);
        if (this.violations.length > 0) return;
      }
      await this.#lastProcess();
      if (this.violations.length === 0) await this.#checkOutcome();
    } finally {
      for (const proc of this.#procs) proc.store.close();
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }

  // ---- Processes -------------------------------------------------------

  async #interruptedProcess(plan: ProcessPlan): Promise<void> {
    const proc = await this.#begin(plan.downtime);
    // A process that registered only some batches still starts what it has and runs: a dependent may then start
    // while its dependency's outcome waits for its commit.
    await this.#register(proc, plan.batchGap, plan.registerLimit);
    this.#startAll(proc);
    for (const step of plan.steps) {
      const beats = new Map(proc.beats);
      await this.#step(proc, step);
      this.#checkStats(proc);
      if (step.kind !== 'microtasks') this.#checkCheckpointsWritten(proc, beats);
    }
    if (plan.end === 'crash') this.#crash(proc);
    else await this.#suspend(proc);
    this.#time = proc.clock.now();
  }

  /** Runs to the end: fires timers one due time at a time until onIdle resolves; every task must be terminal then. */
  async #lastProcess(): Promise<void> {
    const proc = await this.#begin(this.#scenario.finalDowntime);
    await this.#register(proc, this.#scenario.finalBatchGap, null);
    this.#startAll(proc);
    let idle = false;
    void proc.engine.onIdle().then(() => (idle = true));
    for (let guard = 0; !idle; guard++) {
      await flush();
      const next = nextDue(proc.clock);
      if (idle || next === undefined || guard > 10_000) break;
      proc.clock.set(Math.max(next, proc.clock.now()));
    }
    this.#checkStats(proc);
    if (!idle) this.#violate('liveness', undefined, `onIdle() never resolved; timers left: ${nextDue(proc.clock) ?? 'none'}`);
    for (const plan of this.#scenario.tasks) {
      const status = proc.engine.getTaskStatus(plan.id);
      if (!isTerminal(status)) this.#violate('liveness', plan.id, `${status} when the last process is idle`);
    }
    await this.#suspend(proc);
    this.#checkFinalCheckpoints(proc);
    this.#time = proc.clock.now();
  }

  /** After the last process suspended, each task's checkpoint on disk is the last it gave (there, or before it). */
  #checkFinalCheckpoints(proc: Proc): void {
    for (const plan of this.#scenario.tasks) {
      const expected = proc.beats.has(plan.id) ? proc.beats.get(plan.id)?.details : proc.restoredCheckpoints.get(plan.id);
      const row = this.#disk.rows.get(plan.id);
      if (row !== undefined && !sameData(row.checkpoint, expected))
        this.#violate('checkpoint', plan.id, `on disk at the end: ${show(row.checkpoint)}, last given: ${show(expected)}`);
    }
  }

  /** A committed row carries the task's last checkpoint of this process once that attempt is over (or a later one runs). */
  #checkCommittedCheckpoints(beats: Proc['beats'], batch: StoreBatch): void {
    for (const row of [...batch.inserts, ...batch.updates]) {
      const beat = beats.get(row.id);
      if (beat === undefined || (row.state === 'running' && row.attempts <= beat.attempt)) continue;
      const committed = this.#disk.rows.get(row.id)?.checkpoint;
      if (!sameData(committed, beat.details)) {
        this.#violate(
          'checkpoint',
          row.id,
          `committed ${row.state} (attempt ${row.attempts}) with checkpoint ${show(committed)}; attempt ${beat.attempt} gave ${show(beat.details)}`,
        );
      }
    }
  }

  async #begin(downtime: number): Promise<Proc> {
    const index = this.#procs.length;
    const clock = new SimulatedClock();
    clock.set(this.#time + downtime);
    const beats: Proc['beats'] = new Map();
    const store = new ModelStore(this.#path, this.#disk, (batch) => this.#guard(() => this.#checkCommittedCheckpoints(beats, batch)));
    const { maxInterruptions } = this.#scenario;
    const engine = new TaskEngine({
      clock,
      now: () => clock.now(),
      concurrency: this.#scenario.concurrency,
      store,
      ...(maxInterruptions !== undefined && { maxInterruptions }),
    });
    const proc: Proc = {
      index,
      engine,
      clock,
      store,
      crashed: false,
      suspended: false,
      restoring: false,
      lastStatus: new Map(),
      terminalEvents: new Map(),
      restored: new Map(),
      free: new Map(),
      restoredCheckpoints: new Map(),
      beats,
    };
    this.#procs.push(proc);
    engine.events.subscribe((event) => this.#guard(() => this.#onEvent(proc, event)));
    engine.defineTask('work', (ctx: TaskContext, taskIndex: number) => this.#attempt(proc, ctx, taskIndex));
    if (index > 0) await this.#restore(proc);
    return proc;
  }

  /** Registers the batches the file lacks (at most `limit` of them); true when none is left missing. */
  async #register(proc: Proc, gap: Step, limit: number | null): Promise<boolean> {
    const missing = this.#scenario.batches.filter((batch) => !batch.some((plan) => knows(proc.engine, plan.id)));
    let registered = 0;
    for (const batch of missing) {
      if (limit !== null && registered === limit) return false;
      this.#guard(() => proc.engine.registerTasks(batch.map((plan) => this.#spec(plan))));
      for (const plan of batch) this.#log(plan.id, `p${proc.index} registered`);
      registered++;
      await this.#step(proc, gap);
    }
    return true;
  }

  #startAll(proc: Proc): void {
    const order = [...this.#scenario.tasks].sort((a, b) => a.startRank - b.startRank || a.index - b.index);
    for (const plan of order) {
      if (!knows(proc.engine, plan.id) || proc.engine.getTask(plan.id).state !== 'pending') continue;
      this.#guard(() => proc.engine.startTask(plan.id));
      this.#log(plan.id, `p${proc.index} started`);
    }
    for (const plan of this.#scenario.tasks) if (knows(proc.engine, plan.id)) this.#watch(proc, plan.id);
  }

  async #step(proc: Proc, step: Step): Promise<void> {
    const clock = proc.clock;
    switch (step.kind) {
      case 'timer': {
        await flush();
        const next = nextDue(clock);
        if (next !== undefined) clock.set(Math.max(next, clock.now()));
        return;
      }
      case 'advance': {
        const target = clock.now() + step.ms;
        for (;;) {
          await flush();
          const next = nextDue(clock);
          if (next === undefined || next >= target) {
            clock.set(target);
            return;
          }
          clock.set(Math.max(next, clock.now()));
        }
      }
      case 'microtasks':
        for (let i = 0; i < step.count; i++) await Promise.resolve();
        return;
      case 'immediate':
        await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The process dies: its store closes under it, so nothing it does afterwards reaches the file. */
  #crash(proc: Proc): void {
    proc.crashed = true;
    proc.store.close();
    for (const plan of this.#scenario.tasks) this.#log(plan.id, `p${proc.index} crashed @${proc.clock.now()}`);
  }

  /** shutdown({ mode: 'suspend' }): no row left RUNNING; each aborted attempt written back uncounted. */
  async #suspend(proc: Proc): Promise<void> {
    proc.suspended = true;
    try {
      await proc.engine.shutdown({ mode: 'suspend' });
    } catch (error) {
      this.#violate('suspend', undefined, `shutdown({ mode: 'suspend' }) rejected with ${show(error)}`);
    }
    for (const row of this.#disk.rows.values()) {
      if (row.state === 'running') this.#violate('suspend', row.id, `left RUNNING on disk (attempt ${row.attempts}) by a suspend`);
    }
    for (const [id, executions] of this.#executions) {
      for (const execution of executions) {
        if (execution.process !== proc.index || execution.abortedBy !== 'suspend') continue;
        const row = this.#disk.rows.get(id);
        if (row?.state !== 'queued' || row.attempts !== execution.attempt - 1) {
          this.#violate(
            'suspend',
            id,
            `attempt ${execution.attempt} was suspended, and the disk has ${row?.state} with ${row?.attempts} attempts`,
          );
        }
      }
      this.#log(id, `p${proc.index} suspended @${proc.clock.now()}`);
    }
  }

  /** getStats() counts what getTask() says of each task, restored ones included. */
  #checkStats(proc: Proc): void {
    const counts: Record<string, number> = { PENDING: 0, WAITING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 };
    let queued = 0;
    let retrying = 0;
    for (const plan of this.#scenario.tasks) {
      if (!knows(proc.engine, plan.id)) continue;
      const { status, state } = proc.engine.getTask(plan.id);
      counts[status] = (counts[status] ?? 0) + 1;
      if (state === 'queued') queued++;
      if (state === 'retrying') retrying++;
    }
    const stats = proc.engine.getStats();
    const actual = JSON.stringify({ counts: stats.counts, queued: stats.queued, retrying: stats.retrying });
    const expected = JSON.stringify({ counts, queued, retrying });
    if (actual !== expected) this.#violate('stats', undefined, `process ${proc.index}: getStats ${actual}, getTask says ${expected}`);
  }

  // ---- Restore ---------------------------------------------------------

  /** restore() brings back exactly what was committed: every row, none torn, RUNNING ones interrupted. */
  async #restore(proc: Proc): Promise<void> {
    const committed = new Map([...this.#disk.rows].map(([id, row]) => [id, { ...row }]));
    for (const row of committed.values()) {
      proc.restoredCheckpoints.set(row.id, row.checkpoint);
      proc.free.set(row.id, row.freeAttempts + (this.#rerunsFree(row) ? 1 : 0));
    }
    proc.restoring = true;
    try {
      this.#checkReport(await proc.engine.restore(), [...committed.values()]);
    } catch (error) {
      this.#violate('restore', undefined, `restore() threw ${show(error)}`);
      return;
    } finally {
      proc.restoring = false;
    }
    const known = new Set(this.#scenario.tasks.filter((plan) => knows(proc.engine, plan.id)).map((plan) => plan.id));
    for (const batch of this.#scenario.batches) {
      const present = batch.filter((plan) => known.has(plan.id)).length;
      if (present !== 0 && present !== batch.length)
        this.#violate('torn batch', undefined, `${present} of ${batch.length} tasks of a batch restored`);
    }
    for (const plan of this.#scenario.tasks) {
      const row = committed.get(plan.id);
      if (row === undefined || !known.has(plan.id)) {
        if (row !== undefined) this.#violate('lost', plan.id, `committed as ${row.state}, missing after restore()`);
        else if (known.has(plan.id)) this.#violate('restore', plan.id, 'restored although never committed');
        continue;
      }
      const info = proc.restored.get(plan.id);
      this.#log(plan.id, `p${proc.index} restored ${row.state}/${row.attempts} as ${info?.status}/${info?.attempts}`);
      const status = TERMINAL_STATE_STATUS[row.state] ?? TaskStatus.PENDING;
      if (info?.attempts !== row.attempts || info.status !== status) {
        this.#violate(
          'restore',
          plan.id,
          `committed ${row.state} with ${row.attempts} attempts, announced as ${info?.status} with ${info?.attempts}`,
        );
      }
      if (row.state === 'running') this.#checkInterrupted(proc, plan, row);
    }
  }

  /** A RUNNING row whose task has free re-runs after interruptions left: its attempt runs again, not counted. */
  #rerunsFree(row: DiskRow): boolean {
    const plan = this.#plans.get(row.id);
    return row.state === 'running' && plan !== undefined && row.interruptions < maxInterruptionsOf(plan, this.#scenario);
  }

  /**
   * A RUNNING row's attempt re-runs at once (a retry with no backoff), free, within the task's maxInterruptions;
   * past them it counts as failed: the task waits out a backoff, or FAILS with ERR_INTERRUPTED after its last attempt.
   */
  #checkInterrupted(proc: Proc, plan: DurableTaskPlan, row: DiskRow): void {
    const { state, error, interruptions } = proc.engine.getTask(plan.id);
    const free = this.#rerunsFree(row);
    const last = !free && row.attempts - row.freeAttempts > plan.maxRetries;
    const expected = free ? row.interruptions + 1 : row.interruptions;
    if ((last ? state !== 'failed' || codeOf(error) !== 'ERR_INTERRUPTED' : state !== 'retrying') || interruptions !== expected) {
      this.#violate(
        'interrupted',
        plan.id,
        `RUNNING on disk at attempt ${row.attempts} (${row.freeAttempts} free) of ${plan.maxRetries + 1} after ${row.interruptions} ` +
          `interruptions (maxInterruptions ${maxInterruptionsOf(plan, this.#scenario)}), restored ${state} after ${interruptions} (${show(error)})`,
      );
    }
  }

  /** The report counts the committed rows by state. */
  #checkReport(report: RestoreReport, rows: readonly DiskRow[]): void {
    const count = (...states: string[]) => rows.filter((row) => states.includes(row.state)).length;
    const expected: RestoreReport = {
      restored: rows.length,
      finished: count('completed', 'failed', 'cancelled'),
      pending: count('pending'),
      resumed: count('waiting', 'queued', 'retrying'),
      retrying: count('retrying'),
      interrupted: count('running'),
      rerunFree: rows.filter((row) => this.#rerunsFree(row)).length,
      reattached: 0, // no remote executor in this model
      unrunnable: 0,
    };
    if (JSON.stringify(report) !== JSON.stringify(expected)) {
      this.#violate('restore', undefined, `report ${JSON.stringify(report)}, the committed rows say ${JSON.stringify(expected)}`);
    }
  }

  // ---- Handlers --------------------------------------------------------

  #spec(plan: DurableTaskPlan) {
    return {
      id: plan.id,
      name: plan.id,
      handler: 'work',
      args: [plan.index],
      priority: plan.priority,
      dependencies: [...plan.dependencies],
      maxRetries: plan.maxRetries,
      retryDelay: plan.retryDelay,
      timeout: plan.timeout,
      ...(plan.maxInterruptions !== undefined && { maxInterruptions: plan.maxInterruptions }),
    };
  }

  /** The `work` handler: checks when it is called, then behaves as planned on the process's clock. */
  #attempt(proc: Proc, ctx: TaskContext, taskIndex: number): Promise<number> {
    const plan = this.#scenario.tasks[taskIndex] as DurableTaskPlan;
    const execution: Execution = { process: proc.index, attempt: ctx.attempt };
    this.#executions.get(plan.id)?.push(execution);
    this.#log(plan.id, `p${proc.index} runs attempt ${ctx.attempt} @${proc.clock.now()}`);
    this.#guard(() => this.#checkCall(proc, plan, ctx));
    this.#checkpoint(proc, plan, ctx);
    ctx.progress(0.5, `attempt ${ctx.attempt} under way`); // a lazy write, on setImmediate, between the soon ones
    const signal = ctx.signal;
    signal.addEventListener('abort', () => {
      const code = codeOf(signal.reason);
      execution.abortedBy =
        code === 'ERR_ENGINE_SHUT_DOWN' ? 'suspend' : code === 'ERR_STORE' ? 'halt' : code === 'ERR_TASK_TIMEOUT' ? 'timeout' : 'other';
      this.#log(plan.id, `p${proc.index} attempt ${ctx.attempt} aborted (${execution.abortedBy})`);
    });
    if (plan.behaviour.kind === 'hang') {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    }
    const settle = (): number => {
      if (plan.behaviour.kind === 'non-retryable') throw new NonRetryableError(`${plan.id} attempt ${ctx.attempt} refuses to retry`);
      if (attemptFails(plan.behaviour, ctx.attempt)) throw new Error(`${plan.id} attempt ${ctx.attempt} failed`);
      return valueOf(
        plan.index,
        plan.dependencies.map((id) => proc.engine.getTaskResult(id) as number),
      );
    };
    if (plan.duration === 0) return Promise.resolve().then(settle);
    return new Promise<void>((resolve) => proc.clock.setTimeout(resolve, plan.duration)).then(settle);
  }

  /**
   * The attempt sees its task's last checkpoint (given in this process, else as restored), then gives its own
   * (durable-model.ts, checkpointOf): as it begins, and halfway through when it is still running; every attempt also
   * beats without details as it begins (which keeps the checkpoint).
   */
  #checkpoint(proc: Proc, plan: DurableTaskPlan, ctx: TaskContext): void {
    const expected = proc.beats.has(plan.id) ? proc.beats.get(plan.id)?.details : proc.restoredCheckpoints.get(plan.id);
    if (!sameData(ctx.lastHeartbeat, expected)) {
      this.#violate(
        'checkpoint',
        plan.id,
        `attempt ${ctx.attempt} got ctx.lastHeartbeat ${show(ctx.lastHeartbeat)}, expected ${show(expected)}`,
      );
    }
    const beat = (details: unknown): void => {
      ctx.heartbeat(details);
      proc.beats.set(plan.id, { attempt: ctx.attempt, details });
    };
    const first = checkpointOf(plan, ctx.attempt, proc.index, 'start');
    if (first !== undefined) beat(first);
    ctx.heartbeat();
    const halfway = checkpointOf(plan, ctx.attempt, proc.index, 'halfway');
    if (halfway === undefined) return;
    // Halfway, alone: nothing else of the task changes until the attempt ends, so only the heartbeat's own write
    // can put it on disk before then. An attempt over already (aborted) beats no more.
    proc.clock.setTimeout(
      () => {
        if (!ctx.signal.aborted && !proc.crashed && !proc.suspended) beat(halfway);
      },
      Math.floor(plan.duration / 2),
    );
  }

  /**
   * A checkpoint is written with the group commit: one given before an event-loop turn (with no later one of its
   * task) is on disk after it.
   */
  #checkCheckpointsWritten(proc: Proc, before: ReadonlyMap<string, { readonly attempt: number; readonly details: unknown }>): void {
    for (const [id, beat] of before) {
      if (proc.beats.get(id) !== beat) continue;
      const committed = this.#disk.rows.get(id)?.checkpoint;
      if (!sameData(committed, beat.details)) {
        this.#violate(
          'checkpoint',
          id,
          `attempt ${beat.attempt} gave ${show(beat.details)}; an event-loop turn later the disk has ${show(committed)} (clock ${proc.clock.now()})`,
        );
      }
    }
  }

  /** An attempt runs only in a live process, once its RUNNING row and count are on disk and its dependencies' COMPLETED rows too. */
  #checkCall(proc: Proc, plan: DurableTaskPlan, ctx: TaskContext): void {
    if (proc.crashed || proc.suspended)
      this.#violate('dead process', plan.id, `attempt ${ctx.attempt} ran after its process ${proc.crashed ? 'crashed' : 'suspended'}`);
    if (ctx.id !== plan.id) this.#violate('args', plan.id, `handler called for ${ctx.id} with the args of ${plan.id}`);
    const row = this.#disk.rows.get(plan.id);
    if (row?.state !== 'running' || row.attempts !== ctx.attempt) {
      this.#violate(
        'durability point',
        plan.id,
        `attempt ${ctx.attempt} ran with ${row?.state ?? 'no row'} (${row?.attempts} attempts) on disk`,
      );
    }
    const due = this.#retryDue.get(`${plan.id}#${ctx.attempt}`);
    if (due !== undefined && proc.clock.now() < due)
      this.#violate('backoff', plan.id, `attempt ${ctx.attempt} ran at ${proc.clock.now()}, before its backoff ended at ${due}`);
    for (const id of plan.dependencies) {
      const status = proc.engine.getTaskStatus(id);
      const state = this.#disk.rows.get(id)?.state;
      if (status !== TaskStatus.COMPLETED || state !== 'completed')
        this.#violate('dependency order', plan.id, `ran with dependency ${id} ${status} (${state ?? 'absent'} on disk)`);
    }
  }

  // ---- Events and waiters ----------------------------------------------

  #onEvent(proc: Proc, event: TaskEvent): void {
    if (event.type === 'registered') {
      if ((event.restored === true) !== proc.restoring)
        this.#violate('events', event.taskId, `registered event with restored: ${event.restored}`);
      proc.lastStatus.set(event.taskId, TaskStatus.PENDING);
      if (event.restored === true) {
        const info = proc.engine.getTask(event.taskId);
        proc.restored.set(event.taskId, { status: info.status, attempts: info.attempts });
      }
    } else if (event.type === 'status') {
      this.#onStatus(proc, event.taskId, event.previous, event.status);
    } else if (event.type === 'retry') {
      this.#onRetry(proc, event);
    } else if (event.type === 'store-error') {
      if (!proc.crashed) this.#violate('store', event.taskId, `store-error in a live process: ${show(event.error)}`);
    } else if (event.type === 'resource-error') {
      this.#violate('events', event.taskId, `resource-error: ${show(event.error)}`);
    }
  }

  #onStatus(proc: Proc, id: string, previous: string, status: string): void {
    this.#log(id, `p${proc.index} @${proc.clock.now()} ${previous}->${status}`);
    const last = proc.lastStatus.get(id);
    if (previous !== last)
      this.#violate('events', id, `status event ${previous}->${status} in process ${proc.index}, whose last status was ${last}`);
    proc.lastStatus.set(id, status);
    const step = `${previous}->${status}`;
    if (!MACHINE_STEPS.has(step) && !(proc.restoring && RESTORED_STEPS.has(step)))
      this.#violate('statechart', id, `status step ${step}${proc.restoring ? ' on restore' : ''}`);
    if (status === TaskStatus.CANCELLED) this.#violate('never cancelled', id, 'CANCELLED, though nothing cancels');
    if (!isTerminal(status)) return;
    const count = (proc.terminalEvents.get(id) ?? 0) + 1;
    proc.terminalEvents.set(id, count);
    if (count > 1) this.#violate('terminal once', id, `${count} terminal status events in process ${proc.index}`);
    if (proc.crashed) this.#violate('dead process', id, `terminal status ${status} reported after its process crashed`);
    this.#checkOnDisk(id, status, `its ${status} event`);
  }

  /**
   * A backoff lasts retryDelay * 2^(n-1) after the n-th counted attempt; restored, what is left of its committed
   * deadline; after an interrupted attempt, none when it re-runs free, else a full backoff from the restore. The next
   * attempt runs no earlier.
   */
  #onRetry(proc: Proc, event: RetryEvent): void {
    const plan = this.#plans.get(event.taskId) as DurableTaskPlan;
    const now = proc.clock.now();
    this.#log(plan.id, `p${proc.index} @${now} retry ${event.attempt} in ${event.delay} ms`);
    // A process that crashed goes on in memory for a while; its retries never run (the next process decides anew).
    if (proc.crashed) return;
    const row = proc.restoring ? this.#disk.rows.get(plan.id) : undefined;
    // The attempts counted so far (against maxRetries): those before the retry, less the free ones.
    const counted = event.attempt - 1 - (proc.free.get(plan.id) ?? 0);
    const expected =
      row?.state === 'retrying'
        ? Math.max(0, (row.deadline ?? now) - now)
        : row !== undefined && this.#rerunsFree(row)
          ? 0
          : plan.retryDelay * 2 ** (counted - 1);
    if (event.delay !== expected || event.timestamp !== now) {
      this.#violate(
        'backoff',
        plan.id,
        `retry event (attempt ${event.attempt}, delay ${event.delay}, at ${event.timestamp}); expected delay ${expected} at ${now}`,
      );
    }
    this.#retryDue.set(`${plan.id}#${event.attempt}`, now + event.delay);
  }

  /** waitForTask settles only once the outcome is on disk (or rejects because the process stopped). */
  #watch(proc: Proc, id: string): void {
    proc.engine.waitForTask(id).then(
      () => this.#checkOnDisk(id, TaskStatus.COMPLETED, 'waitForTask resolved'),
      (error: unknown) => {
        const code = codeOf(error);
        if (code === 'ERR_ENGINE_SHUT_DOWN' && proc.suspended) return;
        if (code === 'ERR_STORE' && proc.crashed) return;
        this.#checkOnDisk(id, TaskStatus.FAILED, `waitForTask rejected with ${show(error)}`);
      },
    );
  }

  #checkOnDisk(id: string, status: string, when: string): void {
    const row = this.#disk.rows.get(id);
    if (row?.state !== TERMINAL_STATE[status]) this.#violate('durability point', id, `${when} with ${row?.state ?? 'no row'} on disk`);
  }

  // ---- The outcome -----------------------------------------------------

  /** A fresh process reads the outcome back; it matches the last process's and each task's history. */
  async #checkOutcome(): Promise<void> {
    const last = this.#procs.at(-1) as Proc;
    const reader = await this.#begin(0);
    const outcomes = new Map<string, Outcome>();
    for (const plan of this.#scenario.tasks) {
      const info = reader.engine.getTask(plan.id);
      const error = info.error as Error | undefined;
      outcomes.set(plan.id, {
        status: info.status,
        attempts: info.attempts,
        interruptions: info.interruptions,
        result: info.result,
        code: codeOf(error),
        message: error?.message,
      });
      const seen = last.engine.getTask(plan.id);
      if (seen.status !== info.status || seen.attempts !== info.attempts || seen.result !== info.result) {
        this.#violate(
          'restore',
          plan.id,
          `the last process ended it ${seen.status}/${seen.attempts}/${String(seen.result)}, the file says ${info.status}/${info.attempts}/${String(info.result)}`,
        );
      }
    }
    for (const plan of this.#scenario.tasks) {
      const outcome = outcomes.get(plan.id) as Outcome;
      const dependencies = plan.dependencies.map((id) => outcomes.get(id));
      const executions = this.#executions.get(plan.id) as Execution[];
      const maxInterruptions = maxInterruptionsOf(plan, this.#scenario);
      const expected = this.#expected.get(plan.id) as number;
      for (const problem of outcomeProblems(plan, maxInterruptions, outcome, dependencies, executions, expected)) {
        this.violations.push(`${problem} ${plan.id}: ${this.#describe(plan)} [${this.#history.get(plan.id)?.join('; ')}]`);
      }
    }
    await this.#suspend(reader);
  }

  // ---- Helpers ---------------------------------------------------------

  #describe(plan: DurableTaskPlan): string {
    return (
      `${JSON.stringify(plan.behaviour)}, maxRetries ${plan.maxRetries}, maxInterruptions ${maxInterruptionsOf(plan, this.#scenario)}, ` +
      `timeout ${plan.timeout}, duration ${plan.duration}, deps [${plan.dependencies.join(', ')}]`
    );
  }

  #log(id: string, entry: string): void {
    this.#history.get(id)?.push(entry);
  }

  #violate(invariant: string, id: string | undefined, message: string): void {
    const history = id === undefined ? '' : ` [${id}: ${this.#history.get(id)?.join('; ')}]`;
    this.violations.push(`[${invariant}] ${id === undefined ? '' : `${id}: `}${message}${history}`);
  }

  /** Runs `act`, turning an unexpected throw into a violation (a subscriber must not throw). */
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
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Two checkpoints hold the same plain data (a checkpoint is a structured clone of what was given). */
function sameData(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

describe('the durable engine across crashes and suspends', () => {
  test.prop([durableScenarioArb], { numRuns, ...replay })(
    'loses no task, runs no attempt twice or uncounted, reports nothing before it is on disk, and ends every task as its history explains',
    async (scenario) => {
      const run = new DurableRun(scenario);
      await run.run();
      expect(run.violations.slice(0, 5), 'invariant violations (first ones)').toEqual([]);
    },
    60_000 + numRuns * 500,
  );
});
