/**
 * Automatic forgetting of finished tasks: at most `maxFinished` remembered,
 * each for at most `finishedTtl` ms. Finished tasks are kept in finishing
 * order; one timer at most, armed for the oldest one's expiry.
 */
import type { Clock } from '../options.js';
import { MAX_DELAY } from '../scheduling/backoff.js';

export interface RetentionPolicy {
  readonly maxFinished: number;
  readonly finishedTtl: number | undefined;
}

interface Finished {
  readonly finishedAt: number | undefined;
}

export class Retention<T extends Finished> {
  readonly #policy: RetentionPolicy;
  readonly #clock: Clock;
  readonly #now: () => number;
  /** Whether an entry is still remembered (not cleaned up by hand), and how many are. */
  readonly #isRemembered: (item: T) => boolean;
  readonly #rememberedCount: () => number;
  readonly #forget: (item: T) => void;
  #queue: T[] = [];
  #head = 0;
  #timer: unknown = undefined;

  constructor(options: {
    policy: RetentionPolicy;
    clock: Clock;
    now: () => number;
    isRemembered: (item: T) => boolean;
    rememberedCount: () => number;
    forget: (item: T) => void;
  }) {
    this.#policy = options.policy;
    this.#clock = options.clock;
    this.#now = options.now;
    this.#isRemembered = options.isRemembered;
    this.#rememberedCount = options.rememberedCount;
    this.#forget = options.forget;
  }

  /** Whether any limit is set; without one the engine keeps no queue at all. */
  static isActive(policy: RetentionPolicy): boolean {
    return policy.maxFinished !== Infinity || policy.finishedTtl !== undefined;
  }

  add(item: T): void {
    this.#queue.push(item);
    while (this.#rememberedCount() > this.#policy.maxFinished && this.#head < this.#queue.length) {
      this.#forgetOldest();
    }
    this.#compact();
    if (this.#policy.finishedTtl !== undefined && this.#timer === undefined) this.#arm();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #forgetOldest(): void {
    const item = this.#queue[this.#head] as T;
    this.#queue[this.#head] = undefined as unknown as T;
    this.#head++;
    if (this.#isRemembered(item)) this.#forget(item);
  }

  #arm(): void {
    const ttl = this.#policy.finishedTtl as number;
    const oldest = this.#queue[this.#head];
    if (oldest === undefined) return;
    const due = (oldest.finishedAt ?? 0) + ttl - this.#now();
    // Capped at what a timer can wait; an early wake-up finds nothing due and re-arms.
    this.#timer = this.#clock.setTimeout(() => this.#expire(), Math.min(Math.max(0, due), MAX_DELAY));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    const ttl = this.#policy.finishedTtl as number;
    const now = this.#now();
    for (let item = this.#queue[this.#head]; item !== undefined; item = this.#queue[this.#head]) {
      if ((item.finishedAt ?? 0) + ttl > now) break;
      this.#forgetOldest();
    }
    this.#compact();
    this.#arm();
  }

  /** Drops the consumed prefix once it is at least half the array. */
  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
