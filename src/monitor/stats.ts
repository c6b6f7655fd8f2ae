/**
 * The Task Monitor's numbers: counts by status (of the tasks the engine still
 * remembers), and mean wait and run times. Updated in O(1) per transition.
 */
import { STATUS_OF_STATE, type TaskState } from '../machines/task.machine.js';
import { TaskStatus } from '../status.js';

/** What `engine.getStats()` returns. */
export interface TaskStats {
  /** Tasks the engine remembers, by public status. */
  readonly counts: Record<TaskStatus, number>;
  /** All remembered tasks. */
  readonly total: number;
  /** Attempts executing now (same as counts.RUNNING). */
  readonly running: number;
  /** Started tasks ready to run, waiting for a slot, a worker or a resource. */
  readonly queued: number;
  /** Of the queued, those held back by a per-key limit (`limits`): ready otherwise, and holding no slot. */
  readonly limited: number;
  /** Tasks waiting out a retry backoff. */
  readonly retrying: number;
  /**
   * Attempts handed to an executor that starts them later (a remote queue) that no worker has taken yet:
   * PENDING, but holding a concurrency slot.
   */
  readonly dispatched: number;
  /** Of the dispatched, those waiting because the executor cannot reach its backend (Redis down). */
  readonly unavailable: number;
  /** Tasks that finished since the engine was created (including forgotten ones). */
  readonly finished: number;
  /** Of the finished, those completed from the results cache without an attempt (since the engine was created). */
  readonly cacheHits: number;
  /** Tasks whose `deadline` passed before they ended (a `deadline` event each), since the engine was created. */
  readonly deadlinesMissed: number;
  /** Attempts stalled (no heartbeat for `heartbeatTimeout`), since the engine was created. */
  readonly stalledAttempts: number;
  /** Mean ms from `startTask` to the first attempt running, over tasks that ran. */
  readonly meanWaitTime: number;
  /** Mean ms an attempt ran, over attempts that ended. */
  readonly meanRunTime: number;
}

export class StatsCollector {
  readonly counts: Record<TaskStatus, number> = {
    PENDING: 0,
    WAITING: 0,
    RUNNING: 0,
    COMPLETED: 0,
    FAILED: 0,
    CANCELLED: 0,
  };
  queued = 0;
  /** Kept by the supervisor from its per-key limits. */
  limited = 0;
  retrying = 0;
  dispatched = 0;
  unavailable = 0;
  /** Kept by the supervisor: cache hits, missed deadlines and stalled attempts so far. */
  cacheHits = 0;
  deadlinesMissed = 0;
  stalledAttempts = 0;
  #finished = 0;
  #waitSum = 0;
  #waitCount = 0;
  #runSum = 0;
  #runCount = 0;

  /** A task entered machine state `state` (or was registered or restored in it). */
  enter(state: TaskState): void {
    this.counts[STATUS_OF_STATE[state]]++;
    if (state === 'queued') this.queued++;
    else if (state === 'retrying') this.retrying++;
    else if (state === 'dispatched') this.dispatched++;
  }

  /** A task left machine state `state` (or was forgotten in it). */
  leave(state: TaskState): void {
    this.counts[STATUS_OF_STATE[state]]--;
    if (state === 'queued') this.queued--;
    else if (state === 'retrying') this.retrying--;
    else if (state === 'dispatched') this.dispatched--;
  }

  recordWait(ms: number): void {
    this.#waitSum += ms;
    this.#waitCount++;
  }

  recordRun(ms: number): void {
    this.#runSum += ms;
    this.#runCount++;
  }

  recordFinished(): void {
    this.#finished++;
  }

  snapshot(): TaskStats {
    const counts = { ...this.counts };
    let total = 0;
    for (const status of Object.values(TaskStatus)) total += counts[status];
    return {
      counts,
      total,
      running: counts.RUNNING,
      queued: this.queued,
      limited: this.limited,
      retrying: this.retrying,
      dispatched: this.dispatched,
      unavailable: this.unavailable,
      finished: this.#finished,
      cacheHits: this.cacheHits,
      deadlinesMissed: this.deadlinesMissed,
      stalledAttempts: this.stalledAttempts,
      meanWaitTime: this.#waitCount === 0 ? 0 : this.#waitSum / this.#waitCount,
      meanRunTime: this.#runCount === 0 ? 0 : this.#runSum / this.#runCount,
    };
  }
}
