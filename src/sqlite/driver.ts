/**
 * Loads better-sqlite3, the optional peer dependency, on first use: importing
 * `taskchart/sqlite` works without it, and opening a store says how to install it.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../errors.js';

/** The better-sqlite3 `Database` constructor. */
export type Driver = typeof BetterSqlite3;

let cached: Driver | undefined;

/** better-sqlite3's Database class, loaded once. */
export function loadDriver(): Driver {
  cached ??= requireDriver(createRequire(import.meta.url));
  return cached;
}

/** Loads better-sqlite3 with `load` (a `require`), turning a failure into a StoreError that says what to do. */
export function requireDriver(load: (id: string) => unknown): Driver {
  try {
    return load('better-sqlite3') as Driver;
  } catch (error) {
    const missing = (error as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND';
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      missing
        ? 'SqliteStore needs the better-sqlite3 package, which is not installed: run `npm install better-sqlite3@12`'
        : `SqliteStore could not load better-sqlite3 (expected version 12, built for this Node.js): ${reason}`,
      { cause: error },
    );
  }
}
