/**
 * Opening a store file: the single-writer lock, the format check (before
 * anything is written), the pragmas and the migrations.
 *
 * The lock: `locking_mode = EXCLUSIVE` makes the connection keep every file
 * lock it takes until it closes, and `BEGIN EXCLUSIVE` takes SQLite's
 * exclusive lock on the file at once (a POSIX advisory lock, which the OS
 * drops when the process dies, even by SIGKILL). With a busy timeout of 0, a
 * second store, in this process or another, gets SQLITE_BUSY at once. In
 * exclusive mode, WAL keeps its index in memory: there is no `-shm` file.
 */
import { statSync, type BigIntStats } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Driver } from './driver.js';
import { checkHeader } from './file-check.js';
import { fileKey, hold, isHeld } from './holders.js';
import type { ResolvedSqliteOptions } from './options.js';
import { migrate, readFormat, storeVersion } from './schema.js';
import { cannotOpen, heldElsewhere, reasonOf } from './store-errors.js';

/** The WAL is truncated back to this size after a checkpoint; SQLite checkpoints every 1,000 pages. */
export const JOURNAL_SIZE_LIMIT = 8 * 1024 * 1024;

/** An open, locked, current store file, recorded in the holders until it is released. */
export interface OpenFile {
  readonly db: Database;
  readonly key: string;
}

/** Opens and locks the store file; on any failure closes what it opened and throws StoreError. */
export function openStoreFile(Database: Driver, options: ResolvedSqliteOptions): OpenFile {
  const { path } = options;
  const before = stat(path);
  if (before !== undefined) {
    if (isHeld(fileKey(before))) throw heldElsewhere(path, 'in this process');
    checkHeader(path, before);
  }
  let db: Database;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (error) {
    throw cannotOpen(path, reasonOf(error), error);
  }
  try {
    const version = lockAndCheck(db, path);
    configure(db, options);
    migrate(db, version);
    // A new store's application id goes to the main file now, so that the header check recognises it.
    if (version === 0) db.pragma('wal_checkpoint(TRUNCATE)');
    const after = stat(path);
    if (after === undefined) throw new Error('the file disappeared while it was being opened');
    const key = fileKey(after);
    hold(key);
    return { db, key };
  } catch (error) {
    try {
      db.close();
    } catch {
      // Already failing; the first error is the one to report.
    }
    throw error instanceof StoreError ? error : cannotOpen(path, reasonOf(error), error);
  }
}

/**
 * Takes the lock and reads the format, writing nothing; returns the store's
 * schema version. After a refusal here, closing the connection checkpoints
 * the file's WAL into it (same content, other bytes): only for what the
 * header check could not see, a database whose first tables are still in its WAL.
 */
function lockAndCheck(db: Database, path: string): number {
  db.pragma('locking_mode = EXCLUSIVE');
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY') throw heldElsewhere(path, 'in another process', error);
    if (code === 'SQLITE_NOTADB')
      throw cannotOpen(path, 'expected an SQLite database (a taskchart store), found a file that is not one; it was left untouched', error);
    throw error;
  }
  try {
    return storeVersion(path, readFormat(db));
  } finally {
    db.exec('ROLLBACK'); // nothing was written; in exclusive mode the lock stays
  }
}

function configure(db: Database, options: ResolvedSqliteOptions): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`SQLite would not switch the file to WAL mode (it stayed in ${String(mode)} mode)`);
  db.pragma(`synchronous = ${options.synchronous}`);
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
}

function stat(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch (error) {
    throw cannotOpen(path, `could not read the file's status: ${(error as Error).message}`, error);
  }
}
