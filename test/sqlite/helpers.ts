/** Shared by the SqliteStore tests: temporary directories, rows, and probes for root-only tools. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { SqliteStore, type SqliteStoreOptions } from '../../src/sqlite/index.js';
import type { StoreBatch, TaskRow, TaskStateRow } from '../../src/store/task-store.js';

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export function tempDir(): { dir: string; file(name?: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'taskchart-sqlite-'));
  return { dir, file: (name = 'tasks.db') => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temporary directory per test, and stores in it that are closed after the test. */
export interface TestFiles {
  readonly dir: string;
  /** A path in the directory. */
  file(name?: string): string;
  /** A store (not opened) closed after the test; `path` defaults to `file()`. */
  store(options?: Partial<SqliteStoreOptions>): SqliteStore;
}

/** Registers beforeEach/afterEach hooks giving each test a fresh {@link TestFiles}. */
export function useTestFiles(): TestFiles {
  let current: ReturnType<typeof tempDir> | undefined;
  const stores: SqliteStore[] = [];
  beforeEach(() => {
    current = tempDir();
  });
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
    current?.cleanup();
  });
  const now = (): ReturnType<typeof tempDir> => {
    if (current === undefined) throw new Error('useTestFiles: used outside a test');
    return current;
  };
  return {
    get dir() {
      return now().dir;
    },
    file: (name) => now().file(name),
    store: (options = {}) => {
      const store = new SqliteStore({ path: now().file(), ...options });
      stores.push(store);
      return store;
    },
  };
}

/** The names of the files in `dir`, sorted. */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** A registered, never-started task row. */
export function taskRow(seq: number, fields: Partial<TaskRow> = {}): TaskRow {
  return {
    id: `task-${seq}`,
    seq,
    name: `task ${seq}`,
    spec: Buffer.from(`spec of ${seq}`),
    createdAt: 1_700_000_000_000 + seq,
    state: 'pending',
    attempts: 0,
    progress: 0,
    message: null,
    startSeq: 0,
    submittedAt: null,
    startedAt: null,
    finishedAt: null,
    attemptStartedAt: null,
    deadline: null,
    result: null,
    error: null,
    ...LATER_COLUMNS,
    ...fields,
  };
}

/** The columns migrations 2 and 3 added, as a row without them reads back (and as both helpers below write them). */
export const LATER_COLUMNS = {
  forgottenDependencies: null,
  freeAttempts: 0,
  checkpoint: null,
  lastHeartbeatAt: null,
  interruptions: 0,
  crashes: 0,
  cached: false,
  deadlineMissedAt: null,
} as const;

/** The state part of a completed task. */
export function completedState(id: string, fields: Partial<TaskStateRow> = {}): TaskStateRow {
  return {
    id,
    state: 'completed',
    attempts: 1,
    progress: 1,
    message: 'done',
    startSeq: 7,
    submittedAt: 10,
    startedAt: 20,
    finishedAt: 30,
    attemptStartedAt: 20,
    deadline: null,
    result: Buffer.from([1, 2, 3]),
    error: null,
    ...LATER_COLUMNS,
    ...fields,
  };
}

export function inserts(rows: readonly TaskRow[]): StoreBatch {
  return { inserts: rows, updates: [], deletes: [] };
}

/** Rows with seq `from` .. `from + count - 1`, each with a spec of `specBytes`. */
export function rows(from: number, count: number, specBytes = 32): TaskRow[] {
  return Array.from({ length: count }, (_, i) => taskRow(from + i, { spec: Buffer.alloc(specBytes, i % 251) }));
}

/** Whether this process may mount a tmpfs (root in a permissive sandbox). */
export const canMount: boolean = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const { dir, cleanup } = tempDir();
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status !== 0) return false;
    execFileSync('umount', [dir]);
    return true;
  } catch {
    return false;
  } finally {
    cleanup();
  }
})();

/** Whether `chattr +i` works on files in the temp dir (root, on ext4 or xfs) and stops writes through open descriptors. */
export const canMakeImmutable: boolean = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const { file, cleanup } = tempDir();
  try {
    writeFileSync(file('probe'), 'x');
    if (spawnSync('chattr', ['+i', file('probe')]).status !== 0) return false;
    spawnSync('chattr', ['-i', file('probe')]);
    return true;
  } finally {
    cleanup();
  }
})();

/** What an SQLite file's header says (the main file only, not its WAL). */
export function headerOf(path: string): { applicationId: number; version: number; walMode: boolean } {
  const header = readFileSync(path).subarray(0, 100);
  return { applicationId: header.readInt32BE(68), version: header.readUInt32BE(60), walMode: header[18] === 2 && header[19] === 2 };
}

/** What `fn` throws (it must throw). */
export function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
