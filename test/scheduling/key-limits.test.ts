/**
 * Per-key limits as the supervisor drives them: concurrency per key, a sliding rate window with costs, pauses, the
 * order held tasks come back in, a task that names two limiters, tasks cancelled while held or woken, and keys
 * forgotten once idle.
 */
import { describe, expect, it } from 'vitest';
import { KeyedLimits, type KeyState, type LimitClaim, type Limited, type LimiterOptions } from '../../src/scheduling/key-limits.js';

interface Item extends Limited {
  readonly id: string;
  live: boolean;
}

let seq = 0;
function item(id: string, claims: LimitClaim[], priority = 1): Item {
  return { id, priority, seq: ++seq, lane: 'async', claims, heldOn: undefined, wokenFrom: undefined, live: true };
}
const on = (limiter: string, key: string, cost = 1): LimitClaim => ({ limiter, key, cost });

/** A dispatcher over KeyedLimits: `offer` is the pump's check-then-start-or-hold; `ready` collects what comes back. */
function setup(limiters: Record<string, LimiterOptions>) {
  const limits = new KeyedLimits<Item>(limiters, (i) => i.live);
  const ready: string[] = [];
  const back = (items: Item[]) => ready.push(...items.map((i) => i.id));
  return {
    limits,
    ready,
    /** Starts `i` if its keys allow it at `now`; else holds it. Returns whether it started. */
    offer(i: Item, now: number): boolean {
      const blocker: KeyState<Item> | undefined = limits.check(i, now);
      if (blocker === undefined) {
        back(limits.start(i, now));
        return true;
      }
      back(limits.hold(i, blocker, now));
      return false;
    },
    finish(i: Item, now: number) {
      back(limits.finish(i, now));
    },
    due(now: number) {
      back(limits.due(now));
    },
  };
}

describe('KeyedLimits', () => {
  it('caps the running tasks of each key, not of other keys, and wakes a held one when one finishes', () => {
    const s = setup({ domain: { concurrency: 2 } });
    const [a1, a2, a3, b1] = [
      item('a1', [on('domain', 'a.com')]),
      item('a2', [on('domain', 'a.com')]),
      item('a3', [on('domain', 'a.com')]),
      item('b1', [on('domain', 'b.com')]),
    ];
    expect(s.offer(a1, 0)).toBe(true);
    expect(s.offer(a2, 0)).toBe(true);
    expect(s.offer(a3, 0)).toBe(false);
    expect(s.offer(b1, 0)).toBe(true); // another key: not held back
    expect(s.limits.held).toBe(1);
    expect(s.limits.holdOf(a3)).toEqual({ limiter: 'domain', key: 'a.com', until: undefined });
    expect(s.limits.nextWakeAt()).toBeUndefined(); // no timer: a finishing task wakes it
    s.finish(b1, 5);
    expect(s.ready).toEqual([]);
    s.finish(a1, 5);
    expect(s.ready).toEqual(['a3']);
    expect(s.limits.held).toBe(0);
    expect(s.offer(a3, 5)).toBe(true);
  });

  it('allows at most `limit` units in any window of `interval` ms, waking a held task when the oldest start leaves it', () => {
    const s = setup({ api: { rate: { limit: 3, interval: 1000 } } });
    const items = Array.from({ length: 5 }, (_, i) => item(`t${i}`, [on('api', 'k')]));
    expect(s.offer(items[0] as Item, 0)).toBe(true);
    expect(s.offer(items[1] as Item, 300)).toBe(true);
    expect(s.offer(items[2] as Item, 600)).toBe(true);
    expect(s.offer(items[3] as Item, 700)).toBe(false);
    expect(s.offer(items[4] as Item, 700)).toBe(false);
    // The start at 0 leaves the window at 1000 (a window is (t - interval, t]).
    expect(s.limits.nextWakeAt()).toBe(1000);
    expect(s.limits.holdOf(items[3] as Item)).toEqual({ limiter: 'api', key: 'k', until: 1000 });
    s.due(999);
    expect(s.ready).toEqual([]);
    s.due(1000);
    expect(s.ready).toEqual(['t3']);
    // It starts: the next one waits for the start at 300 to leave.
    expect(s.offer(items[3] as Item, 1000)).toBe(true);
    expect(s.limits.nextWakeAt()).toBe(1300);
    s.due(1300);
    expect(s.ready).toEqual(['t3', 't4']);
  });

  it("draws each start's cost from the window: a task costing more waits for enough units to leave", () => {
    const s = setup({ llm: { rate: { limit: 10, interval: 60_000 } } });
    expect(s.offer(item('a', [on('llm', 'team', 4)]), 0)).toBe(true);
    expect(s.offer(item('b', [on('llm', 'team', 4)]), 10_000)).toBe(true);
    const big = item('c', [on('llm', 'team', 7)]);
    expect(s.offer(big, 20_000)).toBe(false);
    // 8 units in the window; 7 more fit only once both starts left it (at 60,000 and 70,000).
    expect(s.limits.nextWakeAt()).toBe(70_000);
    expect(s.offer(item('d', [on('llm', 'team', 2)]), 20_000)).toBe(true); // 2 still fit: a small one is not held behind
  });

  it('pauses a key until a time, then wakes its held tasks; a later pause extends it', () => {
    const s = setup({ api: { concurrency: 5 } });
    s.limits.pause('api', 'k', 500, 0);
    const t = item('t', [on('api', 'k')]);
    expect(s.offer(t, 100)).toBe(false);
    expect(s.limits.nextWakeAt()).toBe(500);
    s.limits.pause('api', 'k', 800, 200);
    s.limits.pause('api', 'k', 600, 200); // earlier than the current pause: no effect
    s.due(500);
    expect(s.ready).toEqual([]);
    expect(s.limits.nextWakeAt()).toBe(800);
    s.due(800);
    expect(s.ready).toEqual(['t']);
  });

  it('gives held tasks back best first: priority, then start order', () => {
    const s = setup({ d: { concurrency: 1 } });
    const running = item('running', [on('d', 'k')]);
    s.offer(running, 0);
    const low = item('low', [on('d', 'k')], 0);
    const high = item('high', [on('d', 'k')], 2);
    const high2 = item('high2', [on('d', 'k')], 2);
    s.offer(low, 0);
    s.offer(high, 0);
    s.offer(high2, 0);
    s.finish(running, 1);
    expect(s.ready).toEqual(['high']);
    s.offer(high, 1);
    s.finish(high, 2);
    expect(s.ready).toEqual(['high', 'high2']);
  });

  it('holds a task naming two limiters on the one that refuses it; the key that woke it wakes the next if it cannot start', () => {
    const s = setup({ domain: { concurrency: 1 }, api: { concurrency: 1 } });
    const d1 = item('d1', [on('domain', 'a')]);
    const both = item('both', [on('domain', 'a'), on('api', 'x')]);
    const d2 = item('d2', [on('domain', 'a')]);
    const x1 = item('x1', [on('api', 'x')]);
    s.offer(d1, 0);
    s.offer(both, 0); // held on domain a
    s.offer(d2, 0); // held on domain a, behind `both`
    s.offer(x1, 0); // api x is free: runs
    s.finish(d1, 1);
    expect(s.ready).toEqual(['both']);
    // `both` is now refused by api x (x1 runs): held there, and domain a, free, wakes d2.
    expect(s.offer(both, 1)).toBe(false);
    expect(s.ready).toEqual(['both', 'd2']);
    expect(s.limits.holdOf(both)).toMatchObject({ limiter: 'api', key: 'x' });
    expect(s.offer(d2, 1)).toBe(true);
    s.finish(x1, 2);
    expect(s.ready).toEqual(['both', 'd2', 'both']);
  });

  it('wakes the best held task of each lane, so that one a resource holds up does not keep the key from another', () => {
    const s = setup({ d: { concurrency: 1 } });
    const running = item('running', [on('d', 'k')]);
    s.offer(running, 0);
    const needsDb = { ...item('needs-db', [on('d', 'k')], 3), lane: 'async|db:1' };
    const plain = item('plain', [on('d', 'k')], 0);
    const plain2 = item('plain2', [on('d', 'k')], 0);
    s.offer(needsDb, 0);
    s.offer(plain, 0);
    s.offer(plain2, 0);
    s.finish(running, 1);
    // Both lanes' best come back: if the db is busy, `plain` takes the key; the other is held again when it is refused.
    expect(s.ready.sort()).toEqual(['needs-db', 'plain']);
    expect(s.offer(plain, 1)).toBe(true);
    expect(s.offer(needsDb, 1)).toBe(false);
    expect(s.limits.held).toBe(2);
  });

  it('drops a task cancelled while held, and lets the key that woke a task wake the next when it is cancelled', () => {
    const s = setup({ d: { concurrency: 1 } });
    const [r, a, b, c] = ['r', 'a', 'b', 'c'].map((id) => item(id, [on('d', 'k')])) as [Item, Item, Item, Item];
    s.offer(r, 0);
    s.offer(a, 0);
    s.offer(b, 0);
    s.offer(c, 0);
    a.live = false; // cancelled while held
    s.ready.push(...s.limits.abandon(a, 0).map((i) => i.id));
    expect(s.limits.held).toBe(2);
    s.finish(r, 1);
    expect(s.ready).toEqual(['b']);
    b.live = false; // cancelled after it was woken, before it started
    s.ready.push(...s.limits.abandon(b, 1).map((i) => i.id));
    expect(s.ready).toEqual(['b', 'c']);
    expect(s.limits.held).toBe(0);
  });

  it('forgets idle keys, a rate-limited one once its window is empty', () => {
    const s = setup({ d: { concurrency: 2 }, api: { rate: { limit: 2, interval: 1000 } } });
    const t = item('t', [on('d', 'k')]);
    s.offer(t, 0);
    expect(s.limits.keyCount).toBe(1);
    s.finish(t, 1);
    expect(s.limits.keyCount).toBe(0);
    const r = item('r', [on('api', 'k')]);
    s.offer(r, 0);
    s.finish(r, 10);
    expect(s.limits.keyCount).toBe(1); // its start still counts in the window until 1000
    expect(s.limits.nextWakeAt()).toBe(1000);
    s.due(1000);
    expect(s.limits.keyCount).toBe(0);
    expect(s.limits.nextWakeAt()).toBeUndefined();
  });

  it('puts 100,000 tasks over 10,000 keys through two at a time per key, and forgets every key at the end', () => {
    const s = setup({ domain: { concurrency: 2 } });
    const items = Array.from({ length: 100_000 }, (_, i) => item(`t${i}`, [on('domain', `site-${i % 10_000}`)]));
    const running: Item[] = [];
    for (const i of items) if (s.offer(i, 0)) running.push(i);
    expect(running).toHaveLength(20_000);
    let started = running.length;
    while (running.length > 0) {
      const done = running.pop() as Item;
      s.ready.length = 0;
      s.finish(done, 1);
      for (const id of s.ready) {
        const next = items[Number(id.slice(1))] as Item;
        expect(s.offer(next, 1)).toBe(true);
        running.push(next);
        started++;
      }
    }
    expect(started).toBe(100_000);
    expect(s.limits.keyCount).toBe(0);
  });
});
