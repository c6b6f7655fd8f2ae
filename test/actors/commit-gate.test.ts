/**
 * What a durable engine holds back until its commit: effects wait in order, effects deferred while the held ones
 * are carried out wait for the next commit, and a discard drops them for good.
 */
import { describe, expect, it } from 'vitest';
import { CommitGate } from '../../src/actors/commit-gate.js';

describe('CommitGate', () => {
  it('holds nothing at first, and a release then does nothing', () => {
    const gate = new CommitGate();
    expect(gate.holding).toBe(false);
    gate.release();
    expect(gate.holding).toBe(false);
  });

  it('holds deferred effects until released, then carries them out once, in order', () => {
    const gate = new CommitGate();
    const done: string[] = [];
    gate.defer(() => done.push('status event'));
    expect(gate.holding).toBe(true);
    gate.defer(() => done.push('waiter settled'));
    expect(done).toEqual([]);
    gate.release();
    expect(done).toEqual(['status event', 'waiter settled']);
    expect(gate.holding).toBe(false);
    gate.release();
    expect(done).toEqual(['status event', 'waiter settled']);
  });

  it('keeps an effect deferred while it releases for the next commit', () => {
    const gate = new CommitGate();
    const done: string[] = [];
    gate.defer(() => {
      done.push('first');
      gate.defer(() => done.push('deferred meanwhile'));
    });
    gate.release();
    expect(done).toEqual(['first']);
    expect(gate.holding).toBe(true);
    gate.release();
    expect(done).toEqual(['first', 'deferred meanwhile']);
  });

  it('drops held effects on discard: they never happen', () => {
    const gate = new CommitGate();
    const done: string[] = [];
    gate.defer(() => done.push('never'));
    gate.discard();
    expect(gate.holding).toBe(false);
    gate.release();
    expect(done).toEqual([]);
  });
});
