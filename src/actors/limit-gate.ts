/**
 * The supervisor's side of per-key limits (docs/flow-control.md): the engine's KeyedLimits (src/scheduling/
 * key-limits.ts, pure) with what they need to act: one timer for the earliest key that waits for a time (a rate
 * window or a pause), tasks woken back to the ready queue, the count of held tasks, and `rate-limited` events. An
 * engine without limiters has none of this (the supervisor's `#limits` is undefined).
 */
import { isRateLimited } from '../errors.js';
import type { Clock } from '../options.js';
import { KeyedLimits, type Hold, type LimiterOptions } from '../scheduling/key-limits.js';
import type { TaskRecord } from './task-record.js';

/** What the gate needs from the supervisor. */
export interface LimitGateHost {
  readonly clock: Clock;
  now(): number;
  /** A held task its key lets go: back to the ready queue (when it is still queued); a pump follows. */
  wake(record: TaskRecord): void;
  requestPump(): void;
  /** How many queued tasks the limits hold back now (getStats().limited). */
  setHeld(count: number): void;
  halted(): boolean;
  rateLimited(record: TaskRecord, limiter: string, key: string, until: number): void;
  /** A task was held back on a key (for the instrumentation: `holdOf` says which). */
  held(record: TaskRecord): void;
}

export class LimitGate {
  readonly #host: LimitGateHost;
  readonly #limits: KeyedLimits<TaskRecord>;
  /** The one timer for the earliest key that waits for a time, and when it fires. */
  #timer: unknown = undefined;
  #timerAt = Infinity;

  constructor(limiters: ReadonlyMap<string, LimiterOptions>, host: LimitGateHost) {
    this.#host = host;
    this.#limits = new KeyedLimits<TaskRecord>(Object.fromEntries(limiters), (record) => record.state === 'queued');
  }

  /** Taken from the ready queue: true when its keys let it start now (and it holds them), else it is held on its key. */
  admit(record: TaskRecord): boolean {
    const now = this.#host.now();
    const blocker = this.#limits.check(record, now);
    if (blocker !== undefined) {
      this.#wake(this.#limits.hold(record, blocker, now));
      this.#host.held(record);
      return false;
    }
    this.#wake(this.#limits.start(record, now));
    return true;
  }

  /** A task restored with its attempt in flight (re-attached): it holds its keys again. */
  reclaim(record: TaskRecord): void {
    this.#wake(this.#limits.start(record, this.#host.now()));
  }

  /** A task's attempt ended (or it left `dispatched` without running): its keys let the next one go. */
  finish(record: TaskRecord): void {
    this.#wake(this.#limits.finish(record, this.#host.now()));
  }

  /** A queued task that will not start (cancelled): if it was held or woken by a key, that key lets the next one go. */
  abandon(record: TaskRecord): void {
    this.#wake(this.#limits.abandon(record, this.#host.now()));
  }

  /** The key a queued task is held on, and until when (getTask().waitingOn). */
  holdOf(record: TaskRecord): Hold | undefined {
    return this.#limits.holdOf(record);
  }

  /** An attempt ended rate limited: the keys it names (by default every key the task holds) pause for `retryAfter`. */
  pause(record: TaskRecord, error: unknown): void {
    if (!isRateLimited(error)) return;
    const now = this.#host.now();
    const until = now + error.retryAfter;
    const keys: Array<readonly [string, string]> = [];
    if (error.limiter === undefined) for (const claim of record.claims) keys.push([claim.limiter, claim.key]);
    else {
      const key = error.key ?? record.claims.find((claim) => claim.limiter === error.limiter)?.key;
      if (key !== undefined) keys.push([error.limiter, key]);
    }
    for (const [limiter, key] of keys) {
      this.#limits.pause(limiter, key, until, now);
      this.#host.rateLimited(record, limiter, key, until);
    }
    this.#arm();
  }

  /** Clears the timer (shutdown). */
  stop(): void {
    if (this.#timer !== undefined) this.#host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Held tasks whose key lets them start: back to the ready queue, in their place (priority, start order). */
  #wake(records: readonly TaskRecord[]): void {
    for (const record of records) this.#host.wake(record);
    if (records.length > 0) this.#host.requestPump();
    this.#host.setHeld(this.#limits.held);
    this.#arm();
  }

  /** One timer, for the earliest key that waits for a time; it keeps the process alive only while tasks are held. */
  #arm(): void {
    const host = this.#host;
    const at = this.#limits.nextWakeAt() ?? Infinity;
    if (at === this.#timerAt) return;
    if (this.#timer !== undefined) host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity || host.halted()) return;
    const timer = host.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.#wake(this.#limits.due(host.now()));
      },
      Math.max(0, at - host.now()),
    );
    if (this.#limits.held === 0) (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }
}
