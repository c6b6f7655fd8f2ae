/**
 * The numbers the views show: tasks by outcome, the running set with its progress,
 * the finishing rate and the estimated time left. Fed by `engine.events`, read by the views.
 */
import type { Subscription } from 'rxjs';
import { TaskStatus, type TaskEngine, type TaskEvent } from '../index.js';

/** One running task, as a view shows it. */
export interface RunningTask {
  readonly id: string;
  readonly name: string;
  progress: number;
  message: string | undefined;
}

/** A started task the engine reported stalled: it waits on tasks that were never started. */
export interface StalledTask {
  readonly id: string;
  readonly name: string;
  /** The never-started tasks it waits on (ids), as the engine's `stalled` event named them. */
  readonly waitingOn: readonly string[];
}

/** A point-in-time summary line. */
export interface ProgressSnapshot {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly running: number;
  readonly queued: number;
  /** Of the queued, those held back by a per-key limit (`limits`). */
  readonly limited: number;
  /** Of done, failed and cancelled, those that had finished in an earlier run (restored from a store). */
  readonly earlier: number;
  /** Of done, those completed from the results cache without running (`cache`). */
  readonly cacheHits: number;
  /** Tasks whose `deadline` passed before they ended. */
  readonly deadlinesMissed: number;
  /** Attempts that sent no heartbeat for their `heartbeatTimeout` (failed with ERR_TASK_STALLED). */
  readonly stalledAttempts: number;
  /** Tasks finished per second since the run began (not counting those finished in an earlier run). */
  readonly rate: number;
  readonly elapsedMs: number;
  /** ms left at the current rate; undefined while nothing has finished. */
  readonly etaMs: number | undefined;
}

const TERMINAL = new Set<string>([TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]);

export class RunProgress {
  /** Every task id registered on the engine, in registration order. */
  readonly ids: string[] = [];
  /** A task is here exactly while its public status is RUNNING. */
  readonly running = new Map<string, RunningTask>();
  /**
   * Tasks that had finished in an earlier run: restored from a store already terminal. A restored
   * task that fails now (its handler is missing, its interrupted attempt was its last) is not here.
   */
  readonly finishedEarlier = new Set<string>();
  /** Tasks reported by a `stalled` event, until their status changes (a dependency was started after all). */
  readonly stalled = new Map<string, StalledTask>();
  /** Tasks whose `deadline` passed in this run (a `deadline` event), with that deadline (ms after their start). */
  readonly deadlines = new Map<string, number>();
  readonly #engine: TaskEngine;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #subscription: Subscription;

  constructor(engine: TaskEngine, now: () => number = Date.now) {
    this.#engine = engine;
    this.#now = now;
    this.#startedAt = now();
    this.#subscription = engine.events.subscribe((event) => this.#apply(event));
  }

  stop(): void {
    this.#subscription.unsubscribe();
  }

  get elapsedMs(): number {
    return this.#now() - this.#startedAt;
  }

  snapshot(): ProgressSnapshot {
    const stats = this.#engine.getStats();
    const { COMPLETED: done, FAILED: failed, CANCELLED: cancelled } = stats.counts;
    const finished = done + failed + cancelled;
    const earlier = this.finishedEarlier.size;
    const elapsedMs = this.elapsedMs;
    const rate = elapsedMs > 0 ? ((finished - earlier) * 1000) / elapsedMs : 0;
    const left = stats.total - finished;
    return {
      total: stats.total,
      done,
      failed,
      cancelled,
      earlier,
      cacheHits: stats.cacheHits,
      deadlinesMissed: stats.deadlinesMissed,
      stalledAttempts: stats.stalledAttempts,
      running: stats.running,
      queued: stats.queued + stats.retrying + stats.counts.WAITING,
      limited: stats.limited,
      rate,
      elapsedMs,
      etaMs: rate > 0 ? (left / rate) * 1000 : undefined,
    };
  }

  /** True when every registered task has a terminal status. */
  allTerminal(): boolean {
    return this.ids.every((id) => TERMINAL.has(this.#engine.getTaskStatus(id)));
  }

  /** Registered tasks not in a terminal status. */
  unfinished(): number {
    return this.ids.filter((id) => !TERMINAL.has(this.#engine.getTaskStatus(id))).length;
  }

  /** Unfinished tasks that a durable store does not keep (`durable: false`): a resumed run will not have them. */
  unfinishedMemoryOnly(): number {
    return this.ids.filter((id) => !TERMINAL.has(this.#engine.getTaskStatus(id)) && !this.#engine.getTask(id).settings.durable).length;
  }

  /** Whether `event` replays the outcome of a task that finished in an earlier run (the views skip it). */
  isReplay(event: TaskEvent): boolean {
    return event.type === 'status' && this.finishedEarlier.has(event.taskId);
  }

  #apply(event: TaskEvent): void {
    if (event.type === 'registered') {
      this.ids.push(event.taskId);
      // restore() fills every task from the store before it announces any: a task that is terminal
      // when announced finished in an earlier run; the others get their outcome in this one.
      if (event.restored === true && TERMINAL.has(this.#engine.getTaskStatus(event.taskId))) this.finishedEarlier.add(event.taskId);
    } else if (event.type === 'stalled') {
      this.stalled.set(event.taskId, { id: event.taskId, name: event.name, waitingOn: [...event.waitingOn] });
    } else if (event.type === 'deadline') {
      this.deadlines.set(event.taskId, event.deadline);
    } else if (event.type === 'status') {
      this.stalled.delete(event.taskId);
      if (event.status === TaskStatus.RUNNING) {
        this.running.set(event.taskId, { id: event.taskId, name: event.name, progress: 0, message: undefined });
      } else {
        this.running.delete(event.taskId);
      }
    } else if (event.type === 'progress') {
      const task = this.running.get(event.taskId);
      if (task) {
        task.progress = event.progress;
        task.message = event.message;
      }
    }
  }
}
