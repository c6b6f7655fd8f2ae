/**
 * The one place that decides what a task's dependencies tell it: how those that had ended before it was registered
 * (or restored) ended, and which event each dependent hears when a dependency reaches its terminal status. What that
 * means for the task is its trigger rule's business, decided by the task statechart (machines/trigger-rules.ts).
 * The graph itself (edges, cycle checks) is the pure DependencyGraph.
 * Invariants:
 * - every dependency's end is counted once by each dependent: in its machine's input when the dependency had told
 *   its dependents before the task was registered, else by the event it is told;
 * - a dependency tells its dependents that are still deciding (pending or WAITING) when it settles, after its
 *   status event in memory (a subscriber of that event may register or start a dependent, which is then told too).
 */
import { DependencyFailedError, TaskCancelledError, taskLabel } from '../errors.js';
import type { TaskMachineEvent, Upstream } from '../machines/task.machine.js';
import { DependencyGraph } from '../scheduling/dependency-graph.js';
import { isTerminal, TaskStatus } from '../status.js';
import type { DependencyOutcome } from '../task-spec.js';
import { NO_DEPENDENCIES } from '../wire/dependencies.js';
import type { TaskRecord } from './task-record.js';

/** The usual start of a task with a few dependencies, none ended yet: shared, so that registering allocates nothing. */
const NONE_ENDED: readonly Upstream[] = Array.from({ length: 9 }, (_, total) =>
  Object.freeze({ total, succeeded: 0, failed: 0, skipped: 0 }),
);

/** A dependency that ended, live or forgotten: what its dependents need of it. */
type Ended = Pick<TaskRecord, 'id' | 'name' | 'status' | 'error'>;

const DEPENDENCY_COMPLETED: TaskMachineEvent = { type: 'DEPENDENCY_COMPLETED' };

export class DependencyTracker {
  readonly graph = new DependencyGraph();
  readonly #records: ReadonlyMap<string, TaskRecord>;

  constructor(records: ReadonlyMap<string, TaskRecord>) {
    this.#records = records;
  }

  add(record: TaskRecord): void {
    this.graph.add(record.id, record.dependencies);
  }

  remove(record: TaskRecord): void {
    this.graph.remove(record.id, record.dependencies);
  }

  /**
   * The task's dependencies as its machine starts: how many, and how those that have told their dependents already
   * ended (with the errors that would end the task). A dependency still live, or terminal but not yet settled (a
   * subscriber of its status event is registering this task), tells it later. One not in the maps is, at
   * registration, in the same batch (live); at a restore (`restoring`), forgotten: its row was cleaned up, and it had
   * COMPLETED. Undefined for a task without dependencies.
   */
  upstreamOf(record: TaskRecord, restoring: boolean): Upstream | undefined {
    const ids = record.dependencies;
    if (ids.length === 0) return undefined;
    let succeeded = 0;
    let failed = 0;
    let skipped = 0;
    let failure: Error | undefined;
    let cancellation: Error | undefined;
    for (const id of ids) {
      const live = this.#records.get(id);
      let dependency: Ended;
      if (live === undefined) {
        if (!restoring) continue;
        // Forgotten: what it ended as was kept with this task (after a restore, its row); an older store kept nothing.
        dependency = record.forgottenDependencies?.get(id) ?? { id, name: id, status: TaskStatus.COMPLETED, error: undefined };
      } else if (live.actor !== undefined || live.dormant || !isTerminal(live.status)) continue;
      else dependency = live;
      if (dependency.status === TaskStatus.COMPLETED) succeeded++;
      else if (dependency.status === TaskStatus.FAILED) {
        failed++;
        failure ??= endedEvent(record, dependency, false).error;
      } else {
        skipped++;
        cancellation ??= endedEvent(record, dependency, false).error;
      }
    }
    if (succeeded + failed + skipped === 0 && ids.length < NONE_ENDED.length) return NONE_ENDED[ids.length];
    return { total: ids.length, succeeded, failed, skipped, failure, cancellation };
  }

  /**
   * The task's dependencies in declaration order as they stand (`ctx.dependencies`): those forgotten as they were
   * kept when they were forgotten. Shared and empty for a task without dependencies.
   */
  outcomesOf(record: TaskRecord): readonly DependencyOutcome[] {
    const ids = record.dependencies;
    if (ids.length === 0) return NO_DEPENDENCIES;
    return Object.freeze(
      ids.map((id) => {
        const dependency = this.#records.get(id);
        if (dependency !== undefined) return outcomeOf(dependency);
        return (
          record.forgottenDependencies?.get(id) ??
          Object.freeze({ id, name: id, status: TaskStatus.COMPLETED, result: undefined, error: undefined })
        );
      }),
    );
  }

  /**
   * `record` (terminal) is being forgotten: each live dependent keeps what it ended as, for its `ctx.dependencies`
   * and its trigger rule after a restore. Returns those dependents (a durable engine writes their rows again).
   */
  keepForDependents(record: TaskRecord): TaskRecord[] {
    const kept: TaskRecord[] = [];
    for (const dependentId of this.graph.dependentsOf(record.id)) {
      const dependent = this.#records.get(dependentId);
      if (dependent === undefined || dependent.settled || isTerminal(dependent.status)) continue;
      (dependent.forgottenDependencies ??= new Map()).set(record.id, outcomeOf(record));
      kept.push(dependent);
    }
    return kept;
  }

  /**
   * Tells each dependent of `record`, which just reached its terminal status, how it ended: those still deciding
   * (pending or WAITING; the others have decided already). `shutdown`: it was cancelled by a shutdown.
   */
  tellDependents(record: TaskRecord, shutdown: boolean, send: (dependent: TaskRecord, event: TaskMachineEvent) => void): void {
    for (const dependentId of this.graph.dependentsOf(record.id)) {
      const dependent = this.#records.get(dependentId);
      if (dependent === undefined || (dependent.state !== 'pending' && dependent.state !== 'waiting')) continue;
      send(dependent, record.status === TaskStatus.COMPLETED ? DEPENDENCY_COMPLETED : endedEvent(dependent, record, shutdown));
    }
  }
}

/** How a task stands, as its dependents' `ctx.dependencies` show it. */
export function outcomeOf(record: TaskRecord): DependencyOutcome {
  const status = record.status;
  return Object.freeze({
    id: record.id,
    name: record.name,
    status,
    result: status === TaskStatus.COMPLETED ? record.result : undefined,
    error: status === TaskStatus.FAILED || status === TaskStatus.CANCELLED ? record.error : undefined,
  });
}

/** The event that tells `record` that its dependency `dependency` FAILED or was CANCELLED (by a shutdown: `shutdown`). */
export function endedEvent(
  record: TaskRecord,
  dependency: Ended,
  shutdown: boolean,
): Extract<TaskMachineEvent, { type: 'DEPENDENCY_FAILED' | 'DEPENDENCY_CANCELLED' }> {
  if (dependency.status === TaskStatus.FAILED) {
    return { type: 'DEPENDENCY_FAILED', error: new DependencyFailedError(record, dependency, dependency.error) };
  }
  const reason = `its dependency ${taskLabel(dependency)} was cancelled`;
  const error = new TaskCancelledError(record, reason, { cause: dependency.error });
  return shutdown ? { type: 'DEPENDENCY_CANCELLED', error, shutdown } : { type: 'DEPENDENCY_CANCELLED', error };
}
