/** The options of `SqliteStore`, validated once at construction. */
import { resolve } from 'node:path';
import { invalid, isPlainObject, ownFields, readingInput } from '../validate.js';

/** How hard SQLite syncs a commit to disk. */
export type SqliteSynchronous = 'NORMAL' | 'FULL';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * The database file. Created when missing; a zero-length file is a new store too.
   * Relative paths are resolved against the working directory at construction.
   * @example 'tasks.db'
   */
  readonly path: string;
  /**
   * SQLite's `synchronous` setting in WAL mode. `NORMAL`: a commit survives a
   * crash of the process, and is durable on power loss once checkpointed.
   * `FULL`: every commit is synced to disk before `commit` returns (slower).
   * @default 'NORMAL'
   */
  readonly synchronous?: SqliteSynchronous;
}

/** The options with every default applied; `path` is absolute. */
export interface ResolvedSqliteOptions {
  readonly path: string;
  readonly synchronous: SqliteSynchronous;
}

const OPTION_KEYS: ReadonlySet<string> = new Set(['path', 'synchronous']);
const SYNCHRONOUS: readonly SqliteSynchronous[] = ['NORMAL', 'FULL'];

/** Validates the caller's options; throws InvalidOptionError naming the field. */
export function resolveSqliteOptions(input: unknown): ResolvedSqliteOptions {
  return readingInput('options', () => {
    if (!isPlainObject(input)) throw invalid('options', 'a plain object with a `path`', input);
    const fields = ownFields('options', input, OPTION_KEYS);
    const { path, synchronous = 'NORMAL' } = fields;
    if (typeof path !== 'string' || path.length === 0) throw invalid('path', 'a non-empty string', path);
    if (path.includes('\0')) throw invalid('path', 'a file path without NUL characters', path);
    if (!SYNCHRONOUS.includes(synchronous as SqliteSynchronous)) throw invalid('synchronous', "'NORMAL' or 'FULL'", synchronous);
    return { path: resolve(path), synchronous: synchronous as SqliteSynchronous };
  });
}
