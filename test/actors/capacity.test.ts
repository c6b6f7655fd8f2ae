/**
 * The capacity ledger: concurrency slots, resource units and executor slots, taken together at dispatch and
 * given back at two different moments (slot and units when the task leaves `running`, the executor slot when
 * the attempt's promise settles).
 */
import { describe, expect, it } from 'vitest';
import type { Executor } from '../../src/executors/executor.js';
import { CapacityLedger } from '../../src/actors/capacity.js';

const executor = (concurrency?: number): Executor => ({ concurrency, execute: () => Promise.resolve(undefined) });
const needs = (executorName: string, resources: ReadonlyArray<readonly [string, number]> = []) => ({ executor: executorName, resources });

describe('CapacityLedger', () => {
  it('has a slot while fewer than `concurrency` tasks hold one', () => {
    const ledger = new CapacityLedger(2, new Map());
    ledger.addExecutor('async', executor());
    expect(ledger.hasSlot).toBe(true);
    ledger.take(needs('async'));
    expect(ledger.running).toBe(1);
    expect(ledger.hasSlot).toBe(true);
    ledger.take(needs('async'));
    expect(ledger.running).toBe(2);
    expect(ledger.hasSlot).toBe(false);
    ledger.release(needs('async'));
    expect(ledger.running).toBe(1);
    expect(ledger.hasSlot).toBe(true);
  });

  it('fits a task only when its executor has room and its resource units are free', () => {
    const ledger = new CapacityLedger(10, new Map([['db', 2]]));
    ledger.addExecutor('remote', executor(1));
    ledger.addExecutor('async', executor());
    const task = (spec: ReturnType<typeof needs>) => ({ spec });
    expect(ledger.fits(task(needs('remote', [['db', 2]])))).toBe(true);
    ledger.take(needs('async', [['db', 1]]));
    expect(ledger.fits(task(needs('remote', [['db', 2]])))).toBe(false);
    expect(ledger.fits(task(needs('remote', [['db', 1]])))).toBe(true);
    ledger.take(needs('remote'));
    expect(ledger.fits(task(needs('remote')))).toBe(false);
    expect(ledger.fits(task(needs('async', [['db', 1]])))).toBe(true);
    expect(ledger.resources.usedOf('db')).toBe(1);
  });

  it('keeps the executor slot after the task lets go of its concurrency slot and units, until the attempt settles', () => {
    const ledger = new CapacityLedger(4, new Map([['gpu', 1]]));
    ledger.addExecutor('remote', executor(1));
    const slot = ledger.take(needs('remote', [['gpu', 1]]));
    expect(slot.inFlight).toBe(1);
    expect(slot.executor.concurrency).toBe(1);
    ledger.release(needs('remote', [['gpu', 1]]));
    expect(ledger.running).toBe(0);
    expect(ledger.resources.usedOf('gpu')).toBe(0);
    expect(ledger.fits({ spec: needs('remote') })).toBe(false);
    expect(ledger.settled(slot)).toBe(true);
    expect(slot.inFlight).toBe(0);
    expect(ledger.fits({ spec: needs('remote') })).toBe(true);
  });

  it('says that a settled attempt of an unlimited executor frees nothing a queued task waits for', () => {
    const ledger = new CapacityLedger(4, new Map());
    ledger.addExecutor('async', executor());
    const slot = ledger.take(needs('async'));
    expect(ledger.settled(slot)).toBe(false);
    expect(ledger.executors.get('async')).toBe(slot.executor);
  });
});
