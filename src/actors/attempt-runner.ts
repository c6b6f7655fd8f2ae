/**
 * Runs one attempt of a RUNNING task on its executor and turns the outcome
 * into ATTEMPT_SUCCEEDED / ATTEMPT_FAILED, tagged with the attempt number so
 * a late outcome (the attempt was timed out, cancelled or completed from
 * outside meanwhile) is ignored. Progress and resources reported by an
 * attempt that is over are ignored too (its disposers run at once).
 */
import { ResultNotCloneableError, toError } from '../errors.js';
import { encodeResult } from '../store/codec.js';
import type { AttemptRequest, Executor } from '../executors/executor.js';
import type { TaskMachineEvent } from '../machines/task.machine.js';
import type { DependencyOutcome, TaskFunction } from '../task-spec.js';
import { findUncloneable } from '../wire/cloneable.js';
import { NO_DEPENDENCIES } from '../wire/dependencies.js';
import { checkDisposer, checkpointOf, checkProgress } from '../wire/task-context.js';
import { AttemptContext, type AttemptHost } from './attempt-context.js';
import type { CapacityLedger } from './capacity.js';
import type { ExecutorSlot } from './executor-slots.js';
import type { Disposer, TaskRecord } from './task-record.js';
import type { AttemptScope, Instrumentation } from '../instrumentation.js';

/** What the runner needs from the supervisor. */
export interface RunnerHost {
  readonly records: ReadonlyMap<string, TaskRecord>;
  readonly handlers: ReadonlyMap<string, TaskFunction>;
  /** Sends an event to a live task and carries out the effects. */
  send(record: TaskRecord, event: TaskMachineEvent): void;
  /** An executor slot freed: a queued task may be dispatched now (`now`: outside any send, so drain at once). */
  slotFreed(now: boolean): void;
  addDisposer(record: TaskRecord, dispose: Disposer): void;
  runOrphanDisposer(taskId: string, name: string, dispose: Disposer): void;
  /** The task's dependencies as they stand, for `ctx.dependencies` (dependency-tracker.ts). */
  dependenciesOf(record: TaskRecord): readonly DependencyOutcome[];
  /** A deferred-start executor reports that a worker took attempt `attempt` of the task. */
  started(record: TaskRecord, attempt: number): void;
  /** A deferred-start executor reports that it cannot hand the attempt over now (`error`), or did after all (undefined). */
  unavailable(record: TaskRecord, attempt: number, error: Error | undefined): void;
  /** The engine's instrumentation (taskchart/otel), when it has one. */
  instrumentation(): Instrumentation | undefined;
}

export class AttemptRunner {
  readonly #host: RunnerHost;
  readonly #capacity: CapacityLedger;

  constructor(host: RunnerHost, capacity: CapacityLedger) {
    this.#host = host;
    this.#capacity = capacity;
  }

  /**
   * Runs attempt number `attempt` (`resumed`: handed to the executor by an earlier process), unless it is over
   * already (timed out, cancelled, completed from outside while it waited for its commit).
   */
  execute(record: TaskRecord, attempt: number, resumed: boolean): void {
    const slot = this.#capacity.executors.slot(record.spec.executor);
    if (!isAttemptState(record.state) || record.attempts !== attempt || record.spec.kind === 'external') {
      // External tasks: the caller drives RUNNING; nothing runs here. An attempt that is over: its slot is free.
      this.#release(slot, false);
      return;
    }
    // ctx.dependencies is read on first use: a task without dependencies, or that never looks, pays nothing.
    const dependencies = record.dependencies.length === 0 ? NO_DEPENDENCIES : () => this.#host.dependenciesOf(record);
    const context = new AttemptContext(record.id, record.name, attempt, this.#attemptHost, dependencies, record.long?.checkpoint);
    record.attemptContext = context;
    const spec = record.spec;
    const scope = this.#host
      .instrumentation()
      ?.attemptBegun(record, attempt, { executor: spec.executor, messaging: slot.executor.messaging }, resumed);
    const request: AttemptRequest = {
      taskId: record.id,
      name: record.name,
      attempt,
      args: spec.args,
      fn: spec.fn ?? (spec.handler === undefined ? undefined : this.#host.handlers.get(spec.handler)),
      handler: spec.handler,
      module: spec.module,
      exportName: spec.exportName,
      context,
      whenAborted: (listener) => context.whenAborted(listener),
      transfer: spec.transfer,
      started: () => {
        if (record.attemptContext === context) this.#host.started(record, attempt);
      },
      unavailable: (error) => {
        if (record.attemptContext === context) this.#host.unavailable(record, attempt, error);
      },
      resumed,
      trace: scope?.carrier,
    };
    let outcome: Promise<unknown>;
    try {
      outcome = scope === undefined ? slot.executor.execute(request) : runIn(scope, slot.executor, request);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (result) =>
        this.#ended(
          record,
          attempt,
          slot,
          record.durable ? storedOutcome(record, attempt, result) : { type: 'ATTEMPT_SUCCEEDED', attempt, result },
        ),
      (error: unknown) => this.#ended(record, attempt, slot, { type: 'ATTEMPT_FAILED', attempt, error: toError(error) }),
    );
  }

  #ended(record: TaskRecord, attempt: number, slot: ExecutorSlot, event: TaskMachineEvent): void {
    const current = record.actor !== undefined && isAttemptState(record.state) && record.attempts === attempt;
    this.#release(slot, !current); // a late outcome is ignored, but the executor's slot is free
    if (!current) return;
    // A success whose start was not reported (a missed event): it ran, so it was RUNNING first.
    if (event.type === 'ATTEMPT_SUCCEEDED' && record.state === 'dispatched') this.#host.started(record, attempt);
    this.#host.send(record, event);
  }

  #release(slot: ExecutorSlot, drainNow: boolean): void {
    if (this.#capacity.settled(slot) || drainNow) this.#host.slotFreed(drainNow);
  }

  /** Progress, heartbeats and resources from an attempt's context; those of an attempt that is over are not the task's. */
  readonly #attemptHost: AttemptHost = {
    progress: (context, fraction, message) => {
      checkProgress(fraction, message);
      const record = this.#host.records.get(context.id);
      if (record !== undefined && record.attemptContext === context) {
        this.#host.send(record, { type: 'PROGRESS', progress: fraction, message: message as string | undefined });
      }
    },
    heartbeat: (context, details) => {
      const checkpoint = checkpointOf(details);
      const record = this.#host.records.get(context.id);
      if (record !== undefined && record.attemptContext === context) this.#host.send(record, { type: 'HEARTBEAT', details: checkpoint });
    },
    registerResource: (context, dispose) => {
      checkDisposer(dispose);
      const record = this.#host.records.get(context.id);
      if (record !== undefined && record.attemptContext === context) this.#host.addDisposer(record, dispose);
      else this.#host.runOrphanDisposer(context.id, context.name, dispose);
    },
  };
}

/** The executor's `execute` with the attempt's trace context active (an instrumented engine). */
function runIn(scope: AttemptScope, executor: Executor, request: AttemptRequest): Promise<unknown> {
  return scope.run(() => executor.execute(request));
}

/** States in which an attempt is with its executor: `dispatched` (deferred-start executors, not yet taken) and `running`. */
function isAttemptState(state: TaskRecord['state']): boolean {
  return state === 'running' || state === 'dispatched';
}

/** A durable task's success, with its result encoded for the store; a result the store cannot keep fails the task instead. */
function storedOutcome(record: TaskRecord, attempt: number, result: unknown): TaskMachineEvent {
  try {
    const stored = encodeResult(result);
    if (record.attempts === attempt) record.storedResult = stored;
    return { type: 'ATTEMPT_SUCCEEDED', attempt, result };
  } catch (cause) {
    const where = findUncloneable(result, 'result') ?? (cause as Error).message;
    const error = new ResultNotCloneableError(record, 'structured-cloneable data, which the store can keep (a durable task)', where, {
      cause,
    });
    return { type: 'ATTEMPT_FAILED', attempt, error };
  }
}
