/**
 * Per-key limits (the engine's `limits` option): each distinct key of a named limiter is its own limit. `concurrency`
 * caps the tasks running under that key; `rate` allows at most `limit` units started within any `interval` ms (a
 * sliding window log: no burst ever puts more than `limit` into any window); a key can be paused (a 429's
 * Retry-After). Pure: time is passed in, and what the caller must do comes back as return values.
 *
 * How it is used by the supervisor: a task taken from the ready queue is `check`ed; held back, it is `hold`-ed on
 * the key that refuses it (out of the ready queue: it holds no slot and blocks no other task); allowed, it `start`s.
 * Held tasks come back (to be put in the ready queue again, with their place) when their key allows the next one:
 * from `finish` (a running task of the key stopped), `due` (a window or a pause is over; the caller arms one timer for
 * `nextWakeAt`), `start` and `hold` (a task woken from a key started, or was held on another key: the key wakes the
 * next). A key keeps its held tasks per ready-queue lane (what they need besides the key: executor and resources)
 * and wakes the best of each lane, so that a task the pool or a resource holds up does not keep the key from one
 * that could run now; the tasks of one key usually share one lane. Every operation is O(log n) in the tasks held
 * and the keys waiting (times the lanes of one key); no operation scans keys.
 */
import { BinaryHeap } from './heap.js';
import { Fifo } from './fifo.js';
import { runsBefore, type ReadyItem } from './ready-queue.js';

export interface LimiterOptions {
  /** Tasks running per key, an integer >= 1. */
  readonly concurrency?: number;
  /** Per key: at most `limit` units started within any `interval` ms. */
  readonly rate?: { readonly limit: number; readonly interval: number };
}

/** One limiter a task names: its key, and the units each attempt's start draws from the key's rate window. */
export interface LimitClaim {
  readonly limiter: string;
  readonly key: string;
  readonly cost: number;
}

/** One key of one limiter (opaque to callers, who keep it on the item). */
export interface KeyState<T> {
  readonly limiter: string;
  readonly key: string;
  readonly id: string;
  readonly options: LimiterOptions;
  running: number;
  /** Starts within the rate window: [time, units], oldest first. */
  readonly window: Fifo<readonly [number, number]>;
  windowUnits: number;
  pausedUntil: number;
  /** Items held on this key, by lane, each best first (priority, then start order); a lane left empty is removed. */
  readonly lanes: Map<string, BinaryHeap<T>>;
  /** When this key next allows its best held item (a window or a pause ending); Infinity: when a running task finishes. */
  wakeAt: number;
}

/** What a limited item carries; `hold` and `woken` are KeyedLimits' own bookkeeping. */
export interface Limited extends ReadyItem {
  readonly claims: readonly LimitClaim[];
  /** The key it is held on, while held (a KeyState; opaque to the item). */
  heldOn: object | undefined;
  /** The key that woke it, until it starts or is held again: if it does not start, that key wakes the next. */
  wokenFrom: object | undefined;
}

/** Why a task waits on a limit: the limiter, the key, and until when (undefined: until a running task of the key ends). */
export interface Hold {
  readonly limiter: string;
  readonly key: string;
  readonly until: number | undefined;
}

export class KeyedLimits<T extends Limited> {
  readonly #limiters: ReadonlyMap<string, LimiterOptions>;
  readonly #keys = new Map<string, KeyState<T>>();
  /** Keys waiting for a time (a window or a pause ending), earliest first; an entry whose time is not its key's `wakeAt` is stale. */
  readonly #wakes = new BinaryHeap<readonly [number, KeyState<T>]>((a, b) => a[0] < b[0]);
  /** Whether an item still wants to run (not cancelled meanwhile); dead items are dropped where they are met. */
  readonly #isLive: (item: T) => boolean;
  #held = 0;

  constructor(limiters: Readonly<Record<string, LimiterOptions>>, isLive: (item: T) => boolean) {
    this.#limiters = new Map(Object.entries(limiters));
    this.#isLive = isLive;
  }

  /** Items held back by a limit now (getStats). */
  get held(): number {
    return this.#held;
  }

  /** The key among `item`'s claims that does not let it start at `now`, or undefined when every one does. */
  check(item: T, now: number): KeyState<T> | undefined {
    for (const claim of item.claims) {
      const state = this.#state(claim.limiter, claim.key);
      if (!this.#allows(state, claim.cost, now)) return state;
    }
    return undefined;
  }

  /** Holds `item` back on `state` (from `check`). Returns items to put back in the ready queue (see the header). */
  hold(item: T, state: KeyState<T>, now: number): T[] {
    const woken = this.#unwake(item);
    item.heldOn = state;
    this.#held++;
    let heap = state.lanes.get(item.lane);
    if (heap === undefined) {
      heap = new BinaryHeap<T>(runsBefore);
      state.lanes.set(item.lane, heap);
    }
    heap.push(item);
    this.#schedule(state, now);
    return woken === undefined ? [] : this.#wakeNext(woken, now);
  }

  /** `item` starts an attempt: it runs under each of its keys, and draws its cost from each rate window. */
  start(item: T, now: number): T[] {
    const woken = this.#unwake(item);
    for (const claim of item.claims) {
      const state = this.#state(claim.limiter, claim.key);
      state.running++;
      if (state.options.rate !== undefined) {
        state.window.push([now, claim.cost]);
        state.windowUnits += claim.cost;
      }
    }
    return woken === undefined ? [] : this.#wakeNext(woken, now);
  }

  /** `item`'s attempt stopped running: each of its keys may let the next held item start. */
  finish(item: T, now: number): T[] {
    const ready: T[] = [];
    for (const claim of item.claims) {
      const state = this.#keys.get(keyId(claim.limiter, claim.key));
      if (state === undefined) continue;
      state.running--;
      ready.push(...this.#wakeNext(state, now));
    }
    return ready;
  }

  /** `item` will not start (cancelled while held, or after being woken): it is no longer counted, and its waker wakes the next. */
  abandon(item: T, now: number): T[] {
    if (item.heldOn !== undefined) {
      item.heldOn = undefined;
      this.#held--;
    }
    const woken = this.#unwake(item);
    return woken === undefined ? [] : this.#wakeNext(woken, now);
  }

  /** Pauses a key until `until` (a 429's Retry-After): nothing starts under it before then. */
  pause(limiter: string, key: string, until: number, now: number): void {
    const state = this.#state(limiter, key);
    if (until <= state.pausedUntil) return;
    state.pausedUntil = until;
    // Rescheduled for the pause's end (a wake-up set for earlier finds the key paused and sets this one anyway).
    if (state.lanes.size > 0) this.#schedule(state, now);
    else this.#dropIfIdle(state, now);
  }

  /** When the earliest key waiting for a time is due; undefined when none waits. */
  nextWakeAt(): number | undefined {
    for (let top = this.#wakes.peek(); top !== undefined; top = this.#wakes.peek()) {
      if (top[0] === top[1].wakeAt) return top[0];
      this.#wakes.pop(); // stale
    }
    return undefined;
  }

  /** The held items whose key allows them at `now` (one per key that came due; each start wakes the next). */
  due(now: number): T[] {
    const ready: T[] = [];
    for (let top = this.#wakes.peek(); top !== undefined && top[0] <= now; top = this.#wakes.peek()) {
      this.#wakes.pop();
      const state = top[1];
      if (top[0] !== state.wakeAt) continue;
      state.wakeAt = Infinity;
      ready.push(...this.#wakeNext(state, now));
    }
    return ready;
  }

  /** Why `item` waits, while it is held. */
  holdOf(item: T): Hold | undefined {
    const state = item.heldOn as KeyState<T> | undefined;
    if (state === undefined) return undefined;
    return { limiter: state.limiter, key: state.key, until: Number.isFinite(state.wakeAt) ? state.wakeAt : undefined };
  }

  /** Keys currently tracked (each dropped once nothing runs, waits or counts under it). */
  get keyCount(): number {
    return this.#keys.size;
  }

  #state(limiter: string, key: string): KeyState<T> {
    const id = keyId(limiter, key);
    let state = this.#keys.get(id);
    if (state === undefined) {
      state = {
        limiter,
        key,
        id,
        options: this.#limiters.get(limiter) ?? {},
        running: 0,
        window: new Fifo(),
        windowUnits: 0,
        pausedUntil: -Infinity,
        lanes: new Map(),
        wakeAt: Infinity,
      };
      this.#keys.set(id, state);
    }
    return state;
  }

  #allows(state: KeyState<T>, cost: number, now: number): boolean {
    if (state.pausedUntil > now) return false;
    const { concurrency, rate } = state.options;
    if (concurrency !== undefined && state.running >= concurrency) return false;
    if (rate === undefined) return true;
    this.#slide(state, rate.interval, now);
    return state.windowUnits + cost <= rate.limit;
  }

  /** Drops the starts that left the window: those at or before `now - interval`. */
  #slide(state: KeyState<T>, interval: number, now: number): void {
    for (let oldest = state.window.peek(); oldest !== undefined && oldest[0] <= now - interval; oldest = state.window.peek()) {
      state.window.shift();
      state.windowUnits -= oldest[1];
    }
  }

  /** The earliest time `state` lets `cost` more units start, by its pause and its window (running tasks aside). */
  #allowedAt(state: KeyState<T>, cost: number, now: number): number {
    let at = Math.max(now, state.pausedUntil);
    const rate = state.options.rate;
    if (rate === undefined) return at;
    this.#slide(state, rate.interval, now);
    let units = state.windowUnits;
    if (units + cost <= rate.limit) return at;
    // The window lets `cost` in once enough of its oldest starts have left it: the last of those leaves at its time + interval.
    for (let i = 0; units + cost > rate.limit; i++) {
      const entry = state.window.at(i) as readonly [number, number];
      units -= entry[1];
      at = Math.max(at, entry[0] + rate.interval);
    }
    return at;
  }

  /** Makes sure `state`, which holds items, is woken when its best held items may start (or by a finishing task). */
  #schedule(state: KeyState<T>, now: number): void {
    const tops = this.#liveTops(state);
    if (tops.length === 0) return;
    const concurrency = state.options.concurrency;
    // Held for its concurrency: a finishing task of the key wakes it, no timer needed.
    if (concurrency !== undefined && state.running >= concurrency && state.pausedUntil <= now) return;
    let at = Infinity;
    for (const [top] of tops) at = Math.min(at, this.#allowedAt(state, claimOf(top, state).cost, now));
    if (at >= state.wakeAt) return;
    state.wakeAt = at;
    this.#wakes.push([at, state]);
  }

  /** Takes out the best held item of each of `state`'s lanes that the key allows now; schedules the key's wake-up for the rest. */
  #wakeNext(state: KeyState<T>, now: number): T[] {
    const tops = this.#liveTops(state);
    if (tops.length === 0) {
      this.#dropIfIdle(state, now);
      return [];
    }
    const woken: T[] = [];
    for (const [top, heap] of tops) {
      if (!this.#allows(state, claimOf(top, state).cost, now)) continue;
      heap.pop();
      top.heldOn = undefined;
      top.wokenFrom = state;
      this.#held--;
      woken.push(top);
    }
    if (woken.length < tops.length) this.#schedule(state, now);
    return woken;
  }

  /** The best item still held in each lane of `state` (cancelled ones, and ones moved on, are dropped; so are empty lanes). */
  #liveTops(state: KeyState<T>): Array<readonly [T, BinaryHeap<T>]> {
    const tops: Array<readonly [T, BinaryHeap<T>]> = [];
    for (const [lane, heap] of state.lanes) {
      const top = this.#liveTop(state, heap);
      if (top === undefined) state.lanes.delete(lane);
      else tops.push([top, heap]);
    }
    return tops;
  }

  #liveTop(state: KeyState<T>, heap: BinaryHeap<T>): T | undefined {
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      if (top.heldOn === state && this.#isLive(top)) return top;
      heap.pop();
      if (top.heldOn === state) {
        top.heldOn = undefined;
        this.#held--;
      }
    }
    return undefined;
  }

  /** Clears `item`'s waker, returning it. */
  #unwake(item: T): KeyState<T> | undefined {
    const woken = item.wokenFrom as KeyState<T> | undefined;
    item.wokenFrom = undefined;
    return woken;
  }

  /**
   * Forgets a key that nothing runs under or waits on any more, so that memory stays bounded by the live keys. A key
   * still paused or counting starts in its window is kept until then: it gets a wake-up at that time, which drops it.
   */
  #dropIfIdle(state: KeyState<T>, now: number): void {
    if (state.running > 0 || state.lanes.size > 0 || Number.isFinite(state.wakeAt) || this.#keys.get(state.id) !== state) return;
    let until = state.pausedUntil;
    const rate = state.options.rate;
    if (rate !== undefined) {
      this.#slide(state, rate.interval, now);
      const newest = state.window.at(state.window.size - 1);
      if (newest !== undefined) until = Math.max(until, newest[0] + rate.interval);
    }
    if (until <= now) {
      this.#keys.delete(state.id);
      return;
    }
    state.wakeAt = until;
    this.#wakes.push([until, state]);
  }
}

function keyId(limiter: string, key: string): string {
  return `${limiter}\u0000${key}`;
}

function claimOf(item: Limited, state: { readonly limiter: string }): LimitClaim {
  return item.claims.find((claim) => claim.limiter === state.limiter) as LimitClaim;
}
