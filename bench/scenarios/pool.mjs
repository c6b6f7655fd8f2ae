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
  const time = async (fn) => {
    const start = performance.now();
    await fn();
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
    samples.serial.push(await serial());
    samples.raw.push(await rawRun());
    samples.taskchart.push(await taskchartRun());
  });
  await raw.terminate();
  await engine.shutdown();

  const serialMs = median(samples.serial);
  const rawMs = median(samples.raw);
  const taskchartMs = median(samples.taskchart);
  return {
    id: 'pool',
    title: `${tasks} CPU tasks of ~5 ms on ${WORKERS} workers`,
    rows: [
      { peer: 'serial (main thread)', ms: serialMs, perTaskUs: (serialMs * 1000) / tasks, speedup: 1 },
      { peer: 'raw workerpool', ms: rawMs, perTaskUs: (rawMs * 1000) / tasks, speedup: serialMs / rawMs },
      { peer: 'taskchart pool', ms: taskchartMs, perTaskUs: (taskchartMs * 1000) / tasks, speedup: serialMs / taskchartMs },
    ],
    targets: [
      { name: 'speedup over serial >= 1.85', value: serialMs / taskchartMs, met: serialMs / taskchartMs >= 1.85 },
      { name: 'overhead over raw workerpool < 5%', value: taskchartMs / rawMs - 1, met: taskchartMs / rawMs - 1 < 0.05 },
    ],
    samples,
  };
}
