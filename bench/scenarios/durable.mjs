/**
 * Scenario 7: the durable store's cost. 100,000 no-op tasks (a named handler, four priority
 * levels, concurrency 64, registerTask + startTask per task) on an engine with a SqliteStore,
 * against the same on an in-memory engine, interleaved in every round. Then restore():
 * a new engine reads back the 100,000 finished tasks of the last durable round, and, separately,
 * 100,000 tasks registered and never started (every one needs its actor again).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskEngine } from '../../dist/index.js';
import { SqliteStore } from '../../dist/sqlite/index.js';
import { interleavedRounds, median } from '../stats.mjs';
import { CONCURRENCY, collect, time } from './throughput.mjs';

const dir = mkdtempSync(join(tmpdir(), 'taskchart-bench-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const noop = async () => {};

function freshPath(name) {
  const path = join(dir, name);
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  return path;
}

/** registerTask + startTask per task and onIdle, timed; `path` given: on a SqliteStore at that file. */
async function timeEngine(tasks, path) {
  let engine = new TaskEngine({ concurrency: CONCURRENCY, ...(path && { store: new SqliteStore({ path }) }) });
  engine.defineTask('noop', noop);
  const ms = await time(async () => {
    for (let i = 0; i < tasks; i++) engine.startTask(engine.registerTask({ name: 'noop', handler: 'noop', priority: i % 4 }));
    await engine.onIdle();
  });
  const { counts } = engine.getStats();
  if (counts.COMPLETED !== tasks) throw new Error(`${path ? 'durable' : 'in-memory'} engine completed ${counts.COMPLETED} of ${tasks}`);
  await engine.shutdown();
  engine = undefined;
  return ms;
}

/** Milliseconds from `new TaskEngine({ store })` to restore() resolved, on the file at `path`. */
async function timeRestore(path, tasks) {
  collect();
  const start = performance.now();
  const engine = new TaskEngine({ concurrency: CONCURRENCY, store: new SqliteStore({ path }) });
  engine.defineTask('noop', noop);
  const report = await engine.restore();
  const ms = performance.now() - start;
  if (report.restored !== tasks) throw new Error(`restored ${report.restored} of ${tasks}`);
  await engine.shutdown({ mode: 'suspend' });
  return { ms, report };
}

async function neverStartedFile(tasks) {
  const path = freshPath('never-started.db');
  const engine = new TaskEngine({ store: new SqliteStore({ path }) });
  engine.defineTask('noop', noop);
  engine.registerTasks(Array.from({ length: tasks }, (_, i) => ({ name: 'noop', handler: 'noop', priority: i % 4 })));
  await engine.shutdown({ mode: 'suspend' });
  return path;
}

export async function run({ quick }) {
  const tasks = quick ? 2_000 : 100_000;
  const rounds = quick ? 1 : 4;
  const peers = [
    { name: 'taskchart in memory', time: (n) => timeEngine(n) },
    { name: 'taskchart durable (SqliteStore)', time: (n) => timeEngine(n, freshPath('run.db')) },
  ];
  const samples = await interleavedRounds(peers, tasks, rounds);
  const fileMiB = statSync(join(dir, 'run.db')).size / 2 ** 20;
  const restoreFinished = [];
  for (let i = 0; i < Math.max(1, rounds - 1); i++) restoreFinished.push((await timeRestore(join(dir, 'run.db'), tasks)).ms);
  const pendingPath = await neverStartedFile(tasks);
  const restorePending = [];
  for (let i = 0; i < Math.max(1, rounds - 1); i++) restorePending.push((await timeRestore(pendingPath, tasks)).ms);

  const memory = median(samples['taskchart in memory']);
  const durable = median(samples['taskchart durable (SqliteStore)']);
  const finishedMs = median(restoreFinished);
  const pendingMs = median(restorePending);
  const size = tasks.toLocaleString('en-US');
  return {
    id: 'durable',
    title: `${size} durable no-op tasks vs in memory, and restore()`,
    columns: [
      { key: 'peer', label: 'measure' },
      { key: 'value', label: 'median', digits: 2 },
      { key: 'unit', label: 'unit' },
      { key: 'ratio', label: '× in memory', digits: 2 },
    ],
    rows: [
      { peer: 'taskchart in memory', value: memory, unit: 'µs per task', ratio: 1 },
      { peer: 'taskchart durable (SqliteStore)', value: durable, unit: 'µs per task', ratio: durable / memory },
      { peer: `restore() of ${size} finished tasks`, value: finishedMs, unit: 'ms', ratio: null },
      { peer: `restore() of ${size} never-started tasks`, value: pendingMs, unit: 'ms', ratio: null },
      { peer: `store file after ${size} tasks`, value: fileMiB, unit: 'MiB', ratio: null },
    ],
    targets: [
      { name: 'durable per-task cost <= 2 × in memory', value: `${(durable / memory).toFixed(2)}× (${durable.toFixed(1)} vs ${memory.toFixed(1)} µs)`, met: durable <= 2 * memory },
      { name: `restore of ${size} tasks in under 2 s`, value: `${finishedMs.toFixed(0)} ms finished, ${pendingMs.toFixed(0)} ms never started`, met: finishedMs < 2000 && pendingMs < 2000 },
    ],
    chart: { field: 'value', label: 'µs per task (lower is better)', rows: 2 },
    notes: [
      `Median of ${rounds} round${rounds === 1 ? '' : 's'} after a warm-up on a tenth of the size; both engines run in every round, the order rotating, with a full garbage collection before each. The tasks are durable (a named handler; nothing in them is a closure) and are kept after they finish, in both engines. The store is a fresh SqliteStore file each round, WAL with \`synchronous = NORMAL\`; the engine commits once per tick (see docs/durability.md), so a task costs one insert and two updates, written in batches.`,
      'restore() is timed from `new TaskEngine({ store })` (opening the file, taking its lock) to the resolved report. Finished tasks come back as records without an actor; each never-started task gets its actor again, which is most of that case\'s cost (the same as registering it).',
    ],
    samples: { ...samples, 'restore finished (ms)': restoreFinished, 'restore never started (ms)': restorePending },
  };
}
