import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { canMakeImmutable, canMount, completedState, inserts, rows, taskRow, useTestFiles } from './helpers.js';

/** Runs `fn` with `dir` mounted as a tmpfs of `size`; unmounts after, even on failure. */
function withTmpfs(dir: string, size: string, fn: () => void): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  try {
    fn();
  } finally {
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
  }
}

function commitError(fn: () => void): StoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error('expected the commit to fail');
}

describe('SqliteStore: a file that cannot take a commit', () => {
  const files = useTestFiles();

  it.skipIf(!canMount && !process.env.CI)(
    'throws StoreError on a full disk (a real 512 KiB tmpfs), applies nothing, and works again once there is room',
    () => {
      withTmpfs(files.dir, '512k', () => {
        const store = files.store();
        store.open();
        store.commit(inserts([taskRow(1), taskRow(2)]));
        const error = commitError(() =>
          store.commit({ inserts: rows(10, 400, 2_048), updates: [completedState('task-1')], deletes: ['task-2'] }),
        );
        expect(error).toMatchObject({ code: 'ERR_STORE', cause: expect.objectContaining({ code: 'SQLITE_FULL' }) });
        expect(error.message).toMatch(
          new RegExp(
            `^Could not commit to the task store \`${files.file()}\`: database or disk is full \\(SQLITE_FULL\\); nothing of the batch \\(400 inserts, 1 updates, 1 deletes\\) was applied$`,
          ),
        );
        expect(store.load()).toEqual([taskRow(1), taskRow(2)]);

        execFileSync('mount', ['-o', 'remount,size=8m', files.dir]);
        store.commit(inserts([taskRow(3)]));
        store.close();
        const reopened = files.store();
        expect(reopened.open()).toEqual({ tasks: 3 });
        expect(reopened.load()).toEqual([taskRow(1), taskRow(2), taskRow(3)]);
        reopened.close();
      });
    },
  );

  it.skipIf(!canMakeImmutable && !process.env.CI)(
    'throws StoreError when the open file becomes unwritable (chattr +i), applies nothing, and works again after',
    () => {
      const store = files.store();
      store.open();
      store.commit(inserts([taskRow(1), taskRow(2)]));
      const locked = [files.file(), files.file('tasks.db-wal')];
      execFileSync('chattr', ['+i', ...locked]);
      try {
        const error = commitError(() => store.commit({ inserts: [taskRow(3)], updates: [completedState('task-1')], deletes: ['task-2'] }));
        expect(error.message).toMatch(
          new RegExp(
            `^Could not commit to the task store \`${files.file()}\`: disk I/O error \\(SQLITE_IOERR_WRITE\\); nothing of the batch`,
          ),
        );
        expect(store.load()).toEqual([taskRow(1), taskRow(2)]);
      } finally {
        execFileSync('chattr', ['-i', ...locked]);
      }
      store.commit(inserts([taskRow(4)]));
      store.close();
      const reopened = files.store();
      reopened.open();
      expect(reopened.load().map((row) => row.id)).toEqual(['task-1', 'task-2', 'task-4']);
    },
  );
});
