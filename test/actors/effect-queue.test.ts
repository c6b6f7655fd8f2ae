/**
 * The supervisor's run-to-completion queue on its own, with a host that records what it is asked to do: effects
 * queued during a step are carried out once the outermost step is over, propagation first, then attempts (in
 * order, each only once it may run), then the pump; never inside a step or inside a drain; nothing once halted.
 */
import { describe, expect, it } from 'vitest';
import type { TaskMachineEvent } from '../../src/machines/task.machine.js';
import type { Clock } from '../../src/options.js';
import { EffectQueue, type EffectHost, type PendingAttempt } from '../../src/actors/effect-queue.js';
import type { TaskRecord } from '../../src/actors/task-record.js';

const record = (id: string): TaskRecord => ({ id }) as unknown as TaskRecord;
const event: TaskMachineEvent = { type: 'CANCEL' } as TaskMachineEvent;
const attempt = (id: string, commitCount = 0): PendingAttempt => ({ record: record(id), attempt: 1, commitCount, resumed: false });

/** A host that logs each call; `onSend`, `onPump` and `mayRun` let a test act from inside a drain. */
function recordingHost(options: { mayRun?: (a: PendingAttempt) => boolean; onSend?: () => void; onPump?: () => void } = {}) {
  const log: string[] = [];
  const state = { halted: false };
  const host: EffectHost = {
    send: (r) => {
      log.push(`send ${r.id}`);
      options.onSend?.();
    },
    mayRun: options.mayRun ?? (() => true),
    run: (a) => void log.push(`run ${a.record.id}`),
    pump: () => {
      log.push('pump');
      options.onPump?.();
    },
    drained: () => void log.push('drained'),
    halted: () => state.halted,
  };
  return { host, log, state };
}

describe('EffectQueue', () => {
  it('carries out the effects of a step only when the outermost step settles: propagation, then attempts, then the pump', () => {
    const { host, log } = recordingHost();
    const queue = new EffectQueue(host);
    queue.enter();
    queue.enter();
    queue.requestPump();
    queue.runAttempt(attempt('a1'));
    queue.propagate(record('dependent'), event);
    queue.runAttempt(attempt('a2'));
    expect(queue.busy).toBe(true);
    expect(queue.pendingAttempts).toBe(2);
    queue.leave();
    queue.settle(); // an inner step: nothing yet
    expect(log).toEqual([]);
    queue.leave();
    expect(queue.busy).toBe(false);
    queue.settle();
    expect(log).toEqual(['send dependent', 'run a1', 'run a2', 'pump', 'drained']);
    expect(queue.pendingAttempts).toBe(0);
  });

  it('pumps once per request, and again when a drain asks for it', () => {
    let pumps = 0;
    const { host, log } = recordingHost({ onPump: () => void (++pumps === 1 && queue.requestPump()) });
    const queue = new EffectQueue(host);
    queue.drain();
    expect(log).toEqual(['drained']);
    queue.requestPump();
    queue.drain();
    expect(log).toEqual(['drained', 'pump', 'pump', 'drained']);
  });

  it('holds an attempt that may not run yet, and every attempt behind it, until a later drain', () => {
    const allowed = new Set<string>();
    const { host, log } = recordingHost({ mayRun: (a) => allowed.has(a.record.id) });
    const queue = new EffectQueue(host);
    queue.runAttempt(attempt('first'));
    queue.runAttempt(attempt('second'));
    allowed.add('second');
    queue.drain();
    expect(log).toEqual(['drained']);
    expect(queue.pendingAttempts).toBe(2);
    allowed.add('first');
    queue.drain();
    expect(log).toEqual(['drained', 'run first', 'run second', 'drained']);
  });

  it('does not drain inside a drain: effects queued by a send are carried out by the drain going on', () => {
    const { host, log } = recordingHost({
      onSend: () => {
        if (log.length > 1) return;
        queue.propagate(record('second'), event);
        expect(queue.busy).toBe(true);
        queue.drain(); // reentrant: ignored
        queue.settle();
      },
    });
    const queue = new EffectQueue(host);
    queue.propagate(record('first'), event);
    queue.drain();
    expect(log).toEqual(['send first', 'send second', 'drained']);
  });

  it('carries out nothing once the engine halted, and forgets what was queued on clear', () => {
    const { host, log, state } = recordingHost();
    const queue = new EffectQueue(host);
    queue.propagate(record('d1'), event);
    queue.propagate(record('d2'), event);
    queue.runAttempt(attempt('a1'));
    queue.runAttempt(attempt('a2'));
    state.halted = true;
    queue.drain();
    expect(log).toEqual([]);
    state.halted = false;
    queue.clear();
    expect(queue.pendingAttempts).toBe(0);
    queue.drain();
    expect(log).toEqual(['drained']);
  });

  it('drains once, on a microtask, however often a drain is scheduled', async () => {
    const { host, log } = recordingHost();
    const queue = new EffectQueue(host);
    queue.requestPump();
    queue.scheduleDrain();
    queue.scheduleDrain();
    expect(log).toEqual([]);
    await Promise.resolve();
    expect(log).toEqual(['pump', 'drained']);
    queue.scheduleDrain();
    await Promise.resolve();
    expect(log).toEqual(['pump', 'drained', 'drained']);
  });

  it('runs a timer callback as a step: what it queued is carried out as soon as it returns', () => {
    const { host, log } = recordingHost();
    const queue = new EffectQueue(host);
    const timers = new Map<number, (...args: unknown[]) => void>();
    const cleared: unknown[] = [];
    const base: Clock = {
      setTimeout: (fn, ms) => {
        timers.set(ms, fn as (...args: unknown[]) => void);
        return ms;
      },
      clearTimeout: (id) => void cleared.push(id),
    };
    const clock = queue.wrapClock(base);
    const seen: unknown[] = [];
    const id = clock.setTimeout((...args: unknown[]) => {
      seen.push(queue.busy, ...args);
      queue.propagate(record('timed-out dependent'), event);
      expect(log).toEqual([]); // not inside the callback
    }, 250);
    expect(id).toBe(250);
    timers.get(250)?.('arg');
    expect(seen).toEqual([true, 'arg']);
    expect(queue.busy).toBe(false);
    expect(log).toEqual(['send timed-out dependent', 'drained']);
    clock.clearTimeout(id);
    expect(cleared).toEqual([250]);
  });

  it('ends the step even when a timer callback throws', () => {
    const { host } = recordingHost();
    const queue = new EffectQueue(host);
    let fire: (() => void) | undefined;
    const clock = queue.wrapClock({ setTimeout: (fn) => ((fire = fn as () => void), 1), clearTimeout: () => {} });
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 1);
    expect(() => fire?.()).toThrow('boom');
    expect(queue.busy).toBe(false);
  });
});
