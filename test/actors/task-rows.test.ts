/**
 * What a durable engine writes for a task: every field of the state row from the record, the times that matter
 * only in some states (an attempt's start while running, a result once completed), the last attempt's error kept
 * through a backoff, and a completed task's encoded result dropped from memory once it is on disk.
 */
import { describe, expect, it } from 'vitest';
import { recordRows } from '../../src/actors/task-rows.js';
import type { TaskRecord } from '../../src/actors/task-record.js';
import { decodeError } from '../../src/store/codec.js';

function record(fields: Partial<TaskRecord>): TaskRecord {
  return {
    id: 'task-1',
    name: 'fetch',
    state: 'pending',
    attempts: 0,
    progress: 0,
    seq: 0,
    ...fields,
  } as TaskRecord;
}

describe('recordRows', () => {
  it('names the row by the task id and keeps what is fixed from the record itself', () => {
    const r = record({});
    expect(recordRows.id(r)).toBe('task-1');
    expect(recordRows.fixed(r)).toBe(r);
  });

  it('writes every field of a running task, with the attempt start and its timeout', () => {
    const row = recordRows.state(
      record({
        state: 'running',
        attempts: 2,
        progress: 0.25,
        message: 'page 3',
        seq: 7,
        submittedAt: 100,
        startedAt: 110,
        attemptStartedAt: 150,
        deadline: 1150,
        freeAttempts: 1,
      }),
    );
    expect(row).toEqual({
      id: 'task-1',
      state: 'running',
      attempts: 2,
      progress: 0.25,
      message: 'page 3',
      startSeq: 7,
      submittedAt: 100,
      startedAt: 110,
      finishedAt: null,
      attemptStartedAt: 150,
      deadline: 1150,
      result: null,
      error: null,
      forgottenDependencies: null,
      freeAttempts: 1,
    });
  });

  it('writes null, not undefined, for what a task has not reached yet', () => {
    const row = recordRows.state(record({ attemptStartedAt: 5 }));
    expect(row).toMatchObject({
      message: null,
      submittedAt: null,
      startedAt: null,
      finishedAt: null,
      attemptStartedAt: null, // only meaningful while running
      deadline: null,
      result: null,
      error: null,
    });
  });

  it('writes the encoded result of a completed task only, then drops it from the record once written', () => {
    const encoded = new Uint8Array([1, 2, 3]);
    const completed = record({ state: 'completed', finishedAt: 200, storedResult: encoded, attemptStartedAt: 150 });
    const row = recordRows.state(completed);
    expect(row.result).toBe(encoded);
    expect(row.finishedAt).toBe(200);
    expect(row.attemptStartedAt).toBeNull();
    recordRows.written(completed);
    expect(completed.storedResult).toBeUndefined();
    // Not yet completed: nothing written, and the record keeps what it has.
    const running = record({ state: 'running', storedResult: encoded });
    expect(recordRows.state(running).result).toBeNull();
    recordRows.written(running);
    expect(running.storedResult).toBe(encoded);
    // Completed with nothing stored (already written): null.
    expect(recordRows.state(record({ state: 'completed' })).result).toBeNull();
  });

  it("writes a failed task's error, and a retrying task's last error for the retry after a restore", () => {
    const failed = recordRows.state(record({ state: 'failed', error: Object.assign(new Error('boom'), { code: 'E1' }) }));
    expect(decodeError(failed.error)?.message).toBe('boom');
    const retrying = recordRows.state(record({ state: 'retrying', lastError: new Error('try again') }));
    expect(decodeError(retrying.error)?.message).toBe('try again');
    // The task's own error wins over the last attempt's.
    const both = recordRows.state(record({ state: 'failed', error: new Error('final'), lastError: new Error('earlier') }));
    expect(decodeError(both.error)?.message).toBe('final');
  });
});
