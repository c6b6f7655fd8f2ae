/** The prepared statements of an open store, the batch they apply and the rows they load. */
import type { Database, Statement } from 'better-sqlite3';
import type { StoreBatch, TaskRow, TaskStateRow } from '../store/task-store.js';

const STATE_COLUMNS = [
  'state',
  'attempts',
  'progress',
  'message',
  'start_seq',
  'submitted_at',
  'started_at',
  'finished_at',
  'attempt_started_at',
  'deadline',
  'result',
  'error',
  'forgotten_dependencies',
  'free_attempts',
  'checkpoint',
  'last_heartbeat_at',
  'interruptions',
  'crashes',
  'cached',
  'deadline_missed_at',
] as const;
const ROW_COLUMNS = ['id', 'seq', 'name', 'spec', 'created_at', ...STATE_COLUMNS] as const;

/** The statements of one connection, prepared once at open. */
export interface Statements {
  readonly insert: Statement<unknown[]>;
  readonly update: Statement<unknown[]>;
  readonly remove: Statement<[string]>;
  readonly load: Statement<[], unknown[]>;
  readonly count: Statement<[], number>;
  readonly cachePut: Statement<unknown[]>;
  readonly cacheGet: Statement<[string, number], Uint8Array>;
  readonly cacheClear: Statement<[]>;
}

export function prepareStatements(db: Database): Statements {
  return {
    insert: db.prepare(`INSERT INTO tasks (${ROW_COLUMNS.join(', ')}) VALUES (${ROW_COLUMNS.map(() => '?').join(', ')})`),
    update: db.prepare(`UPDATE tasks SET ${STATE_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`),
    remove: db.prepare('DELETE FROM tasks WHERE id = ?'),
    load: db.prepare<[], unknown[]>(`SELECT ${ROW_COLUMNS.join(', ')} FROM tasks ORDER BY seq`).raw(),
    count: db.prepare<[], number>('SELECT count(*) FROM tasks').pluck(),
    cachePut: db.prepare('INSERT OR REPLACE INTO cache (key, result, created_at, expires_at) VALUES (?, ?, ?, ?)'),
    cacheGet: db
      .prepare<[string, number], Uint8Array>('SELECT result FROM cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)')
      .pluck(),
    cacheClear: db.prepare('DELETE FROM cache'),
  };
}

/**
 * Applies a batch inside the caller's transaction: deletes, then inserts, then
 * updates. An update of an id the store does not hold throws (the engine and
 * the store disagree); a delete of one is a no-op.
 */
export function applyBatch(statements: Statements, batch: StoreBatch): void {
  const { insert, update, remove, cachePut } = statements;
  for (const id of batch.deletes) remove.run(id);
  for (const row of batch.inserts) insert.run(row.id, row.seq, row.name, row.spec, row.createdAt, ...stateValues(row));
  for (const row of batch.updates) {
    if (update.run(...stateValues(row), row.id).changes !== 1) {
      throw new Error(`the batch updates task \`${row.id}\`, which the store does not hold (never inserted, or deleted)`);
    }
  }
  for (const entry of batch.cacheWrites ?? []) cachePut.run(entry.key, entry.result, entry.createdAt, entry.expiresAt);
}

/** The values of {@link STATE_COLUMNS}, in order; an absent optional field is stored as NULL. */
function stateValues(row: TaskStateRow): unknown[] {
  return [
    row.state,
    row.attempts,
    row.progress,
    row.message ?? null,
    row.startSeq,
    row.submittedAt ?? null,
    row.startedAt ?? null,
    row.finishedAt ?? null,
    row.attemptStartedAt ?? null,
    row.deadline ?? null,
    row.result ?? null,
    row.error ?? null,
    row.forgottenDependencies ?? null,
    row.freeAttempts ?? 0,
    row.checkpoint ?? null,
    row.lastHeartbeatAt ?? null,
    row.interruptions ?? 0,
    row.crashes ?? 0,
    row.cached === true ? 1 : 0,
    row.deadlineMissedAt ?? null,
  ];
}

/**
 * Every row, in `seq` order. Rows come from SQLite as arrays and are built
 * here as object literals: about twice as fast as better-sqlite3's own row
 * objects, and every row shares one shape.
 */
export function loadRows(statements: Statements): TaskRow[] {
  const rows: TaskRow[] = [];
  for (const r of statements.load.iterate()) {
    rows.push({
      id: r[0],
      seq: r[1],
      name: r[2],
      spec: r[3],
      createdAt: r[4],
      state: r[5],
      attempts: r[6],
      progress: r[7],
      message: r[8],
      startSeq: r[9],
      submittedAt: r[10],
      startedAt: r[11],
      finishedAt: r[12],
      attemptStartedAt: r[13],
      deadline: r[14],
      result: r[15],
      error: r[16],
      forgottenDependencies: r[17],
      freeAttempts: r[18],
      checkpoint: r[19],
      lastHeartbeatAt: r[20],
      interruptions: r[21],
      crashes: r[22],
      cached: r[23] === 1,
      deadlineMissedAt: r[24],
    } as TaskRow);
  }
  return rows;
}
