/**
 * A long-lived durable engine with retention: finished tasks are forgotten and their rows deleted,
 * so the store file stops growing once it reaches its high-water mark. TASKCHART_GROWTH_TASKS sets
 * how many tasks go through (default 30,000; the soak: 1,000,000).
 */
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TaskEngine } from '../../src/index.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { tempDbPath } from './helpers.js';

const TASKS = Number(process.env.TASKCHART_GROWTH_TASKS ?? 30_000);

function bytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0; // no WAL file at the moment
  }
}

describe('store file size under retention', () => {
  it(
    `stays flat while ${TASKS.toLocaleString('en-US')} durable tasks go through an engine keeping the last 500`,
    { timeout: 60_000 + TASKS / 2 },
    async () => {
      const path = tempDbPath();
      const engine = new TaskEngine({ concurrency: 16, retention: { maxFinished: 500 }, store: new SqliteStore({ path }) });
      engine.defineTask('work', (_ctx, i: number) => ({ i, payload: 'x'.repeat(200) }));
      const chunk = TASKS / 10;
      const sizes: number[] = [];
      const wal: number[] = [];
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < chunk; i++) engine.startTask(engine.registerTask({ name: 'work', handler: 'work', args: [round * chunk + i] }));
        await engine.onIdle();
        await new Promise((resolve) => setImmediate(resolve)); // the tick's deletions are committed
        sizes.push(bytes(path));
        wal.push(bytes(`${path}-wal`));
      }
      await engine.shutdown();
      console.log(
        `store file after each tenth of ${TASKS} tasks: ${sizes.map((b) => (b / 1024).toFixed(0)).join(', ')} KiB; WAL ${wal.map((b) => (b / 1024).toFixed(0)).join(', ')} KiB`,
      );
      const [, second] = sizes as [number, number];
      // After the first rounds the main file is at its high-water mark and stays there (freed pages are reused);
      // the WAL is checkpointed and cut back to journal_size_limit (8 MiB), plus at most one tick's batch.
      expect(Math.max(...sizes.slice(2)), `main file per round: ${sizes.join(', ')}`).toBeLessThanOrEqual(
        Math.max(second * 1.1, second + 256 * 1024),
      );
      expect(Math.max(...wal), `WAL per round: ${wal.join(', ')}`).toBeLessThanOrEqual(16 * 2 ** 20);
      const reopened = new TaskEngine({ store: new SqliteStore({ path }) });
      expect(await reopened.restore()).toMatchObject({ restored: 500, finished: 500 });
      await reopened.shutdown();
    },
  );
});
