/**
 * Scenario 6: CPU tasks of about 5 ms on a 2-worker pool: serial in the main thread, raw workerpool,
 * and taskchart pool tasks, in the same process. Reports speedup over serial and taskchart's overhead
 * over raw workerpool, as medians of several rounds (the machine is shared and noisy).
 */
import { fileURLToPath } from 'node:url';
import workerpool from 'workerpool';
import { TaskEngine } from '../../dist/index.js';
import { spin } from '../fixtures/cpu.mjs';
import { median, repeat } from '../stats.mjs';

const WORKERS = 2;

/** Iterations that take about `ms` in this thread: time the unit itself and adjust, a few times. */
function calibrate(ms) {
  let iterations = 100_000;
  for (let round = 0; round < 8; round++) {
    const times = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      spin(iterations);
      times.push(performance.now() - start);
    }
    iterations = Math.max(1000, Math.round((iterations * ms) / median(times)));
  }
  return iterations;
}

export async function run({ quick }) {
  const tasks = quick ? 20 : 200;
  const rounds = quick ? 1 : 7;
  const iterations = calibrate(5);
  // Wall time, and the main thread's busy time (event-loop utilisation): on 2 cores with 2 busy workers,
  // every microsecond the main thread works is taken from a worker or keeps one waiting for its next task.
  const busy = { serial: [], raw: [], taskchart: [] };
  let current = 'serial';
  const time = async (fn) => {
    const elu = performance.eventLoopUtilization();
    const start = performance.now();
    await fn();
    busy[current].push(performance.eventLoopUtilization(elu).active);
    return performance.now() - start;
  };

  const serial = () => time(async () => {
    for (let i = 0; i < tasks; i++) spin(iterations);
  });

  const raw = workerpool.pool(fileURLToPath(new URL('../fixtures/raw-worker.mjs', import.meta.url)), { workerType: 'thread', maxWorkers: WORKERS, minWorkers: WORKERS });
  const rawRun = () => time(() => Promise.all(Array.from({ length: tasks }, () => raw.exec('spin', [iterations]))));

  const engine = new TaskEngine({ concurrency: 64, pool: { maxWorkers: WORKERS, minWorkers: WORKERS }, retention: { maxFinished: 0 } });
  const module = new URL('../fixtures/cpu.mjs', import.meta.url);
  const taskchartRun = () => time(async () => {
    // Independent tasks: each is started as soon as it is registered (as with p-queue's add()).
    for (let i = 0; i < tasks; i++) engine.startTask(engine.registerTask({ name: 'spin', module, export: 'spinTask', args: [iterations] }));
    await engine.onIdle();
  });

  // Interleave the three in every round so that machine noise hits them alike.
  const samples = { serial: [], raw: [], taskchart: [] };
  await repeat(rounds, async () => {
    current = 'serial';
    samples.serial.push(await serial());
    current = 'raw';
    samples.raw.push(await rawRun());
    current = 'taskchart';
    samples.taskchart.push(await taskchartRun());
  });
  await raw.terminate();
  await engine.shutdown();

  const serialMs = median(samples.serial);
  const rawMs = median(samples.raw);
  const taskchartMs = median(samples.taskchart);
  const row = (peer, ms, key) => ({ peer, ms, usPerTask: (ms * 1000) / tasks, speedup: serialMs / ms, mainUsPerTask: key ? (median(busy[key]) * 1000) / tasks : undefined });
  const overhead = taskchartMs / rawMs - 1;
  return {
    id: 'pool',
    title: `${tasks} CPU tasks of ~5 ms on ${WORKERS} workers`,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'ms', label: 'total ms (median)' },
      { key: 'usPerTask', label: 'µs per task' },
      { key: 'speedup', label: 'speedup vs serial', digits: 2 },
      { key: 'mainUsPerTask', label: 'main-thread busy µs per task' },
    ],
    rows: [row('serial (main thread)', serialMs), row('raw workerpool', rawMs, 'raw'), row('taskchart pool', taskchartMs, 'taskchart')],
    targets: [
      { name: 'speedup over serial >= 1.85', value: (serialMs / taskchartMs).toFixed(2), met: serialMs / taskchartMs >= 1.85 },
      { name: 'overhead over raw workerpool < 5%', value: `${(overhead * 100).toFixed(1)}%`, met: overhead < 0.05 },
    ],
    chart: { field: 'speedup', label: 'speedup over serial (higher is better)' },
    samples,
    notes: [
      'Why taskchart misses this target here: the workers run the same code in both peers (the worker entry adds a cached module lookup and an envelope), so the difference is the main thread. ' +
        'Per pool task it runs the XState actor lifecycle (create, START, DISPATCH, ATTEMPT_SUCCEEDED: about 70 µs when warm on this machine, see the throughput scenario) plus the supervisor and the executor call. ' +
        'With 2 workers on 2 cores, that work competes with the workers for a core and, worse, sits between a worker finishing and the same worker getting its next task: measured with timestamps, a completion-to-next-dispatch burst takes about 250 µs of wall time (median; the main thread wakes cold after sleeping through a 5 ms task), about half of it inside XState, against well under 100 µs for raw workerpool. ' +
        'Measured directly, the executor alone (the same 200 tasks driven through PoolExecutor at 2 in flight, without the supervisor) is within noise of raw workerpool. Closing the gap needs less main-thread work per task than one XState actor lifecycle, so on this machine the target is out of reach for a design with one actor per task. The cost is fixed per task: for tasks of 50 ms instead of 5 ms it is a tenth as large in proportion.',
    ],
  };
}
