/**
 * The one place that decides what a task's dependencies mean for it: whether one has ended it (FAILED or
 * CANCELLED), how many are still unmet, and what each dependent is told when a dependency reaches its terminal
 * status. The graph itself (edges, cycle checks) is the pure DependencyGraph.
 * Invariants:
 * - a dependency that FAILED (CANCELLED) ends every dependent not yet terminal with DEPENDENCY_FAILED
 *   (DEPENDENCY_CANCELLED), started or not; one registered or restored after that end is ended when it starts;
 * - a dependency that COMPLETED tells its WAITING dependents (DEPENDENCY_COMPLETED) when it settles; until then
 *   it still counts as unmet for a dependent started in between (from a subscriber of its status event).
 */
import { DependencyFailedError, TaskCancelledError, taskLabel } from '../errors.js';
import type { TaskMachineEvent } from '../machines/task.machine.js';
import { DependencyGraph } from '../scheduling/dependency-graph.js';
import { isTerminal, TaskStatus } from '../status.js';
import type { TaskRecord } from './task-record.js';

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

  /** The first of the task's dependencies that FAILED or was CANCELLED, if any. */
  endedDependency(record: TaskRecord): TaskRecord | undefined {
    for (const id of record.dependencies) {
      const dependency = this.#records.get(id);
      if (dependency !== undefined && isEnded(dependency)) return dependency;
    }
    return undefined;
  }

  /**
   * Dependencies a task starting now waits for. A forgotten dependency had COMPLETED (a failed or cancelled
   * one would have ended this task already). One that is COMPLETED but has not yet told its dependents (a
   * subscriber of its status event is starting this task, in memory) still counts: telling them is what sends
   * DEPENDENCY_COMPLETED. A durable task tells them at the transition, before its status event, which waits
   * for the commit.
   */
  unmetAtStart(record: TaskRecord): number {
    return this.#unmet(record, true);
  }

  /** Dependencies a task restored WAITING or queued waits for: every one not COMPLETED (all were restored first). */
  unmetAtRestore(record: TaskRecord): number {
    return this.#unmet(record, false);
  }

  /** Dependencies not COMPLETED; with `untold`, also those COMPLETED that have not yet told their dependents (still live). */
  #unmet(record: TaskRecord, untold: boolean): number {
    let unmet = 0;
    for (const id of record.dependencies) {
      const dependency = this.#records.get(id);
      if (dependency !== undefined && (dependency.status !== TaskStatus.COMPLETED || (untold && dependency.actor !== undefined))) unmet++;
    }
    return unmet;
  }

  /** Tells each live dependent of `record`, which just reached its terminal status, what that means for it. */
  tellDependents(record: TaskRecord, send: (dependent: TaskRecord, event: TaskMachineEvent) => void): void {
    for (const dependentId of this.graph.dependentsOf(record.id)) {
      const dependent = this.#records.get(dependentId);
      if (dependent === undefined || isTerminal(dependent.status)) continue;
      if (record.status !== TaskStatus.COMPLETED) send(dependent, endedEvent(dependent, record));
      else if (dependent.state === 'waiting') send(dependent, DEPENDENCY_COMPLETED);
    }
  }
}

/** Whether a task FAILED or was CANCELLED. */
function isEnded(record: TaskRecord): boolean {
  return record.status === TaskStatus.FAILED || record.status === TaskStatus.CANCELLED;
}

/** The event that ends `record` because its dependency `dependency` FAILED or was CANCELLED. */
export function endedEvent(record: TaskRecord, dependency: TaskRecord): TaskMachineEvent {
  if (dependency.status === TaskStatus.FAILED) {
    return { type: 'DEPENDENCY_FAILED', error: new DependencyFailedError(record, dependency, dependency.error) };
  }
  const reason = `its dependency ${taskLabel(dependency)} was cancelled`;
  return { type: 'DEPENDENCY_CANCELLED', error: new TaskCancelledError(record, reason, { cause: dependency.error }) };
}
