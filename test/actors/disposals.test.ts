/**
 * A task's resource disposers as the supervisor runs them: kept until the terminal status, then run once, last
 * registered first, on a microtask; registered after the end, run at once; every disposal tracked until it is over
 * (cleanupTask and shutdown wait for it); a throwing disposer reported with the task, the others still run.
 */
import { describe, expect, it } from 'vitest';
import { Disposals } from '../../src/actors/disposals.js';
import type { TaskRecord } from '../../src/actors/task-record.js';

function setup() {
  const reported: string[] = [];
  const disposals = new Disposals((taskId, name, error) => reported.push(`${taskId}/${name}: ${(error as Error).message}`));
  const record = { id: 't1', name: 'fetch', disposers: undefined, disposal: undefined } as unknown as TaskRecord;
  return { disposals, reported, record };
}

/** A disposer that logs when it starts and finishes only when released. */
function gated(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    dispose: async () => {
      log.push(`${name} start`);
      await done;
      log.push(`${name} end`);
    },
    release: () => release(),
  };
}

describe('Disposals', () => {
  it('keeps disposers until the terminal status, then runs them once, last registered first, on a microtask', async () => {
    const { disposals, record } = setup();
    const log: string[] = [];
    disposals.add(record, () => void log.push('db'), false);
    disposals.add(record, () => void log.push('browser'), false);
    expect(log).toEqual([]);
    disposals.disposeAll(record);
    expect(log).toEqual([]); // never inside the transition
    await disposals.settle();
    expect(log).toEqual(['browser', 'db']);
    disposals.disposeAll(record);
    await disposals.settle();
    expect(log).toEqual(['browser', 'db']);
    expect(record.disposers).toBeUndefined();
  });

  it('does nothing for a task without disposers', async () => {
    const { disposals, record } = setup();
    disposals.disposeAll(record);
    expect(record.disposal).toBeUndefined();
    await disposals.settle();
  });

  it('runs a disposer registered after the end at once, and the task waits for both disposals', async () => {
    const { disposals, record } = setup();
    const log: string[] = [];
    const first = gated(log, 'first');
    disposals.add(record, first.dispose, false);
    disposals.disposeAll(record);
    await Promise.resolve();
    const late = gated(log, 'late');
    disposals.add(record, late.dispose, true);
    expect(log).toEqual(['first start', 'late start']);
    let settled = false;
    const whole = record.disposal?.then(() => (settled = true));
    const all = disposals.settle();
    late.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false); // the first is still under way
    first.release();
    await all;
    await whole;
    expect(settled).toBe(true);
    expect(log).toEqual(['first start', 'late start', 'late end', 'first end']);
  });

  it('settle() waits for disposals that start while it waits', async () => {
    const { disposals, record } = setup();
    const log: string[] = [];
    const a = gated(log, 'a');
    disposals.add(record, a.dispose, true);
    const settled = disposals.settle();
    const other = { id: 't2', name: 'parse' } as unknown as TaskRecord;
    const b = gated(log, 'b');
    disposals.add(other, b.dispose, true);
    a.release();
    let done = false;
    void settled.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    b.release();
    await settled;
    expect(log).toEqual(['a start', 'b start', 'a end', 'b end']);
  });

  it('reports a throwing disposer with its task and still runs the others', async () => {
    const { disposals, reported, record } = setup();
    const log: string[] = [];
    disposals.add(record, () => void log.push('first'), false);
    disposals.add(
      record,
      () => {
        throw new Error('close failed');
      },
      false,
    );
    disposals.disposeAll(record);
    disposals.add(record, () => Promise.reject(new Error('late failed')), true);
    await disposals.settle();
    expect(log).toEqual(['first']);
    expect(reported.sort()).toEqual(['t1/fetch: close failed', 't1/fetch: late failed']);
  });

  it('runs the disposer of an attempt whose task was forgotten at once, reporting under its id and name', async () => {
    const { disposals, reported } = setup();
    const log: string[] = [];
    disposals.runOrphan('gone', 'old', () => void log.push('ran'));
    disposals.runOrphan('gone', 'old', () => {
      throw new Error('boom');
    });
    expect(log).toEqual(['ran']);
    await Promise.resolve();
    expect(reported).toEqual(['gone/old: boom']);
  });
});
