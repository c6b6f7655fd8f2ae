/**
 * The disk fills up, or the file turns read-only, while the engine runs: it reports a `store-error`
 * event and stops accepting work, rather than carry on in memory and lose what it could not write.
 * Real failures: a small tmpfs that really fills, and `chattr +i` on the open files (both need root
 * on Linux, as on CI; elsewhere they are skipped with the reason, and on CI they must run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TaskStatus, type TaskContext, type TaskEvent } from '../../src/index.js';
import { canMakeImmutable, canMount } from '../sqlite/helpers.js';
import { flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

const onCi = process.env.CI !== undefined;
if (!onCi && !canMount) console.warn('store-failure tests: skipped the disk-full test (needs root and tmpfs mounts)');

describe('the store fails while the engine runs', () => {
  it.skipIf(!canMount && !onCi)(
    'on a full disk: a store-error event, no new work accepted, waiters rejected, the file intact',
    async () => {
      const path = tempDbPath();
      const dir = dirname(path);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
      try {
        const { engine, events } = durableEngine(path);
        engine.defineTask('big', (_ctx: TaskContext, i: number) => 'x'.repeat(4_000) + i);
        engine.registerTask({ id: 'first', name: 'first', handler: 'big', args: [0] });
        engine.startTask('first');
        await engine.waitForTask('first');
        // Results of 4 kB each until the 256 kB disk is full.
        let failure: unknown;
        const waits: Array<Promise<unknown>> = [];
        for (let i = 1; i < 200 && failure === undefined; i++) {
          try {
            engine.registerTask({ id: `t${i}`, name: `t${i}`, handler: 'big', args: [i] });
            engine.startTask(`t${i}`);
            waits.push(engine.waitForTask(`t${i}`).catch((error: unknown) => error));
            await flush();
          } catch (error) {
            failure = error;
          }
        }
        const storeErrors = events.filter((e): e is Extract<TaskEvent, { type: 'store-error' }> => e.type === 'store-error');
        expect(storeErrors).toHaveLength(1);
        expect(storeErrors[0]?.error).toMatchObject({ code: 'ERR_STORE', message: expect.stringContaining('SQLITE_FULL') });
        expect(failure).toMatchObject({ code: 'ERR_STORE' });
        expect(() => engine.registerTask({ name: 'more' })).toThrow(expect.objectContaining({ code: 'ERR_STORE' }));
        const settled = await Promise.all(waits);
        // Each task either completed with its result on disk, or its waiter was told the store failed: none hangs.
        for (const outcome of settled) {
          if (typeof outcome !== 'string') expect(outcome).toMatchObject({ code: 'ERR_STORE' });
        }
        const completedBefore = settled.filter((outcome) => typeof outcome === 'string').length;
        await engine.shutdown();

        execFileSync('mount', ['-o', 'remount,size=8m', dir]);
        const next = durableEngine(path);
        next.engine.defineTask('big', (_ctx: TaskContext, i: number) => 'x'.repeat(4_000) + i);
        const report = await next.engine.restore();
        expect(report.finished).toBe(completedBefore + 1);
        expect(next.engine.getTaskResult('first')).toBe(`${'x'.repeat(4_000)}0`);
        await next.engine.onIdle();
        await next.engine.shutdown();
      } finally {
        if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
      }
    },
  );

  it.skipIf(!canMakeImmutable && !onCi)(
    'on a file made read-only: the verb whose change cannot be written throws ERR_STORE, everything stops where it stood, and the next process counts the running attempts as interrupted',
    async () => {
      const path = tempDbPath();
      const { engine, events } = durableEngine(path);
      let signal: AbortSignal | undefined;
      engine.defineTask('wait', (ctx: TaskContext) => {
        signal = ctx.signal;
        return new Promise(() => {});
      });
      engine.registerTask({ id: 'ext', name: 'external' });
      engine.registerTask({ id: 'w', name: 'w', handler: 'wait' });
      engine.startTask('w');
      engine.startTask('ext');
      await flush();
      const locked = [path, join(dirname(path), 'tasks.db-wal')];
      execFileSync('chattr', ['+i', ...locked]);
      try {
        const waited = engine.waitForTask('ext');
        expect(() => engine.completeTask('ext', 'done')).toThrow(expect.objectContaining({ code: 'ERR_STORE' })); // its commit fails
        expect(events.at(-1)).toMatchObject({ type: 'store-error', taskId: 'ext', error: expect.objectContaining({ code: 'ERR_STORE' }) });
        await expect(waited).rejects.toMatchObject({ code: 'ERR_STORE' });
        expect(signal?.aborted).toBe(true);
        expect(() => engine.startTask('w')).toThrow(expect.objectContaining({ code: 'ERR_STORE' }));
        expect(() => engine.completeTask('w', 1)).toThrow(expect.objectContaining({ code: 'ERR_STORE' }));
        await engine.shutdown();
      } finally {
        execFileSync('chattr', ['-i', ...locked]);
      }
      const next = durableEngine(path);
      next.engine.defineTask('wait', () => 'resumed');
      const report = await next.engine.restore();
      // Both were RUNNING on disk: their attempts were interrupted and re-run free (maxInterruptions 1); nothing shows CANCELLED.
      expect(report).toMatchObject({ restored: 2, interrupted: 2, rerunFree: 2 });
      next.advance(0);
      await expect(next.engine.waitForTask('w')).resolves.toBe('resumed');
      // The external task is RUNNING again, for its caller to complete.
      expect(next.engine.getTask('ext')).toMatchObject({ status: TaskStatus.RUNNING, attempts: 2, interruptions: 1 });
      await next.engine.shutdown();
    },
  );
});
