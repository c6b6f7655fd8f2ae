/**
 * What a durable task's row gets when it enters a state (the deadline a restore waits for: the backoff's end in
 * `retrying`, the attempt's timeout in `running`; the last attempt's error through a backoff), and when the group
 * commit happens: soon (a microtask) for transitions, lazily (a later turn) for progress and deletions alone.
 */
import { describe, expect, it } from 'vitest';
import { Commits } from '../../src/actors/commits.js';
import type { TaskRecord } from '../../src/actors/task-record.js';
import type { TaskMachineContext } from '../../src/machines/task.machine.js';
import type { Durability } from '../../src/store/durability.js';

function setup() {
  const changed: string[] = [];
  let pending = false;
  const committed: number[] = [];
  const durability = {
    get hasPending() {
      return pending;
    },
    registered: () => void (pending = true),
    changed: (record: TaskRecord) => {
      changed.push(record.id);
      pending = true;
    },
    forgotten: () => void (pending = true),
    commit: () => {
      committed.push(Date.now());
      pending = false;
    },
  } as unknown as Durability;
  const commits = new Commits(durability, { halted: () => false, halt: () => {}, drain: () => {}, now: () => 1000 });
  return { commits, changed, committed };
}

const record = (): TaskRecord => ({ id: 't', durable: true, deadline: 5, lastError: 'old' }) as unknown as TaskRecord;
const context = (fields: Partial<TaskMachineContext>) =>
  ({ backoff: 0, timeout: undefined, error: undefined, ...fields }) as TaskMachineContext;

describe('Commits', () => {
  it('gives a task in backoff the backoff end and the last error, and a timed attempt its timeout', () => {
    const { commits, changed } = setup();
    const r = record();
    commits.entered(r, 'retrying', context({ backoff: 250, error: 'boom' }));
    expect(r).toMatchObject({ deadline: 1250, lastError: 'boom' });
    commits.entered(r, 'running', context({ timeout: 400, error: 'boom' }));
    expect(r).toMatchObject({ deadline: 1400, lastError: undefined });
    commits.entered(r, 'running', context({ timeout: undefined }));
    expect(r.deadline).toBeUndefined();
    commits.entered(r, 'queued', context({ timeout: 400, backoff: 250, error: 'boom' }));
    expect(r).toMatchObject({ deadline: undefined, lastError: undefined });
    expect(changed).toEqual(['t', 't', 't', 't']);
  });

  it('commits transitions soon, once per step, and progress or deletions alone at a later turn', async () => {
    const { commits, committed } = setup();
    const r = record();
    commits.entered(r, 'queued', context({}));
    commits.schedule(true);
    commits.schedule(true);
    expect(committed).toHaveLength(0);
    await Promise.resolve();
    await Promise.resolve();
    expect(committed).toHaveLength(1);
    commits.progressed(r);
    await Promise.resolve();
    await Promise.resolve();
    expect(committed).toHaveLength(1); // not on a microtask
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(committed).toHaveLength(2);
    commits.forgotten(r);
    commits.forgotten(r);
    await Promise.resolve();
    await Promise.resolve();
    expect(committed).toHaveLength(2); // a deletion alone waits for a later turn too
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(committed).toHaveLength(3);
    expect(commits.count).toBe(3);
  });
});
