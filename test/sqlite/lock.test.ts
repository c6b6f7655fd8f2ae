import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { inserts, rows, useTestFiles } from './helpers.js';

const fixture = fileURLToPath(new URL('../fixtures/sqlite-holder.mjs', import.meta.url));
const built = fileURLToPath(new URL('../../dist/sqlite/index.js', import.meta.url));
const HELD = /the file is held by another engine \(in (this|another) process\)/;

describe('SqliteStore: one writer per file, in this process', () => {
  const files = useTestFiles();

  it('refuses a second store on a file another store holds, at once, and the first keeps working', () => {
    const first = files.store();
    first.open();
    const second = files.store();
    expect(() => second.open()).toThrow(StoreError);
    expect(() => second.open()).toThrow(new RegExp(`\`${files.file()}\`: the file is held by another engine \\(in this process\\)`));
    first.commit(inserts(rows(1, 2)));
    expect(first.load()).toHaveLength(2);
  });

  it('recognises the file through another path (a symlink)', () => {
    files.store().open();
    symlinkSync(files.file(), files.file('alias.db'));
    expect(() => files.store({ path: files.file('alias.db') }).open()).toThrow(HELD);
  });

  it("holds SQLite's own lock: a plain SQLite connection cannot read the file, and closing it does not drop the lock", () => {
    const store = files.store();
    store.open();
    const raw = new Database(files.file(), { timeout: 0 });
    expect(() => raw.prepare('SELECT count(*) FROM tasks').get()).toThrow(/database is locked/);
    raw.close();
    const after = new Database(files.file(), { timeout: 0 });
    expect(() => after.prepare('SELECT count(*) FROM tasks').get()).toThrow(/database is locked/);
    after.close();
  });

  it('releases the file at close: a new store opens it and sees every committed row', () => {
    const first = files.store();
    first.open();
    first.commit(inserts(rows(1, 5)));
    first.close();
    const second = files.store();
    expect(second.open()).toEqual({ tasks: 5 });
    expect(second.load().map((row) => row.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('close is idempotent, and a closed store refuses every verb, saying it is closed', () => {
    const store = files.store();
    store.open();
    store.close();
    store.close();
    for (const verb of [() => store.load(), () => store.commit(inserts(rows(1, 1)))]) {
      expect(verb).toThrow(StoreError);
      expect(verb).toThrow(new RegExp(`task store \`${files.file()}\`: it is closed`));
    }
    expect(() => store.open()).toThrow(/this SqliteStore was closed; create a new one/);
  });

  it('refuses load and commit before open, and a second open', () => {
    const store = files.store();
    expect(() => store.load()).toThrow(/it is not open yet \(call open\(\) first\)/);
    expect(() => store.commit(inserts([]))).toThrow(/it is not open yet/);
    store.open();
    expect(() => store.open()).toThrow(/it is already open/);
    store.close(); // a store that was never opened closes quietly too
    files.store().close();
  });
});

describe('SqliteStore: one writer per file, across processes', () => {
  const files = useTestFiles();
  const children: ChildProcess[] = [];
  beforeAll(() => {
    if (!existsSync(built))
      throw new Error(`These tests run a child process on the built package: run \`npm run build\` first (missing ${built})`);
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  /** Starts a child process that opens the store, commits `count` rows one by one, then holds it. */
  async function holdInChild(count: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, [fixture, 'hold', files.file(), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready\n')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the holder exited early with ${code}: ${out}`)));
    });
    return child;
  }

  it('refuses a store while another process holds the file, without waiting, and opens it once that process is SIGKILLed', async () => {
    const child = await holdInChild(25);
    const started = performance.now();
    expect(() => files.store().open()).toThrow(/the file is held by another engine \(in another process\)/);
    expect(performance.now() - started).toBeLessThan(1_000); // SQLite's busy timeout is 0: no 5 s wait

    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const store = files.store();
    expect(store.open()).toEqual({ tasks: 25 }); // the OS dropped the dead process's lock; its commits are in the WAL
    expect(store.load().map((row) => row.id)).toEqual(Array.from({ length: 25 }, (_, i) => `task-${i + 1}`));
  });

  it('is refused in another process while this process holds the file', () => {
    const store = files.store();
    store.open();
    const tried = spawnSync(process.execPath, [fixture, 'try', files.file()], { encoding: 'utf8', timeout: 15_000 });
    const result = JSON.parse(tried.stdout) as { opened: boolean; code: string; message: string; ms: number };
    expect(result).toMatchObject({ opened: false, code: 'ERR_STORE' });
    expect(result.message).toMatch(/the file is held by another engine \(in another process\)/);
    expect(result.ms).toBeLessThan(1_000);
    store.close();
    const again = spawnSync(process.execPath, [fixture, 'try', files.file()], { encoding: 'utf8', timeout: 15_000 });
    expect(JSON.parse(again.stdout)).toMatchObject({ opened: true, tasks: 0 });
  });
});
