import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { completedState, inserts, rows, taskRow, useTestFiles } from './helpers.js';

describe('SqliteStore.commit and load', () => {
  const files = useTestFiles();

  function openStore() {
    const store = files.store();
    store.open();
    return store;
  }

  it('keeps every column of a row: blobs come back as Buffers, nulls as null, fractions exact', () => {
    const store = openStore();
    const row = taskRow(1, {
      id: 'τ-1 "quoted"',
      name: 'naïve name',
      spec: new Uint8Array([0, 255, 7]),
      state: 'retrying',
      attempts: 2,
      progress: 0.375,
      message: 'half ✓',
      startSeq: 3,
      submittedAt: 1_700_000_000_001,
      startedAt: 1_700_000_000_002,
      finishedAt: null,
      attemptStartedAt: 1_700_000_000_003,
      deadline: 1_700_000_000_004.5,
      result: null,
      error: '{"name":"Error","message":"boom"}',
      forgottenDependencies: new Uint8Array([9, 8]),
      freeAttempts: 1,
      checkpoint: new Uint8Array([4, 2]),
      lastHeartbeatAt: 1_700_000_000_005,
      interruptions: 1,
      crashes: 2,
      cached: true,
      deadlineMissedAt: 1_700_000_000_006,
    });
    store.commit(inserts([row]));
    const [loaded] = store.load();
    expect(loaded).toEqual({
      ...row,
      spec: Buffer.from([0, 255, 7]),
      forgottenDependencies: Buffer.from([9, 8]),
      checkpoint: Buffer.from([4, 2]),
    });
    expect(Buffer.isBuffer(loaded?.spec)).toBe(true);
  });

  it('loads rows in seq order, whatever the order of inserts', () => {
    const store = openStore();
    store.commit(inserts([taskRow(30), taskRow(10)]));
    store.commit(inserts([taskRow(20)]));
    expect(store.load().map((row) => row.seq)).toEqual([10, 20, 30]);
  });

  it('updates only the state columns, by id', () => {
    const store = openStore();
    store.commit(inserts([taskRow(1), taskRow(2)]));
    const update = completedState('task-1');
    store.commit({ inserts: [], updates: [update], deletes: [] });
    const [first, second] = store.load();
    expect(first).toEqual({ ...taskRow(1), ...update });
    expect(second).toEqual(taskRow(2));
  });

  it('applies a batch as deletes, then inserts, then updates: an id deleted and inserted again in one batch is the new row', () => {
    const store = openStore();
    store.commit(inserts([taskRow(1), taskRow(3)]));
    store.commit({
      deletes: ['task-1', 'task-3'],
      inserts: [taskRow(2), { ...taskRow(3), name: 'task 3 again' }],
      updates: [completedState('task-2')],
    });
    expect(store.load()).toEqual([
      { ...taskRow(2), ...completedState('task-2') },
      { ...taskRow(3), name: 'task 3 again' },
    ]);
  });

  it('takes a delete of a task it does not hold as a no-op', () => {
    const store = openStore();
    store.commit(inserts([taskRow(1)]));
    store.commit({ inserts: [], updates: [], deletes: ['never-inserted'] });
    expect(store.load()).toHaveLength(1);
  });

  it('applies nothing of a batch with a duplicate id, throws StoreError with the cause, and stays usable', () => {
    const store = openStore();
    store.commit(inserts([taskRow(1), taskRow(2)]));
    let caught: unknown;
    try {
      store.commit({ inserts: [taskRow(3), taskRow(1)], updates: [completedState('task-2')], deletes: ['task-2'] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect(caught).toMatchObject({ code: 'ERR_STORE', cause: expect.objectContaining({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }) });
    expect((caught as Error).message).toBe(
      `Could not commit to the task store \`${files.file()}\`: UNIQUE constraint failed: tasks.id (SQLITE_CONSTRAINT_PRIMARYKEY); ` +
        'nothing of the batch (2 inserts, 1 updates, 1 deletes) was applied',
    );
    expect(store.load()).toEqual([taskRow(1), taskRow(2)]);
    store.commit(inserts([taskRow(3)]));
    expect(store.load()).toHaveLength(3);
  });

  it('keeps results cache entries written with a batch, fresh until their expiry, kept across close and open, until cleared', () => {
    const store = openStore();
    store.commit({
      ...inserts([taskRow(1)]),
      cacheWrites: [
        { key: 'k-forever', result: new Uint8Array([1]), createdAt: 10, expiresAt: null },
        { key: 'k-ttl', result: new Uint8Array([2]), createdAt: 10, expiresAt: 100 },
      ],
    });
    expect(store.cacheGet('k-forever', 1e15)).toEqual(Buffer.from([1]));
    expect(store.cacheGet('k-ttl', 99)).toEqual(Buffer.from([2]));
    expect(store.cacheGet('k-ttl', 100)).toBeUndefined(); // expired at exactly expiresAt
    expect(store.cacheGet('unknown', 0)).toBeUndefined();
    // A later write of a key replaces it; a batch of cache writes alone is committed too.
    store.commit({
      inserts: [],
      updates: [],
      deletes: [],
      cacheWrites: [{ key: 'k-ttl', result: new Uint8Array([3]), createdAt: 200, expiresAt: 300 }],
    });
    expect(store.cacheGet('k-ttl', 250)).toEqual(Buffer.from([3]));
    store.close();
    const reopened = files.store();
    reopened.open();
    expect(reopened.cacheGet('k-forever', 0)).toEqual(Buffer.from([1]));
    reopened.cacheClear();
    expect(reopened.cacheGet('k-forever', 0)).toBeUndefined();
    expect(reopened.load()).toHaveLength(1); // the tasks stay
    reopened.close();
  });

  it('writes no cache entry of a batch that fails: they share its transaction', () => {
    const store = openStore();
    store.commit(inserts([taskRow(1)]));
    expect(() =>
      store.commit({
        ...inserts([taskRow(1)]),
        cacheWrites: [{ key: 'k', result: new Uint8Array([1]), createdAt: 0, expiresAt: null }],
      }),
    ).toThrow(StoreError);
    expect(store.cacheGet('k', 0)).toBeUndefined();
  });

  it('applies nothing of a batch that updates a task it does not hold, naming the task', () => {
    const store = openStore();
    expect(() => store.commit({ inserts: [taskRow(1)], updates: [completedState('ghost')], deletes: [] })).toThrow(
      /updates task `ghost`, which the store does not hold \(never inserted, or deleted\); nothing of the batch .* was applied/,
    );
    expect(store.load()).toEqual([]);
  });

  it('keeps what was committed across close and open', () => {
    const store = openStore();
    store.commit(inserts(rows(1, 10)));
    store.commit({ inserts: [], updates: [completedState('task-4')], deletes: ['task-5'] });
    store.close();
    const reopened = files.store();
    expect(reopened.open()).toEqual({ tasks: 9 });
    const loaded = reopened.load();
    expect(loaded.map((row) => row.seq)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(loaded[3]).toMatchObject({ state: 'completed', result: Buffer.from([1, 2, 3]) });
  });

  it('loads 100,000 rows in seq order, fast', () => {
    const store = openStore();
    for (let from = 1; from <= 100_000; from += 10_000) store.commit(inserts(rows(from, 10_000, 64)));
    store.close();
    const reopened = files.store();
    expect(reopened.open()).toEqual({ tasks: 100_000 });
    const started = performance.now();
    const loaded = reopened.load();
    const ms = performance.now() - started;
    expect(loaded).toHaveLength(100_000);
    expect(loaded.every((row, i) => row.seq === i + 1)).toBe(true);
    expect(ms).toBeLessThan(5_000); // about 0.2 to 0.4 s measured; generous for loaded CI machines
  });
});
