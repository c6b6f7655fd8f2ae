/**
 * Scenario 6: CPU tasks of about 5 ms on a 2-worker pool: serial in the main thread, raw workerpool,
 * and taskchart pool tasks under each runtime, in the same process. Reports speedup over serial and
 * taskchart's overhead over raw workerpool, as medians of several rounds (the machine is shared and noisy).
 */
import { fileURLToPath } from 'node:url';
import workerpool from 'workerpool';
import { spin } from '../fixtures/cpu.mjs';
import { RUNTIMES, engineOf, peerName } from '../runtimes.mjs';
import { median, repeat } from '../stats.mjs';

const WORKERS = 2;
const SERIAL = 'serial (main thread)';
const RAW = 'raw workerpool';

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
  const names = [SERIAL, RAW, ...RUNTIMES.map(peerName)];
  // Wall time, and the main thread's busy time (event-loop utilisation): on 2 cores with 2 busy workers,
  // every microsecond the main thread works is taken from a worker or keeps one waiting for its next task.
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const busy = Object.fromEntries(names.map((name) => [name, []]));
  const timed = (name, fn) => async () => {
    const elu = performance.eventLoopUtilization();
    const start = performance.now();
    await fn();
    samples[name].push(performance.now() - start);
    busy[name].push(performance.eventLoopUtilization(elu).active);
  };

  const raw = workerpool.pool(fileURLToPath(new URL('../fixtures/raw-worker.mjs', import.meta.url)), {
    workerType: 'thread',
    maxWorkers: WORKERS,
    minWorkers: WORKERS,
  });
  // One engine (and so one pool of 2 workers) per runtime, kept for the run as the raw pool is; only one peer runs at a time.
  const engines = Object.fromEntries(
    RUNTIMES.map((runtime) => [
      runtime,
      engineOf(runtime, { concurrency: 64, pool: { maxWorkers: WORKERS, minWorkers: WORKERS }, retention: { maxFinished: 0 } }),
    ]),
  );
  const module = new URL('../fixtures/cpu.mjs', import.meta.url);
  const runs = [
    timed(SERIAL, async () => {
      for (let i = 0; i < tasks; i++) spin(iterations);
    }),
    timed(RAW, () => Promise.all(Array.from({ length: tasks }, () => raw.exec('spin', [iterations])))),
    ...RUNTIMES.map((runtime) =>
      timed(peerName(runtime), async () => {
        const engine = engines[runtime];
        // Independent tasks: each is started as soon as it is registered (as with p-queue's add()).
        for (let i = 0; i < tasks; i++)
          engine.startTask(engine.registerTask({ name: 'spin', module, export: 'spinTask', args: [iterations] }));
        await engine.onIdle();
      }),
    ),
  ];

  // Every peer once per round, the order rotating, so that machine noise hits them alike; one unmeasured round first.
  let round = 0;
  const oneRound = async () => {
    for (let k = 0; k < runs.length; k++) await runs[(round + k) % runs.length]();
    round++;
  };
  await oneRound();
  for (const name of names) {
    samples[name].length = 0;
    busy[name].length = 0;
  }
  await repeat(rounds, oneRound, 0);
  await raw.terminate();
  for (const engine of Object.values(engines)) await engine.shutdown();

  const ms = Object.fromEntries(names.map((name) => [name, median(samples[name])]));
  const serialMs = ms[SERIAL];
  const rawMs = ms[RAW];
  const row = (name) => ({
    peer: name,
    ms: ms[name],
    usPerTask: (ms[name] * 1000) / tasks,
    speedup: serialMs / ms[name],
    overhead: name === SERIAL ? undefined : (100 * (ms[name] - rawMs)) / rawMs,
    mainUsPerTask: name === SERIAL ? undefined : (median(busy[name]) * 1000) / tasks,
  });
  const compiled = ms[peerName('compiled')];
  const overhead = compiled / rawMs - 1;
  return {
    id: 'pool',
    title: `${tasks} CPU tasks of ~5 ms on ${WORKERS} workers`,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'ms', label: 'total ms (median)' },
      { key: 'usPerTask', label: 'µs per task' },
      { key: 'speedup', label: 'speedup vs serial', digits: 2 },
      { key: 'overhead', label: '% over raw workerpool', digits: 1 },
      { key: 'mainUsPerTask', label: 'main-thread busy µs per task' },
    ],
    rows: names.map(row),
    targets: [
      {
        name: 'taskchart (compiled): speedup over serial >= 1.85',
        value: (serialMs / compiled).toFixed(2),
        met: serialMs / compiled >= 1.85,
      },
      { name: 'taskchart (compiled): overhead over raw workerpool < 5%', value: `${(overhead * 100).toFixed(1)}%`, met: overhead < 0.05 },
    ],
    chart: { field: 'speedup', label: 'speedup over serial (higher is better)' },
    samples: { ms: samples, mainThreadBusyMs: busy },
    notes: [
      `Median of ${rounds} round${rounds === 1 ? '' : 's'} after one unmeasured round; in every round each peer runs the ${tasks} tasks once, the order rotating. Each task is \`spin\` (bench/fixtures/cpu.mjs) for about 5 ms, calibrated in this thread at start-up; serial runs them one after the other in the main thread. Raw workerpool and each taskchart engine (one per runtime, \`concurrency: 64\`, \`pool: { maxWorkers: 2, minWorkers: 2 }\`, \`retention: { maxFinished: 0 }\`) keep their 2 worker threads for the whole run; taskchart registers and starts each task as a pool task (\`module\` + \`export\`) and awaits onIdle. The 'xstate' row is reported for comparison; the targets are the 'compiled' runtime's.`,
      'Main-thread busy: the event-loop utilisation of the main thread while the peer ran (its active time), per task. On 2 cores with 2 busy workers, that time is taken from a worker, or sits between a worker finishing and its next task.',
    ],
  };
}
