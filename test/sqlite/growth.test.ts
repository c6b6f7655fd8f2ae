import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { filesIn, inserts, rows, useTestFiles } from './helpers.js';

const MiB = 1024 * 1024;

describe('SqliteStore: file growth', () => {
  const files = useTestFiles();

  it('reuses the pages of deleted rows, and keeps the WAL bounded', () => {
    const store = files.store();
    store.open();
    const perRound = 3_000; // about 3.5 MiB of rows a round; six rounds write far more than the WAL may hold
    const mainSizes: number[] = [];
    let largestWal = 0;
    for (let round = 0; round < 6; round++) {
      const batch = rows(round * perRound + 1, perRound, 1_024);
      for (let i = 0; i < batch.length; i += 500) {
        store.commit(inserts(batch.slice(i, i + 500)));
        largestWal = Math.max(largestWal, sizeOf(files.file('tasks.db-wal')));
      }
      for (let i = 0; i < batch.length; i += 500) {
        store.commit({ inserts: [], updates: [], deletes: batch.slice(i, i + 500).map((row) => row.id) });
        largestWal = Math.max(largestWal, sizeOf(files.file('tasks.db-wal')));
      }
      mainSizes.push(sizeOf(files.file()));
    }
    expect(store.load()).toEqual([]);
    const [, afterRound2] = mainSizes as [number, number];
    expect(afterRound2).toBeGreaterThan(3 * MiB); // the rows did reach the main file
    expect(Math.max(...mainSizes.slice(2))).toBeLessThanOrEqual(afterRound2 * 1.05);
    expect(largestWal).toBeGreaterThan(0);
    expect(largestWal).toBeLessThan(9 * MiB); // checkpoints every ~4 MiB, truncated back to the 8 MiB journal_size_limit
    store.close();
    expect(filesIn(files.dir)).toEqual(['tasks.db']);
  });
});

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}
