/**
 * The supervisor's side of long and repeated work (docs/long-running.md): heartbeats (the stall watch and the
 * checkpoint), the results cache, and deadline alerts. The transitions these cause (STALLED, CACHE_HIT, the free
 * re-runs) are the task statechart's; this decides when to send them, and keeps what a task's record says about them
 * (`record.long`, made on first use). The supervisor calls in only for tasks whose spec uses a feature (or whose
 * record has `long`), so a task using none of it costs a few `undefined` checks.
 */
import type { TaskMachineEvent } from '../machines/task.machine.js';
import type { StatsCollector } from '../monitor/stats.js';
import type { Clock } from '../options.js';
import { StoreError } from '../errors.js';
import { isTerminal } from '../status.js';
import type { Durability } from '../store/durability.js';
import type { DependencyOutcome } from '../wire/dependencies.js';
import { HeartbeatWatch } from './heartbeats.js';
import type { RecordEvents } from './record-events.js';
import { ResultCache } from './result-cache.js';
import type { TaskRecord } from './task-record.js';

/** What long-running work needs from the supervisor. */
export interface LongWorkHost {
  readonly clock: Clock;
  now(): number;
  readonly stats: StatsCollector;
  readonly events: RecordEvents;
  /** Whether the record is the task's current one (not forgotten). */
  isLive(record: TaskRecord): boolean;
  /** The engine stopped (suspended, or its store failed): no more alerts. */
  halted(): boolean;
  /** Sends an event to a live task, as a step. */
  send(record: TaskRecord, event: TaskMachineEvent): void;
  /** Queues an event for a task, sent once the current step is over. */
  sendAfterStep(record: TaskRecord, event: TaskMachineEvent): void;
  /** A durable task changed in a way its row shows: written with the next (lazy) group commit. */
  changed(record: TaskRecord): void;
  /** The task's dependencies as they ended (the default cache key). */
  outcomes(record: TaskRecord): readonly DependencyOutcome[];
  /** The store failed. */
  halt(error: StoreError): void;
}

export class LongWork {
  readonly #host: LongWorkHost;
  readonly #heartbeats: HeartbeatWatch;
  readonly #cache: ResultCache;

  constructor(host: LongWorkHost, cacheSize: number, durability: Durability | undefined) {
    this.#host = host;
    this.#heartbeats = new HeartbeatWatch(host.clock, host.now);
    this.#cache = new ResultCache(
      cacheSize,
      {
        now: host.now,
        outcomes: host.outcomes,
        skipped: (record, error) => host.events.cacheSkipped(record, error),
        storeFailed: host.halt,
      },
      durability,
    );
  }

  // ---- Heartbeats ------------------------------------------------------

  /**
   * Attempt `attempt` of a task with `heartbeatTimeout` began running at `at` (its `attemptStartedAt`, so that
   * `lastHeartbeatAt` starts equal to it): it must beat that often, else it stalls.
   */
  watch(record: TaskRecord, attempt: number, heartbeatTimeout: number, at: number): void {
    this.#heartbeats.begin(
      record.longState,
      heartbeatTimeout,
      () => {
        if (record.state !== 'running' || record.attempts !== attempt) return;
        this.#host.stats.stalledAttempts++;
        this.#host.send(record, { type: 'STALLED', attempt, heartbeatTimeout });
      },
      at,
    );
  }

  /** An attempt of a task that uses heartbeats without a `heartbeatTimeout` began: its start is its last sign of life. */
  attemptBegun(record: TaskRecord, at: number): void {
    this.#heartbeats.beat(record.longState, at);
  }

  /** The running attempt of a task with long-running state reported progress: a heartbeat too. */
  progressed(record: TaskRecord): void {
    if (record.long !== undefined) this.#heartbeats.beat(record.long);
  }

  /** A heartbeat of the running attempt: it is alive, and `details` (when given) are its checkpoint. */
  heartbeat(record: TaskRecord, details: unknown): void {
    const long = record.longState;
    this.#heartbeats.beat(long);
    if (details === undefined) return;
    long.checkpoint = details;
    if (record.durable) this.#host.changed(record); // committed with the next group commit
  }

  /** The attempt left `running`: no more watch. */
  attemptEnded(record: TaskRecord): void {
    if (record.long !== undefined) this.#heartbeats.end(record.long);
  }

  // ---- The results cache -----------------------------------------------

  /** A task with `cache` is ready: when its key has a fresh result, it completes with it (after this step). */
  cacheHit(record: TaskRecord): boolean {
    const hit = this.#cache.lookup(record);
    if (hit === undefined) return false;
    if (hit.stored !== undefined) record.storedResult = hit.stored;
    this.#host.sendAfterStep(record, { type: 'CACHE_HIT', result: hit.result });
    return true;
  }

  /** A task completed: from the cache (`fromCache`, counted), or by an attempt (its result kept under its key, if it has one). */
  completed(record: TaskRecord, fromCache: boolean, result: unknown): void {
    if (fromCache) {
      record.longState.cached = true;
      this.#host.stats.cacheHits++;
    } else if (record.long?.cacheKey != null) this.#cache.remember(record, result);
  }

  clearCache(): void {
    try {
      this.#cache.clear();
    } catch (error) {
      this.#host.halt(error instanceof StoreError ? error : new StoreError(String(error), { cause: error }));
    }
  }

  // ---- Deadlines -------------------------------------------------------

  /** Arms the task's deadline alert for time `at`; it does not keep the process alive by itself. */
  armDeadline(record: TaskRecord, at: number): void {
    const host = this.#host;
    const long = record.longState;
    const deadline = record.spec.deadline as number;
    const timer = host.clock.setTimeout(
      () => {
        long.deadlineTimer = undefined;
        if (!host.isLive(record) || isTerminal(record.status) || host.halted()) return;
        const at = host.now();
        long.deadlineMissedAt = at;
        host.stats.deadlinesMissed++;
        host.events.deadline(record, deadline, at); // the event's timestamp is deadlineMissedAt, not a second reading
        if (record.durable) host.changed(record);
      },
      Math.max(0, at - host.now()),
    );
    (timer as { unref?: () => void }).unref?.();
    long.deadlineTimer = timer;
  }

  /** The task ended, or the engine stopped: its stall watch and deadline alert stop. */
  stop(record: TaskRecord): void {
    const long = record.long;
    if (long === undefined) return;
    this.#heartbeats.end(long);
    if (long.deadlineTimer !== undefined) this.#host.clock.clearTimeout(long.deadlineTimer);
    long.deadlineTimer = undefined;
  }
}
