/**
 * Durable-engine test helpers. Every store is a real SqliteStore on a file in a
 * fresh temporary directory. `RecordingStore` wraps one to see what was committed
 * and when (it forwards every call unchanged). A "crash" closes the store under a
 * live engine: nothing it does afterwards reaches the file, as if its process had died.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { SimulatedClock } from 'xstate';
import { TaskEngine, type TaskEngineOptions, type TaskEvent } from '../../src/index.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import type { StoreBatch, TaskRow, TaskStore } from '../../src/store/task-store.js';

const dirs: string[] = [];
const stores: TaskStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A path for a new store file in a temporary directory removed after the test. */
export function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'taskchart-durable-'));
  dirs.push(dir);
  return join(dir, 'tasks.db');
}

/** A real SqliteStore that also keeps a log of the batches it committed. */
export class RecordingStore implements TaskStore {
  readonly inner: SqliteStore;
  readonly commits: StoreBatch[] = [];
  constructor(path: string) {
    this.inner = new SqliteStore({ path });
    stores.push(this.inner);
  }
  open() {
    return this.inner.open();
  }
  load(): Iterable<TaskRow> {
    return this.inner.load();
  }
  commit(batch: StoreBatch): void {
    this.inner.commit(batch);
    this.commits.push(batch);
  }
  cacheGet(key: string, now: number): Uint8Array | undefined {
    return this.inner.cacheGet(key, now);
  }
  cacheClear(): void {
    this.inner.cacheClear();
  }
  close(): void {
    this.inner.close();
  }
  /** The last committed state of task `id` ('absent' if never written), from the log. */
  lastState(id: string): string {
    for (let i = this.commits.length - 1; i >= 0; i--) {
      const batch = this.commits[i] as StoreBatch;
      if (batch.deletes.includes(id)) return 'deleted';
      const row = [...batch.updates, ...batch.inserts].reverse().find((r) => r.id === id);
      if (row !== undefined) return row.state;
    }
    return 'absent';
  }
}

export interface DurableHarness {
  readonly engine: TaskEngine;
  readonly store: RecordingStore;
  readonly clock: SimulatedClock;
  readonly events: TaskEvent[];
  /** Simulated time in ms, for both the timers (clock) and timestamps (now). */
  advance(ms: number): void;
  /** The process "dies": the store is closed under the engine, which is abandoned. */
  crash(): void;
}

/** A durable engine on a simulated clock; `start` is the simulated time it begins at. */
export function durableEngine(path: string, options: TaskEngineOptions = {}, start = 1_000_000): DurableHarness {
  const clock = new SimulatedClock();
  let now = start;
  const store = new RecordingStore(path);
  const engine = new TaskEngine({ clock, now: () => now, ...options, store });
  const events: TaskEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  return {
    engine,
    store,
    clock,
    events,
    advance(ms: number) {
      now += ms;
      clock.increment(ms);
    },
    crash() {
      store.close();
    },
  };
}
