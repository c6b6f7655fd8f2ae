/**
 * The executors' slots on their own: the room each has (its `concurrency`, or unlimited), what `release` says
 * about a queued task's chances, and closing them all. The pool and deferred-start tests see this through an
 * engine; here a wrong answer fails by name.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AttemptRequest, Executor } from '../../src/executors/executor.js';
import { ExecutorSlots } from '../../src/actors/executor-slots.js';

const executor = (extra: Partial<Executor> = {}): Executor => ({
  execute: (_request: AttemptRequest) => Promise.resolve(undefined),
  ...extra,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ExecutorSlots', () => {
  it('has room while fewer attempts than its concurrency are out, and none at the limit', () => {
    const slots = new ExecutorSlots();
    slots.add('remote', executor({ concurrency: 2 }));
    const slot = slots.slot('remote');
    expect(slot).toMatchObject({ limit: 2, inFlight: 0 });
    expect(slots.hasRoom('remote')).toBe(true);
    slot.inFlight++;
    expect(slots.hasRoom('remote')).toBe(true);
    slot.inFlight++;
    expect(slots.hasRoom('remote')).toBe(false);
    expect(slots.release(slot)).toBe(true);
    expect(slot.inFlight).toBe(1);
    expect(slots.hasRoom('remote')).toBe(true);
  });

  it('has no room at all for an executor of concurrency 1 holding one attempt', () => {
    const slots = new ExecutorSlots();
    slots.add('one', executor({ concurrency: 1 }));
    slots.slot('one').inFlight = 1;
    expect(slots.hasRoom('one')).toBe(false);
  });

  it('treats an executor without concurrency as unlimited: always room, and a release frees nothing anyone waits for', () => {
    const slots = new ExecutorSlots();
    slots.add('async', executor());
    const slot = slots.slot('async');
    expect(slot.limit).toBe(Infinity);
    slot.inFlight = 1_000_000;
    expect(slots.hasRoom('async')).toBe(true);
    expect(slots.release(slot)).toBe(false);
    expect(slot.inFlight).toBe(999_999);
  });

  it('has no room for, and no executor under, a name never added', () => {
    const slots = new ExecutorSlots();
    slots.add('known', executor({ concurrency: 3 }));
    expect(slots.hasRoom('unknown')).toBe(false);
    expect(slots.get('unknown')).toBeUndefined();
  });

  it("gives back the executor added under a name, and keeps each name's count apart", () => {
    const slots = new ExecutorSlots();
    const a = executor({ concurrency: 1 });
    const b = executor({ concurrency: 1 });
    slots.add('a', a);
    slots.add('b', b);
    expect(slots.get('a')).toBe(a);
    expect(slots.slot('b').executor).toBe(b);
    slots.slot('a').inFlight++;
    expect(slots.hasRoom('a')).toBe(false);
    expect(slots.hasRoom('b')).toBe(true);
  });

  it('closes every executor; one that fails is reported as a warning naming it, and the others still close', async () => {
    const slots = new ExecutorSlots();
    const closed: string[] = [];
    slots.add('first', executor({ close: async () => void closed.push('first') }));
    slots.add('broken', executor({ close: () => Promise.reject(new Error('socket hung up')) }));
    slots.add('odd', executor({ close: () => Promise.reject('not an Error') }));
    slots.add('no-close', executor());
    slots.add('last', executor({ close: async () => void closed.push('last') }));
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    await slots.closeAll();
    expect(closed.sort()).toEqual(['first', 'last']);
    expect(warn.mock.calls).toEqual([
      ['taskchart: executor `broken` failed to close: socket hung up', { code: 'TASKCHART_EXECUTOR_CLOSE' }],
      ['taskchart: executor `odd` failed to close: not an Error', { code: 'TASKCHART_EXECUTOR_CLOSE' }],
    ]);
  });

  it('closes nothing and warns of nothing when every executor closes', async () => {
    const slots = new ExecutorSlots();
    let closes = 0;
    slots.add('a', executor({ close: async () => void closes++ }));
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    await slots.closeAll();
    expect(closes).toBe(1);
    expect(warn).not.toHaveBeenCalled();
  });
});
