/** SqliteStore: the TaskStore that ships, one SQLite file per engine. */
import type { Database } from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { StoreBatch, TaskRow, TaskStore } from '../store/task-store.js';
import { openStoreFile } from './connection.js';
import { loadDriver } from './driver.js';
import { release } from './holders.js';
import { resolveSqliteOptions, type ResolvedSqliteOptions, type SqliteStoreOptions } from './options.js';
import { APPLICATION_ID, SCHEMA_VERSION } from './schema.js';
import { applyBatch, loadRows, prepareStatements, type Statements } from './statements.js';
import { notOpen, reasonOf } from './store-errors.js';

interface Open {
  readonly db: Database;
  readonly key: string;
  readonly statements: Statements;
  readonly commit: (batch: StoreBatch) => void;
}

/**
 * A durable {@link TaskStore} in one SQLite file (WAL mode), held by one
 * engine at a time: from `open()` to `close()` the file is locked, and a
 * second store, in this process or another, is refused at once.
 *
 * Needs the optional peer dependency better-sqlite3 12 (`npm install better-sqlite3@12`).
 *
 * @example
 * import { TaskEngine } from 'taskchart';
 * import { SqliteStore } from 'taskchart/sqlite';
 * const engine = new TaskEngine({ store: new SqliteStore({ path: 'tasks.db' }) });
 */
export class SqliteStore implements TaskStore {
  /** `PRAGMA application_id` of every taskchart store file. */
  static readonly APPLICATION_ID: number = APPLICATION_ID;
  /** The schema version (`PRAGMA user_version`) this version writes, and the newest it reads. */
  static readonly SCHEMA_VERSION: number = SCHEMA_VERSION;

  readonly #options: ResolvedSqliteOptions;
  #open: Open | undefined;
  #closed = false;

  /**
   * Validates the options; touches no file (`open()` does).
   * @throws InvalidOptionError on a bad option, naming it.
   */
  constructor(options: SqliteStoreOptions) {
    this.#options = resolveSqliteOptions(options);
  }

  /** The database file, as an absolute path. */
  get path(): string {
    return this.#options.path;
  }

  /**
   * Opens and locks the file, creating a new store when it is missing or empty.
   * Checks that it is a taskchart store of a version this code reads before
   * writing anything, then migrates an older schema in one transaction.
   * Leaves no transaction open.
   * @returns how many tasks the store holds.
   * @throws StoreError when another engine holds the file, when it is not a
   * taskchart store or was written by a newer taskchart, or it cannot be written.
   */
  open(): { readonly tasks: number } {
    if (this.#closed) throw new StoreError(`Cannot open the task store \`${this.path}\`: this SqliteStore was closed; create a new one`);
    if (this.#open !== undefined) throw new StoreError(`Cannot open the task store \`${this.path}\`: it is already open`);
    const { db, key } = openStoreFile(loadDriver(), this.#options);
    try {
      const statements = prepareStatements(db);
      const commit = db.transaction((batch: StoreBatch) => applyBatch(statements, batch));
      this.#open = { db, key, statements, commit };
      return { tasks: statements.count.get() as number };
    } catch (error) {
      this.#open = undefined;
      closeQuietly(db, key);
      throw new StoreError(`Cannot open the task store \`${this.path}\`: ${reasonOf(error)}`, { cause: error });
    }
  }

  /** Every task, in registration order (`seq`), as an array. Blobs (`spec`, `result`) come back as Buffers. */
  load(): TaskRow[] {
    const { statements } = this.#require('load');
    try {
      return loadRows(statements);
    } catch (error) {
      throw new StoreError(`Could not load the task store \`${this.path}\`: ${reasonOf(error)}`, { cause: error });
    }
  }

  /**
   * Applies the batch in one transaction: deletes, then inserts, then updates.
   * An update of a task the store does not hold fails the batch; a delete of one is a no-op.
   * @throws StoreError when it cannot (disk full, read-only or failing file, a
   * duplicate id); nothing of the batch is applied then.
   */
  commit(batch: StoreBatch): void {
    const { commit } = this.#require('commit to');
    const cacheWrites = batch.cacheWrites?.length ?? 0;
    if (batch.inserts.length === 0 && batch.updates.length === 0 && batch.deletes.length === 0 && cacheWrites === 0) return;
    try {
      commit(batch);
    } catch (error) {
      const size = `${batch.inserts.length} inserts, ${batch.updates.length} updates, ${batch.deletes.length} deletes`;
      throw new StoreError(
        `Could not commit to the task store \`${this.path}\`: ${reasonOf(error)}; nothing of the batch (${size}) was applied`,
        { cause: error },
      );
    }
  }

  /** The results cache's fresh result for `key` at `now` (expired entries are not read; clearCache deletes them). */
  cacheGet(key: string, now: number): Uint8Array | undefined {
    const { statements } = this.#require('read the cache of');
    try {
      return statements.cacheGet.get(key, now) ?? undefined;
    } catch (error) {
      throw new StoreError(`Could not read the results cache of the task store \`${this.path}\`: ${reasonOf(error)}`, { cause: error });
    }
  }

  /** Empties the results cache. */
  cacheClear(): void {
    const { statements } = this.#require('clear the cache of');
    try {
      statements.cacheClear.run();
    } catch (error) {
      throw new StoreError(`Could not clear the results cache of the task store \`${this.path}\`: ${reasonOf(error)}`, { cause: error });
    }
  }

  /**
   * Checkpoints the WAL into the file, closes it and releases the lock, so
   * another store can open the file. Idempotent.
   * @throws StoreError only when SQLite fails to close the file; the lock is released even then.
   */
  close(): void {
    const open = this.#open;
    this.#open = undefined;
    this.#closed = true;
    if (open === undefined) return;
    try {
      open.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // The WAL keeps every commit; the next open recovers it.
    }
    try {
      open.db.close();
    } catch (error) {
      throw new StoreError(`Could not close the task store \`${this.path}\`: ${reasonOf(error)}`, { cause: error });
    } finally {
      release(open.key);
    }
  }

  #require(verb: string): Open {
    if (this.#open === undefined) throw notOpen(this.path, verb, this.#closed ? 'closed' : 'new');
    return this.#open;
  }
}

function closeQuietly(db: Database, key: string): void {
  try {
    db.close();
  } catch {
    // Already failing; the first error is the one to report.
  }
  release(key);
}
