/**
 * The store's format: SQLite's `application_id` marks a taskchart store, and
 * `user_version` is its schema version, the number of migrations applied.
 */
import type { Database } from 'better-sqlite3';
import type { StoreError } from '../errors.js';
import { cannotOpen } from './store-errors.js';

/** `PRAGMA application_id` of every taskchart store: 'TKCH' in ASCII. */
export const APPLICATION_ID = 0x544b4348;

/**
 * The migrations, in order: `MIGRATIONS[v]` takes a store from schema version
 * `v` to `v + 1`. Version 0 is a blank file. Append only; never edit one that shipped.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    spec BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    progress REAL NOT NULL,
    message TEXT,
    start_seq INTEGER NOT NULL,
    submitted_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    attempt_started_at INTEGER,
    deadline INTEGER,
    result BLOB,
    error TEXT
  );
  CREATE INDEX tasks_by_seq ON tasks (seq);`,
  // 2: what a live task's dependencies that were forgotten (cleaned up) ended as (trigger rules, ctx.dependencies),
  // and its attempts that do not count against maxRetries (rate limited).
  `ALTER TABLE tasks ADD COLUMN forgotten_dependencies BLOB;
  ALTER TABLE tasks ADD COLUMN free_attempts INTEGER NOT NULL DEFAULT 0;`,
  // 3: long and repeated work: the last heartbeat's checkpoint and time, free re-runs counted (interruptions, remote
  // worker crashes), cache hits, missed deadlines; and the results cache (one row per key).
  `ALTER TABLE tasks ADD COLUMN checkpoint BLOB;
  ALTER TABLE tasks ADD COLUMN last_heartbeat_at INTEGER;
  ALTER TABLE tasks ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN deadline_missed_at INTEGER;
  CREATE TABLE cache (
    key TEXT PRIMARY KEY NOT NULL,
    result BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
  );`,
];

/** The schema version this code writes, and the newest it reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** What a file holds, read by SQLite under the store's lock. */
export interface StoreFormat {
  readonly applicationId: number;
  readonly version: number;
  /** Tables, indexes, views and triggers in the schema. */
  readonly objects: number;
}

/** Reads the format of the database `db` has open; reads only. */
export function readFormat(db: Database): StoreFormat {
  return {
    applicationId: db.pragma('application_id', { simple: true }) as number,
    version: db.pragma('user_version', { simple: true }) as number,
    objects: db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number,
  };
}

/**
 * The schema version of a store in `format`, 0 for a blank database.
 * @throws StoreError when it is another application's database, or a newer taskchart's store.
 */
export function storeVersion(path: string, format: StoreFormat): number {
  if (format.applicationId === APPLICATION_ID) {
    if (format.version > SCHEMA_VERSION) throw newerVersion(path, format.version);
    return format.version;
  }
  if (format.applicationId === 0 && format.objects === 0) return 0;
  throw notAStore(path, format.applicationId);
}

/** A taskchart store written by a newer version of taskchart. */
export function newerVersion(path: string, version: number): StoreError {
  return cannotOpen(
    path,
    `it was written by a newer taskchart: schema version ${version}, this version reads up to ${SCHEMA_VERSION}; upgrade taskchart to open it`,
  );
}

/** An SQLite database that is not a taskchart store. */
export function notAStore(path: string, applicationId: number): StoreError {
  const found =
    applicationId === 0
      ? 'an SQLite database with tables of its own and no application id'
      : `an SQLite database of another application (application_id 0x${(applicationId >>> 0).toString(16)})`;
  return cannotOpen(
    path,
    `expected a taskchart store (application_id 0x${APPLICATION_ID.toString(16)}), found ${found}; it was left untouched`,
  );
}

/**
 * Brings a store from `from` to {@link SCHEMA_VERSION} in one transaction,
 * stamping the application id and version. Run at every open, even when
 * current: the write proves the file writable, so a read-only file fails at
 * open rather than at the first commit.
 */
export function migrate(db: Database, from: number): void {
  db.transaction(() => {
    for (let version = from; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version] as string);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
