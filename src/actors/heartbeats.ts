/**
 * The stall watch of attempts whose task has a `heartbeatTimeout`: one timer per running attempt, armed when it
 * begins, and never reset by a heartbeat (a crawl may beat a thousand times a second): a beat only records its
 * time, and when the timer fires it either reports the stall or re-arms itself for what is left since the last
 * beat. The transition it causes (STALLED: aborted and retried like a timeout) is the task statechart's.
 */
import type { Clock } from '../options.js';

/** What one attempt under watch needs: when it last beat, and its timer. */
export interface Watched {
  lastHeartbeatAt: number | undefined;
  heartbeatTimer: unknown;
}

export class HeartbeatWatch {
  readonly #clock: Clock;
  readonly #now: () => number;

  constructor(clock: Clock, now: () => number) {
    this.#clock = clock;
    this.#now = now;
  }

  /**
   * An attempt begins running (at `at`, the time its start is recorded with): it must beat within `timeout` ms of
   * then, and of every beat, else `stalled` is called.
   */
  begin(task: Watched, timeout: number, stalled: () => void, at: number = this.#now()): void {
    this.end(task);
    task.lastHeartbeatAt = at;
    this.#arm(task, timeout, timeout, stalled);
  }

  /** The attempt is alive (at `at`: now, unless the caller read the clock already). */
  beat(task: Watched, at: number = this.#now()): void {
    task.lastHeartbeatAt = at;
  }

  /** The attempt ended (or the task stopped): no more watch. */
  end(task: Watched): void {
    if (task.heartbeatTimer === undefined) return;
    this.#clock.clearTimeout(task.heartbeatTimer);
    task.heartbeatTimer = undefined;
  }

  #arm(task: Watched, timeout: number, wait: number, stalled: () => void): void {
    task.heartbeatTimer = this.#clock.setTimeout(() => {
      task.heartbeatTimer = undefined;
      const left = (task.lastHeartbeatAt ?? 0) + timeout - this.#now();
      if (left > 0) this.#arm(task, timeout, left, stalled);
      else stalled();
    }, wait);
  }
}
