/**
 * Automatic forgetting of finished tasks, as the supervisor sees it: at most `maxFinished` remembered (oldest
 * forgotten first, tasks already cleaned up by hand skipped), each for at most `finishedTtl` ms with one timer at
 * most, armed for the oldest one's expiry and no earlier, and a queue that does not keep what it forgot.
 */
import { describe, expect, it } from 'vitest';
import { Retention, type RetentionPolicy } from '../../src/actors/retention.js';
import { MAX_DELAY } from '../../src/scheduling/backoff.js';
import { exposeGc } from '../helpers.js';

interface Item {
  readonly id: number;
  readonly finishedAt: number | undefined;
  remembered: boolean;
}

/** A Retention over plain items, with a clock whose timers fire only when the test says so. */
function setup(policy: Partial<RetentionPolicy>) {
  let now = 0;
  const timers = new Map<number, { fn: () => void; delay: number }>();
  const armed: number[] = [];
  let nextTimer = 1;
  const forgotten: number[] = [];
  const items: Item[] = [];
  const retention = new Retention<Item>({
    policy: { maxFinished: policy.maxFinished ?? Infinity, finishedTtl: policy.finishedTtl },
    clock: {
      setTimeout(fn, delay) {
        const id = nextTimer++;
        timers.set(id, { fn: fn as () => void, delay });
        armed.push(delay);
        return id;
      },
      clearTimeout(id) {
        timers.delete(id as number);
      },
    },
    now: () => now,
    isRemembered: (item) => item.remembered,
    rememberedCount: () => items.filter((item) => item.remembered).length,
    forget(item) {
      item.remembered = false;
      forgotten.push(item.id);
    },
  });
  return {
    retention,
    forgotten,
    armed,
    timers,
    /** A task finishing at `at` (default: now; `undefined` for a task without a finishing time). */
    finish(id: number, ...at: [finishedAt?: number | undefined]): Item {
      const item = { id, finishedAt: at.length === 0 ? now : at[0], remembered: true };
      items.push(item);
      retention.add(item);
      return item;
    },
    /** Advances the clock to `at` and fires the one pending timer. */
    fire(at: number) {
      expect(timers.size).toBe(1);
      const [id, timer] = [...timers][0] as [number, { fn: () => void }];
      timers.delete(id);
      now = at;
      timer.fn();
    },
    set now(value: number) {
      now = value;
    },
  };
}

describe('Retention', () => {
  it('is active only with a limit', () => {
    expect(Retention.isActive({ maxFinished: Infinity, finishedTtl: undefined })).toBe(false);
    expect(Retention.isActive({ maxFinished: 10, finishedTtl: undefined })).toBe(true);
    expect(Retention.isActive({ maxFinished: Infinity, finishedTtl: 1000 })).toBe(true);
  });

  it('forgets the oldest first once more than maxFinished are remembered, and arms no timer without a ttl', () => {
    const r = setup({ maxFinished: 2 });
    r.finish(1);
    r.finish(2);
    expect(r.forgotten).toEqual([]);
    r.finish(3);
    expect(r.forgotten).toEqual([1]);
    r.finish(4);
    r.finish(5);
    expect(r.forgotten).toEqual([1, 2, 3]);
    expect(r.armed).toEqual([]);
  });

  it('skips tasks cleaned up by hand: they no longer count and are not forgotten twice', () => {
    const r = setup({ maxFinished: 2 });
    const first = r.finish(1);
    r.finish(2);
    first.remembered = false; // cleanupTask(1)
    r.finish(3);
    expect(r.forgotten).toEqual([]);
    r.finish(4);
    // 1 is passed over (already gone), 2 is the oldest remembered.
    expect(r.forgotten).toEqual([2]);
  });

  it('keeps at most maxFinished 0: each task is forgotten as it finishes', () => {
    const r = setup({ maxFinished: 0 });
    r.finish(1);
    r.finish(2);
    expect(r.forgotten).toEqual([1, 2]);
  });

  it('arms one timer for the oldest expiry, forgets everything due when it fires, and re-arms for the next', () => {
    const r = setup({ finishedTtl: 1000 });
    r.now = 100;
    r.finish(1); // due at 1100
    r.now = 300;
    r.finish(2); // due at 1300
    r.finish(3); // due at 1300
    r.now = 2000;
    r.finish(4); // due at 3000
    expect(r.armed).toEqual([1000]); // armed at 100, once
    r.fire(1100);
    expect(r.forgotten).toEqual([1]);
    expect(r.armed).toEqual([1000, 200]);
    r.fire(1300);
    expect(r.forgotten).toEqual([1, 2, 3]);
    expect(r.armed).toEqual([1000, 200, 1700]);
    r.fire(3000);
    expect(r.forgotten).toEqual([1, 2, 3, 4]);
    // Nothing left: no timer.
    expect(r.timers.size).toBe(0);
    expect(r.armed).toHaveLength(3);
  });

  it('keeps a task until its ttl is over, not a millisecond less', () => {
    const r = setup({ finishedTtl: 1000 });
    r.finish(1, 0);
    r.fire(999); // woken early (a clock that fires early): nothing is due yet
    expect(r.forgotten).toEqual([]);
    expect(r.armed).toEqual([1000, 1]);
    r.fire(1000);
    expect(r.forgotten).toEqual([1]);
  });

  it('arms a timer at once for a task already past its ttl, and caps a long ttl at what a timer can wait', () => {
    const late = setup({ finishedTtl: 10 });
    late.now = 500;
    late.finish(1, 0);
    expect(late.armed).toEqual([0]);
    const long = setup({ finishedTtl: MAX_DELAY * 3 });
    long.finish(1, 0);
    expect(long.armed).toEqual([MAX_DELAY]);
    long.fire(MAX_DELAY);
    expect(long.forgotten).toEqual([]);
    expect(long.armed).toEqual([MAX_DELAY, MAX_DELAY]);
  });

  it('counts a task without a finishing time as finished at 0', () => {
    const r = setup({ finishedTtl: 50 });
    r.now = 20;
    r.finish(1, undefined);
    expect(r.armed).toEqual([30]);
  });

  it('stop() clears the timer, and the next add arms a new one', () => {
    const r = setup({ finishedTtl: 100 });
    r.finish(1, 0);
    expect(r.timers.size).toBe(1);
    r.retention.stop();
    expect(r.timers.size).toBe(0);
    r.retention.stop();
    r.finish(2, 0);
    expect(r.timers.size).toBe(1);
  });

  it('does not grow with the tasks it forgot: 2,000,000 through a retention of 100', () => {
    const gc = exposeGc();
    const items: Item[] = [];
    let remembered = 0;
    const retention = new Retention<Item>({
      policy: { maxFinished: 100, finishedTtl: undefined },
      clock: { setTimeout: () => undefined, clearTimeout: () => undefined },
      now: () => 0,
      isRemembered: (item) => item.remembered,
      rememberedCount: () => remembered,
      forget(item) {
        item.remembered = false;
        remembered--;
      },
    });
    const add = (id: number) => {
      const item = { id, finishedAt: 0, remembered: true };
      remembered++;
      retention.add(item);
      return item;
    };
    for (let i = 0; i < 100; i++) items.push(add(i));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 100; i < 2_000_100; i++) add(i);
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    // Without compaction the queue would keep a slot for each of the 2,000,000 tasks forgotten: about 16 MB.
    expect(growth, `heap grew by ${(growth / 1e6).toFixed(1)} MB`).toBeLessThan(4e6);
    expect(remembered).toBe(100);
    expect(items.every((item) => !item.remembered)).toBe(true);
  });
});
