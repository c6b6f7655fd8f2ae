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

function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // no WAL file yet
    }
  }
  return total;
}

describe('store file size under retention', () => {
  it(`stays flat while ${TASKS.toLocaleString('en-US')} durable tasks go through an engine keeping the last 500`, { timeout: 60_000 + TASKS / 2 }, async () => {
    const path = tempDbPath();
    const engine = new TaskEngine({ concurrency: 16, retention: { maxFinished: 500 }, store: new SqliteStore({ path }) });
    engine.defineTask('work', (_ctx, i: number) => ({ i, payload: 'x'.repeat(200) }));
    const chunk = TASKS / 10;
    const sizes: number[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < chunk; i++) engine.startTask(engine.registerTask({ name: 'work', handler: 'work', args: [round * chunk + i] }));
      await engine.onIdle();
      await new Promise((resolve) => setImmediate(resolve)); // the tick's deletions are committed
      sizes.push(fileBytes(path));
    }
    await engine.shutdown();
    console.log(`store file (main + WAL) after each tenth of ${TASKS} tasks: ${sizes.map((b) => (b / 1024).toFixed(0)).join(', ')} KiB`);
    const [, second] = sizes as [number, number];
    // After the first rounds the file (main + WAL) is at its high-water mark and stays there.
    expect(Math.max(...sizes.slice(2)), `sizes per round: ${sizes.join(', ')}`).toBeLessThanOrEqual(Math.max(second * 1.1, second + 256 * 1024));
    const reopened = new TaskEngine({ store: new SqliteStore({ path }) });
    expect(await reopened.restore()).toMatchObject({ restored: 500, finished: 500 });
    await reopened.shutdown();
  });
});
