/**
 * Scenario 7: the durable store's cost, under each runtime. 100,000 no-op tasks (a named handler, four
 * priority levels, concurrency 64, registerTask + startTask per task) on an engine with a SqliteStore,
 * against the same on an in-memory engine, all four interleaved in every round. Then restore(): a new
 * engine reads back the 100,000 finished tasks of a durable round, and, separately, 100,000 tasks
 * registered and never started.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../dist/sqlite/index.js';
import { RUNTIMES, engineOf, peerName } from '../runtimes.mjs';
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

/** registerTask + startTask per task and onIdle under `runtime`, timed; `path` given: on a SqliteStore at that file. */
async function timeEngine(tasks, runtime, path) {
  let engine = engineOf(runtime, { concurrency: CONCURRENCY, ...(path && { store: new SqliteStore({ path }) }) });
  engine.defineTask('noop', noop);
  const ms = await time(async () => {
    for (let i = 0; i < tasks; i++) engine.startTask(engine.registerTask({ name: 'noop', handler: 'noop', priority: i % 4 }));
    await engine.onIdle();
  });
  const { counts } = engine.getStats();
  if (counts.COMPLETED !== tasks)
    throw new Error(`${peerName(runtime)} ${path ? 'durable' : 'in-memory'} engine completed ${counts.COMPLETED} of ${tasks}`);
  await engine.shutdown();
  engine = undefined;
  return ms;
}

/** Milliseconds from `new TaskEngine({ store, runtime })` to restore() resolved, on the file at `path`. */
async function timeRestore(path, tasks, runtime) {
  collect();
  const start = performance.now();
  const engine = engineOf(runtime, { concurrency: CONCURRENCY, store: new SqliteStore({ path }) });
  engine.defineTask('noop', noop);
  const report = await engine.restore();
  const ms = performance.now() - start;
  if (report.restored !== tasks) throw new Error(`restored ${report.restored} of ${tasks}`);
  await engine.shutdown({ mode: 'suspend' });
  return { ms, report };
}

async function neverStartedFile(tasks) {
  const path = freshPath('never-started.db');
  const engine = engineOf('compiled', { store: new SqliteStore({ path }) });
  engine.defineTask('noop', noop);
  engine.registerTasks(Array.from({ length: tasks }, (_, i) => ({ name: 'noop', handler: 'noop', priority: i % 4 })));
  await engine.shutdown({ mode: 'suspend' });
  return path;
}

const memoryName = (runtime) => `${peerName(runtime)} in memory`;
const durableName = (runtime) => `${peerName(runtime)} durable (SqliteStore)`;
/** The durable rounds of each runtime write their own file, which the restore of finished tasks reads. */
const runFile = (runtime) => `run-${runtime}.db`;

export async function run({ quick }) {
  const tasks = quick ? 2_000 : 100_000;
  const rounds = quick ? 1 : 4;
  const peers = RUNTIMES.flatMap((runtime) => [
    { name: memoryName(runtime), time: (n) => timeEngine(n, runtime) },
    { name: durableName(runtime), time: (n) => timeEngine(n, runtime, freshPath(runFile(runtime))) },
  ]);
  const samples = await interleavedRounds(peers, tasks, rounds);
  const fileMiB = statSync(join(dir, runFile('compiled'))).size / 2 ** 20;
  const pendingPath = await neverStartedFile(tasks);
  // Restores: each runtime in turn, a few times, alternating.
  const restores = Object.fromEntries(RUNTIMES.map((runtime) => [runtime, { finished: [], pending: [] }]));
  for (let i = 0; i < Math.max(1, rounds - 1); i++) {
    for (const runtime of i % 2 ? [...RUNTIMES].reverse() : RUNTIMES) {
      restores[runtime].finished.push((await timeRestore(join(dir, runFile(runtime)), tasks, runtime)).ms);
      restores[runtime].pending.push((await timeRestore(pendingPath, tasks, runtime)).ms);
    }
  }

  const size = tasks.toLocaleString('en-US');
  const rows = [];
  const targets = [];
  for (const runtime of RUNTIMES) {
    const memory = median(samples[memoryName(runtime)]);
    const durable = median(samples[durableName(runtime)]);
    const finishedMs = median(restores[runtime].finished);
    const pendingMs = median(restores[runtime].pending);
    rows.push(
      { peer: memoryName(runtime), value: memory, unit: 'µs per task', ratio: 1 },
      { peer: durableName(runtime), value: durable, unit: 'µs per task', ratio: durable / memory },
    );
    targets.push(
      {
        name: `${peerName(runtime)}: durable per-task cost <= 2 × in memory`,
        value: `${(durable / memory).toFixed(2)}× (${durable.toFixed(1)} vs ${memory.toFixed(1)} µs)`,
        met: durable <= 2 * memory,
      },
      {
        name: `${peerName(runtime)}: restore of ${size} tasks in under 2 s`,
        value: `${finishedMs.toFixed(0)} ms finished, ${pendingMs.toFixed(0)} ms never started`,
        met: finishedMs < 2000 && pendingMs < 2000,
      },
    );
  }
  for (const runtime of RUNTIMES) {
    rows.push(
      {
        peer: `${peerName(runtime)}: restore() of ${size} finished tasks`,
        value: median(restores[runtime].finished),
        unit: 'ms',
        ratio: null,
      },
      {
        peer: `${peerName(runtime)}: restore() of ${size} never-started tasks`,
        value: median(restores[runtime].pending),
        unit: 'ms',
        ratio: null,
      },
    );
  }
  rows.push({ peer: `store file after ${size} tasks`, value: fileMiB, unit: 'MiB', ratio: null });
  return {
    id: 'durable',
    title: `${size} durable no-op tasks vs in memory, and restore()`,
    columns: [
      { key: 'peer', label: 'measure' },
      { key: 'value', label: 'median', digits: 2 },
      { key: 'unit', label: 'unit' },
      { key: 'ratio', label: '× in memory, same runtime', digits: 2 },
    ],
    rows,
    targets,
    chart: { field: 'value', label: 'µs per task (lower is better)', rows: 2 * RUNTIMES.length },
    notes: [
      `Median of ${rounds} round${rounds === 1 ? '' : 's'} after a warm-up on a tenth of the size; the four engines (in memory and durable, under each runtime) run in every round, the order rotating, with a full garbage collection before each. The tasks are durable (a named handler; nothing in them is a closure) and are kept after they finish, in every engine. The store is a fresh SqliteStore file each round, WAL with \`synchronous = NORMAL\`; the engine commits once per tick (see docs/durability.md), so a task costs one insert and two updates, written in batches.`,
      `restore() is timed from \`new TaskEngine({ store, runtime })\` (opening the file, taking its lock) to the resolved report, ${Math.max(1, rounds - 1)} times per runtime (median), on the file of that runtime's last durable round (finished tasks) and on one file of tasks registered and never started. Finished tasks come back as records without a statechart; never-started tasks come back dormant, getting their statechart only when something happens to them, so neither restore depends much on the runtime.`,
    ],
    samples: { ...samples, restores },
  };
}
