import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { MIGRATIONS } from '../../src/sqlite/schema.js';
import { canMakeImmutable, captureError, filesIn, LATER_COLUMNS, headerOf, inserts, rows, useTestFiles } from './helpers.js';

const { APPLICATION_ID, SCHEMA_VERSION } = SqliteStore;

describe('SqliteStore.open: new stores', () => {
  const files = useTestFiles();

  it('creates a store at a missing path, stamped with the application id and schema version, in WAL mode', () => {
    const store = files.store();
    expect(store.open()).toEqual({ tasks: 0 });
    expect(filesIn(files.dir)).not.toContain('tasks.db-shm'); // the WAL index lives in memory: exclusive mode
    store.close();
    expect(filesIn(files.dir)).toEqual(['tasks.db']); // the WAL is checkpointed and removed at close
    expect(headerOf(files.file())).toEqual({ applicationId: APPLICATION_ID, version: SCHEMA_VERSION, walMode: true });
  });

  it('takes a zero-length file as a new store', () => {
    writeFileSync(files.file(), '');
    expect(files.store().open()).toEqual({ tasks: 0 });
  });

  it('takes a blank SQLite database (no tables, no application id) as a new store', () => {
    const blank = new Database(files.file());
    blank.exec('VACUUM'); // writes the header page
    blank.close();
    expect(files.store().open()).toEqual({ tasks: 0 });
  });

  it('migrates a version 0 taskchart file to the current schema, keeping it usable', () => {
    const old = new Database(files.file());
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.close();
    expect(headerOf(files.file())).toMatchObject({ applicationId: APPLICATION_ID, version: 0 });
    const store = files.store();
    expect(store.open()).toEqual({ tasks: 0 });
    store.commit(inserts(rows(1, 3)));
    store.close();
    expect(headerOf(files.file()).version).toBe(SCHEMA_VERSION);
    const reopened = files.store();
    expect(reopened.open()).toEqual({ tasks: 3 });
  });

  it('migrates a version 1 store with tasks to the current schema: its rows keep every value, with no forgotten dependencies, no free attempts, no checkpoint and an empty results cache', () => {
    const old = new Database(files.file());
    old.exec(MIGRATIONS[0] as string);
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.pragma('user_version = 1');
    old
      .prepare(
        `INSERT INTO tasks (id, seq, name, spec, created_at, state, attempts, progress, message, start_seq, submitted_at, started_at, finished_at, attempt_started_at, deadline, result, error)
         VALUES ('old', 1, 'old task', x'01', 5, 'retrying', 2, 0.5, 'half', 3, 6, 7, NULL, NULL, 99, NULL, NULL)`,
      )
      .run();
    old.close();
    const store = files.store();
    expect(store.open()).toEqual({ tasks: 1 });
    expect(store.load()).toEqual([
      expect.objectContaining({
        id: 'old',
        state: 'retrying',
        attempts: 2,
        deadline: 99,
        ...LATER_COLUMNS,
      }),
    ]);
    expect(store.cacheGet('any', 0)).toBeUndefined();
    store.close();
    expect(headerOf(files.file()).version).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(3);
  });

  it('accepts synchronous FULL', () => {
    const store = files.store({ synchronous: 'FULL' });
    store.open();
    store.commit(inserts(rows(1, 2)));
    expect(store.load().map((row) => row.id)).toEqual(['task-1', 'task-2']);
  });
});

describe('SqliteStore.open: files it refuses, untouched', () => {
  const files = useTestFiles();

  /** Opens a store on `path` expecting a refusal, and checks that no byte of the directory changed. */
  function expectRefused(path: string, message: RegExp): StoreError {
    const before = snapshot(files.dir);
    let caught: unknown;
    try {
      new SqliteStore({ path }).open();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    const error = caught as StoreError;
    expect(error.code).toBe('ERR_STORE');
    expect(error.message).toContain(`\`${path}\``);
    expect(error.message).toMatch(message);
    expect(snapshot(files.dir)).toEqual(before);
    return error;
  }

  it('refuses a text file, saying what it found', () => {
    writeFileSync(files.file(), 'id,name\n1,first task\n2,second task\n'.repeat(10));
    expectRefused(
      files.file(),
      /expected an SQLite database \(a taskchart store\), found a file that is not one \(it starts with "id,name\\n1,first/,
    );
  });

  it('refuses a non-empty file shorter than an SQLite header', () => {
    writeFileSync(files.file(), 'SQLite format 3\0');
    expectRefused(files.file(), /found a file that is not one/);
  });

  it('refuses an SQLite database of another program (tables, no application id)', () => {
    const other = new Database(files.file());
    other.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada')");
    other.close();
    expectRefused(
      files.file(),
      /expected a taskchart store \(application_id 0x544b4348\), found an SQLite database with tables of its own and no application id/,
    );
  });

  it('refuses a WAL database with another application id, leaving its WAL unapplied', () => {
    const other = new Database(files.file('live.db'));
    other.pragma('journal_mode = WAL');
    other.pragma('wal_autocheckpoint = 0');
    other.exec('PRAGMA application_id = 1234; CREATE TABLE t (x)');
    other.pragma('wal_checkpoint(TRUNCATE)');
    other.exec('INSERT INTO t VALUES (1), (2)'); // in the WAL only
    for (const suffix of ['', '-wal']) copyFileSync(files.file(`live.db${suffix}`), files.file(`copy.db${suffix}`));
    other.close();
    expect(filesIn(files.dir)).toContain('copy.db-wal');
    expectRefused(files.file('copy.db'), /found an SQLite database of another application \(application_id 0x4d2\)/);
  });

  it('refuses a store written by a newer taskchart', () => {
    const newer = new Database(files.file());
    newer.pragma('journal_mode = WAL');
    newer.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = 99; CREATE TABLE tasks (id TEXT)`);
    newer.close();
    expectRefused(files.file(), new RegExp(`written by a newer taskchart: schema version 99, this version reads up to ${SCHEMA_VERSION}`));
  });

  it('refuses a newer store whose version is still only in its WAL', () => {
    const store = files.store({ path: files.file('live.db') });
    store.open();
    store.close();
    const newer = new Database(files.file('live.db'));
    newer.pragma('wal_autocheckpoint = 0');
    newer.pragma('user_version = 99');
    for (const suffix of ['', '-wal']) copyFileSync(files.file(`live.db${suffix}`), files.file(`copy.db${suffix}`));
    newer.close();
    expect(headerOf(files.file('copy.db')).version).toBe(SCHEMA_VERSION);
    const error = captureError(() => new SqliteStore({ path: files.file('copy.db') }).open());
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/`.*copy\.db`: it was written by a newer taskchart: schema version 99/);
  });

  it('refuses a directory, and a path in a missing directory, naming the path', () => {
    mkdirSync(files.file('a-directory'));
    expectRefused(files.file('a-directory'), /expected a database file, found a directory/);
    const missing = files.file('no-such-dir/tasks.db');
    expect(() => new SqliteStore({ path: missing }).open()).toThrow(
      new RegExp(`Cannot open the task store \`${missing}\`: .*directory does not exist`),
    );
  });

  it.skipIf(!canMakeImmutable && !process.env.CI)('refuses a file it cannot write (chattr +i), before SQLite opens it', () => {
    const store = files.store();
    store.open();
    store.close();
    spawnSync('chattr', ['+i', files.file()]);
    try {
      expectRefused(files.file(), /expected a file this process can read and write, but it cannot \(EPERM\)/);
    } finally {
      spawnSync('chattr', ['-i', files.file()]);
    }
  });

  it('refuses through a symlink too, naming the path it was given', () => {
    writeFileSync(files.file('target.txt'), 'not a database, but long enough to have a header of a hundred bytes......................');
    symlinkSync(files.file('target.txt'), files.file('link.db'));
    expectRefused(files.file('link.db'), /link\.db`: expected an SQLite database/);
  });
});

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(filesIn(dir).map((name) => [name, safeRead(`${dir}/${name}`)]));
}

function safeRead(path: string): string {
  try {
    return readFileSync(path).toString('base64');
  } catch {
    return '(not a file)';
  }
}
