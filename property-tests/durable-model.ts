/**
 * The durable-engine property's data and model: a scenario (a DAG of durable
 * tasks, registration batches, and the life of each process: how long it ran,
 * step by step, and whether it crashed or suspended), the value each task must
 * compute from its dependencies, what is on disk after each commit, and the
 * final outcome each task's history allows. An attempt RUNNING when its process
 * died re-runs free of maxRetries `maxInterruptions` times (default 1), then
 * counts as failed; a task's heartbeat details (its checkpoint) are committed
 * with the group commit and handed to its next attempt, in the next process too.
 *
 * Plans are plain data (no functions), generated raw and mapped (never
 * chained), so fast-check prints and shrinks them: dependencies are offsets
 * back from a task's own index, batch cuts are reduced modulo the task count.
 */
import fc from 'fast-check';
import { deserialize } from 'node:v8';
import { TaskPriority } from '../src/index.js';
import { PRIORITIES, dependenciesAt, dependencyOffsetsArb, taskId } from './arbitraries.js';
import type { StoreBatch, TaskStateRow } from '../src/store/task-store.js';

/**
 * What a task's handler does on attempt n (each attempt takes `duration` ms of simulated time):
 * - `succeed`: returns the value computed from its dependencies' results;
 * - `flaky`: attempts 1..failures throw a retryable Error, later ones succeed;
 * - `non-retryable`: throws NonRetryableError (no retry whatever maxRetries says);
 * - `hang`: never settles by itself; ends by its timeout (always set), rejecting once its signal aborts.
 */
export type Behaviour =
  | { readonly kind: 'succeed' }
  | { readonly kind: 'flaky'; readonly failures: number }
  | { readonly kind: 'non-retryable' }
  | { readonly kind: 'hang' };

export interface DurableTaskPlan {
  readonly id: string;
  readonly index: number;
  readonly priority: TaskPriority;
  /** Ids of earlier tasks only. */
  readonly dependencies: readonly string[];
  readonly behaviour: Behaviour;
  readonly maxRetries: number;
  /** >= 1 ms (a zero backoff on SimulatedClock waits for the next flush, not for time). */
  readonly retryDelay: number;
  /** Simulated ms an attempt takes before it settles; 0: it settles on a microtask. */
  readonly duration: number;
  /** Always set for `hang`; otherwise undefined or longer than `duration`, so only `hang` times out. */
  readonly timeout: number | undefined;
  /** Start order within a process: by rank, then by index. */
  readonly startRank: number;
  /** Interrupted attempts re-run free; undefined: the engine's default ({@link DurableScenario.maxInterruptions}). */
  readonly maxInterruptions: number | undefined;
  /**
   * Heartbeat details (a checkpoint): each odd attempt gives some as it begins, and every attempt halfway through its
   * `duration` (when at least 2 ms, and it is still running); every attempt also beats without details as it begins.
   */
  readonly checkpoints: boolean;
}

/** The free re-runs after interruptions a task has: its own, else the engine's, else 1. */
export function maxInterruptionsOf(plan: DurableTaskPlan, scenario: DurableScenario): number {
  return plan.maxInterruptions ?? scenario.maxInterruptions ?? 1;
}

/** The heartbeat details attempt `attempt` of a task gives in process `process` as it begins or halfway, if any. */
export function checkpointOf(plan: DurableTaskPlan, attempt: number, process: number, at: 'start' | 'halfway'): unknown {
  if (!plan.checkpoints) return undefined;
  if (at === 'halfway') return plan.duration >= 2 ? { task: plan.id, attempt, process, at } : undefined;
  return attempt % 2 === 1 ? { task: plan.id, attempt, process, at } : undefined;
}

/**
 * One scheduling step of a process. A crash or suspend comes right after the last one, synchronously,
 * so it can land between a transition and its commit:
 * - `timer`: let pending callbacks run, then fire the next due timer(s) of the simulated clock;
 * - `advance`: move the clock `ms` forward, one due time at a time, callbacks running between them;
 * - `microtasks`: await `count` microtasks (a commit is queued on one);
 * - `immediate`: await one turn of the event loop (lazy commits run on setImmediate).
 */
export type Step =
  | { readonly kind: 'timer' }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'microtasks'; readonly count: number }
  | { readonly kind: 'immediate' };

/** A process that does not run to the end. */
export interface ProcessPlan {
  /** Simulated ms between the previous process's end and this one's start. */
  readonly downtime: number;
  /** Awaited after each registration batch. */
  readonly batchGap: Step;
  /** When set and more batches are missing, registers only this many, then ends at once (nothing started). */
  readonly registerLimit: number | null;
  readonly steps: readonly Step[];
  readonly end: 'crash' | 'suspend';
}

export interface DurableScenario {
  readonly concurrency: number;
  /** The engine option `maxInterruptions`; undefined: its default (1). */
  readonly maxInterruptions: number | undefined;
  readonly tasks: readonly DurableTaskPlan[];
  /** Registration batches: consecutive slices of `tasks`, each registered with one registerTasks. */
  readonly batches: ReadonlyArray<readonly DurableTaskPlan[]>;
  /** Processes that crash or suspend; then one runs to the end, and a fresh one reads the outcome. */
  readonly processes: readonly ProcessPlan[];
  readonly finalDowntime: number;
  readonly finalBatchGap: Step;
}

const behaviourArb: fc.Arbitrary<Behaviour> = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ kind: 'succeed' as const }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }).map((failures) => ({ kind: 'flaky' as const, failures })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'non-retryable' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'hang' as const }) },
);

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'timer' as const }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 30 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }).map((count) => ({ kind: 'microtasks' as const, count })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'immediate' as const }) },
);

const gapArb: fc.Arbitrary<Step> = fc.oneof(
  fc.integer({ min: 0, max: 3 }).map((count) => ({ kind: 'microtasks' as const, count })),
  fc.constant({ kind: 'immediate' as const }),
);

const processArb: fc.Arbitrary<ProcessPlan> = fc.record({
  downtime: fc.oneof(fc.constant(0), fc.nat({ max: 40 })),
  batchGap: gapArb,
  registerLimit: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat({ max: 2 }) }),
  steps: fc.array(stepArb, { maxLength: 25 }),
  end: fc.constantFrom('crash' as const, 'suspend' as const),
});

interface RawTask {
  readonly priority: TaskPriority;
  /** Distances back: dependency = index - 1 - (offset mod index). */
  readonly dependencyOffsets: readonly number[];
  readonly behaviour: Behaviour;
  readonly maxRetries: number;
  readonly retryDelay: number;
  readonly duration: number;
  /** Extra ms of timeout beyond the duration (or the hang's timeout); null: no timeout unless `hang`. */
  readonly timeoutSlack: number | null;
  readonly startRank: number;
  readonly maxInterruptions: number | undefined;
  readonly checkpoints: boolean;
}

const rawTaskArb: fc.Arbitrary<RawTask> = fc.record({
  priority: fc.constantFrom(...PRIORITIES),
  dependencyOffsets: dependencyOffsetsArb,
  behaviour: behaviourArb,
  maxRetries: fc.integer({ min: 0, max: 2 }),
  retryDelay: fc.integer({ min: 1, max: 20 }),
  duration: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
  timeoutSlack: fc.option(fc.nat({ max: 30 }), { nil: null }),
  startRank: fc.nat({ max: 3 }),
  // Half the time the engine's; none, one or two otherwise.
  maxInterruptions: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined, freq: 2 }),
  checkpoints: fc.boolean(),
});

export { taskId };

function toPlan(raw: RawTask, index: number): DurableTaskPlan {
  const dependencies = dependenciesAt(index, raw.dependencyOffsets);
  const hang = raw.behaviour.kind === 'hang';
  const timeout = hang
    ? 1 + (raw.timeoutSlack ?? raw.retryDelay)
    : raw.timeoutSlack === null
      ? undefined
      : raw.duration + 1 + raw.timeoutSlack;
  return {
    id: taskId(index),
    index,
    priority: raw.priority,
    dependencies: [...dependencies],
    behaviour: raw.behaviour,
    maxRetries: raw.maxRetries,
    retryDelay: raw.retryDelay,
    duration: raw.duration,
    timeout,
    startRank: raw.startRank,
    maxInterruptions: raw.maxInterruptions,
    checkpoints: raw.checkpoints,
  };
}

function toBatches(tasks: readonly DurableTaskPlan[], cuts: readonly number[]): DurableTaskPlan[][] {
  const at = [...new Set(cuts.map((cut) => 1 + (cut % (tasks.length - 1))))].sort((a, b) => a - b);
  const bounds = [0, ...at, tasks.length];
  return bounds.slice(1).map((end, i) => tasks.slice(bounds[i], end));
}

/** 5..40 tasks in 1..3 batches, 0..3 processes that crash or suspend, then one that runs to the end. */
export const durableScenarioArb: fc.Arbitrary<DurableScenario> = fc
  .record({
    concurrency: fc.integer({ min: 1, max: 6 }),
    maxInterruptions: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined, freq: 2 }),
    raws: fc.array(rawTaskArb, { minLength: 5, maxLength: 40, size: 'max' }),
    cuts: fc.array(fc.nat(), { maxLength: 2 }),
    processes: fc.array(processArb, { maxLength: 3, size: 'max' }),
    finalDowntime: fc.nat({ max: 40 }),
    finalBatchGap: gapArb,
  })
  .map(({ concurrency, maxInterruptions, raws, cuts, processes, finalDowntime, finalBatchGap }) => {
    const tasks = raws.map(toPlan);
    return { concurrency, maxInterruptions, tasks, batches: toBatches(tasks, cuts), processes, finalDowntime, finalBatchGap };
  });

// ---- Values --------------------------------------------------------------------

const MODULUS = 1_000_003;

/** What task `index` returns, from its dependencies' results in declared order (so each one matters, and its place). */
export function valueOf(index: number, dependencyValues: readonly number[]): number {
  let value = ((index + 1) * 7919) % MODULUS;
  for (const dependency of dependencyValues) value = (value * 31 + dependency) % MODULUS;
  return value;
}

/** Every task's value when all its dependencies completed. */
export function expectedValues(tasks: readonly DurableTaskPlan[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const task of tasks)
    values.set(
      task.id,
      valueOf(
        task.index,
        task.dependencies.map((id) => values.get(id) as number),
      ),
    );
  return values;
}

/** Whether attempt `attempt` of the task fails by its own behaviour (a hang fails by its timeout). */
export function attemptFails(behaviour: Behaviour, attempt: number): boolean {
  return behaviour.kind !== 'succeed' && (behaviour.kind !== 'flaky' || attempt <= behaviour.failures);
}

// ---- The disk ------------------------------------------------------------------

export interface DiskRow extends Pick<TaskStateRow, 'id' | 'state' | 'attempts' | 'deadline'> {
  /** Of the attempts, those not counted against maxRetries (here: re-runs after an interruption). */
  readonly freeAttempts: number;
  readonly interruptions: number;
  /** The checkpoint, decoded; undefined when none. */
  readonly checkpoint: unknown;
}

/** What the file holds, rebuilt from the batches the store committed (in order, across processes). */
export class DiskModel {
  readonly rows = new Map<string, DiskRow>();

  apply(batch: StoreBatch): void {
    for (const id of batch.deletes) this.rows.delete(id);
    for (const row of [...batch.inserts, ...batch.updates]) {
      this.rows.set(row.id, {
        id: row.id,
        state: row.state,
        attempts: row.attempts,
        deadline: row.deadline,
        freeAttempts: row.freeAttempts ?? 0,
        interruptions: row.interruptions ?? 0,
        checkpoint: row.checkpoint == null ? undefined : deserialize(row.checkpoint),
      });
    }
  }

  /** How many rows are in each machine state. */
  count(state: string): number {
    let n = 0;
    for (const row of this.rows.values()) if (row.state === state) n++;
    return n;
  }
}

// ---- The final outcome ---------------------------------------------------------

/** One call of a task's handler, in some process. */
export interface Execution {
  readonly process: number;
  readonly attempt: number;
  /** Why its signal aborted: a suspend, a halt (the store closed under a crashed process), its timeout, other. */
  abortedBy?: 'suspend' | 'halt' | 'timeout' | 'other';
}

/** A task as the final fresh process restored it. */
export interface Outcome {
  readonly status: string;
  readonly attempts: number;
  /** Interrupted attempts re-run free (getTask().interruptions). */
  readonly interruptions: number;
  readonly result: unknown;
  readonly code: string | undefined;
  readonly message: string | undefined;
}

/**
 * What is wrong with a task's final outcome given its plan, its dependencies' outcomes and every
 * call of its handler; empty when its history explains it.
 */
export function outcomeProblems(
  plan: DurableTaskPlan,
  maxInterruptions: number,
  outcome: Outcome,
  dependencies: ReadonlyArray<Outcome | undefined>,
  executions: readonly Execution[],
  expected: number,
): string[] {
  const problems: string[] = [];
  /** The last counted attempt; interrupted attempts re-run free do not count. */
  const last = plan.maxRetries + 1;
  const n = outcome.attempts;
  const counted = n - outcome.interruptions;
  if (outcome.interruptions > maxInterruptions)
    problems.push(`[interrupted] ${outcome.interruptions} free re-runs after interruptions, maxInterruptions ${maxInterruptions}`);
  if (counted > last) problems.push(`[attempts] ${counted} counted attempts (${n} in all), maxRetries ${plan.maxRetries}`);
  const byAttempt = new Map<number, Execution[]>();
  for (const execution of executions) byAttempt.set(execution.attempt, [...(byAttempt.get(execution.attempt) ?? []), execution]);
  for (const [attempt, runs] of byAttempt) {
    if (attempt < 1 || attempt > n) problems.push(`[attempts] attempt ${attempt} ran, but the task counts ${n}`);
    // A suspended attempt is not counted: its number runs again in the next process. Any other run counts.
    if (runs.slice(0, -1).some((run) => run.abortedBy !== 'suspend')) {
      problems.push(
        `[at most once] attempt ${attempt} ran ${runs.length} times (${runs.map((r) => `process ${r.process}${r.abortedBy ? `, ${r.abortedBy}` : ''}`).join('; ')})`,
      );
    }
  }
  const finalRun = byAttempt.get(n)?.at(-1);
  const ranFinal = finalRun !== undefined && finalRun.abortedBy !== 'suspend';
  const dependencyFailed = dependencies.some((d) => d?.status === 'FAILED');
  if (outcome.status === 'COMPLETED') {
    if (outcome.result !== expected) problems.push(`[result] completed with ${String(outcome.result)}, expected ${expected}`);
    if (!dependencies.every((d) => d?.status === 'COMPLETED')) problems.push('[dependency order] completed although a dependency did not');
    if (attemptFails(plan.behaviour, n)) problems.push(`[outcome] completed by attempt ${n}, which its behaviour fails`);
    if (!ranFinal) problems.push(`[outcome] completed by attempt ${n}, which never ran to its end`);
    return problems;
  }
  if (outcome.status !== 'FAILED') return [...problems, `[terminal] ended ${outcome.status}`];
  const why = `${outcome.code ?? 'no code'} (${outcome.message ?? ''})`;
  switch (outcome.code) {
    case 'ERR_DEPENDENCY_FAILED':
      if (!dependencyFailed) problems.push(`[dependency failure] failed with ${why}, but no dependency failed`);
      if (executions.length > 0) problems.push(`[dependency failure] failed for a dependency, yet ran ${executions.length} time(s)`);
      break;
    case 'ERR_INTERRUPTED':
      // Only once its free re-runs are used up, at its last counted attempt.
      if (counted !== last || outcome.interruptions !== maxInterruptions) {
        problems.push(
          `[interrupted] failed interrupted after ${counted} of ${last} counted attempts, ${outcome.interruptions} of ${maxInterruptions} free re-runs`,
        );
      }
      break;
    case 'ERR_TASK_TIMEOUT':
      if (plan.behaviour.kind !== 'hang' || counted !== last || !ranFinal)
        problems.push(`[outcome] timed out (${plan.behaviour.kind}) after ${counted} of ${last} counted attempts; ran: ${ranFinal}`);
      break;
    case 'ERR_NON_RETRYABLE':
      if (plan.behaviour.kind !== 'non-retryable' || !ranFinal || outcome.message !== `${plan.id} attempt ${n} refuses to retry`) {
        problems.push(`[outcome] failed with ${why} at attempt ${n} (${plan.behaviour.kind}); ran: ${ranFinal}`);
      }
      break;
    default:
      if (
        !attemptFails(plan.behaviour, n) ||
        plan.behaviour.kind !== 'flaky' ||
        counted !== last ||
        !ranFinal ||
        outcome.message !== `${plan.id} attempt ${n} failed`
      ) {
        problems.push(`[outcome] failed with ${why} at attempt ${n} of ${last} (${JSON.stringify(plan.behaviour)}); ran: ${ranFinal}`);
      }
  }
  return problems;
}
