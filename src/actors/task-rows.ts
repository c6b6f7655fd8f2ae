/**
 * What a task's row in the store says: the supervisor's reading of its record. The store keeps rows
 * (src/store/); this decides their meaning — which times count, when a result or an error is written —
 * and src/actors/restore.ts reads them back.
 */
import { encodeCheckpoint, encodeError, encodeForgotten } from '../store/codec.js';
import type { TaskRows } from '../store/durability.js';
import type { TaskStateRow } from '../store/task-store.js';
import type { TaskRecord } from './task-record.js';

function stateRow(record: TaskRecord): TaskStateRow {
  const long = record.long;
  const row: TaskStateRow = {
    id: record.id,
    state: record.state,
    attempts: record.attempts,
    progress: record.progress,
    message: record.message ?? null,
    startSeq: record.seq,
    submittedAt: record.submittedAt ?? null,
    startedAt: record.startedAt ?? null,
    finishedAt: record.finishedAt ?? null,
    // Meaningful only while an attempt runs: a crash then counts that attempt as interrupted.
    attemptStartedAt: record.state === 'running' ? record.attemptStartedAt : null,
    deadline: record.deadline ?? null,
    result: record.state === 'completed' ? (record.storedResult ?? null) : null,
    // A task in backoff keeps its last attempt's error, for the retry after a restore.
    error: encodeError(record.error ?? record.lastError),
    forgottenDependencies: encodeForgotten(record.forgottenDependencies),
    freeAttempts: record.freeAttempts,
  };
  if (long === undefined) return row;
  return {
    ...row,
    checkpoint: encodeCheckpoint(long.checkpoint),
    lastHeartbeatAt: long.lastHeartbeatAt ?? null,
    interruptions: long.interruptions,
    crashes: long.crashes,
    cached: long.cached,
    deadlineMissedAt: long.deadlineMissedAt ?? null,
  };
}

/** Records as the store's rows (given to `Durability`). */
export const recordRows: TaskRows<TaskRecord> = {
  id: (record) => record.id,
  fixed: (record) => record,
  state: stateRow,
  written(record) {
    // A finished task's encoded result is on disk now; the record keeps only the value.
    if (record.state === 'completed') record.storedResult = undefined;
  },
};
