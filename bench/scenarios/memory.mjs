/**
 * Scenario 4: heap per task, under each runtime. Every measurement runs in its own `node --expose-gc` child
 * process (bench/fixtures/memory-*.mjs, given the runtime as an argument), which reads
 * `process.memoryUsage().heapUsed` after full garbage collections before and after creating the tasks, and
 * prints JSON. Peers, for context: a p-queue holding pending jobs, and bare started XState actors of a tiny machine.
 *
 * Units are decimal and so slightly stricter than binary ones: 1 KB = 1,000 bytes, 1 MB = 10^6 bytes.
 */
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BEFORE } from '../baseline.mjs';
import { RUNTIMES, peerName } from '../runtimes.mjs';

const KB = 1000;
const MB = 1e6;
/** The heap targets of each runtime: a PENDING task, a finished one (kept until forgotten). */
const LIMITS = { compiled: { pending: 1.5 * KB, finished: 1 * KB }, xstate: { pending: 6 * KB, finished: 1 * KB } };

/** Runs bench/fixtures/memory-<name>.mjs in a child with --expose-gc and returns its JSON. */
function measure(name, args) {
  const file = fileURLToPath(new URL(`../fixtures/memory-${name}.mjs`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', file, ...args.map(String)],
      { timeout: 600_000, maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`memory-${name}.mjs ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()));
      },
    );
  });
}

/** Runs the jobs (functions returning promises) at most `limit` at a time; resolves to their results, in order. */
async function limited(jobs, limit) {
  const results = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, lane));
  return results;
}

const fmt = (value, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const kb = (bytes) => `${fmt(bytes / KB, bytes % KB === 0 ? 0 : 1)} KB`;

export async function run({ quick }) {
  const n = quick ? 1000 : 50_000;
  const cleanupN = quick ? 2000 : 100_000;
  const millionN = quick ? 5000 : 1_000_000;
  const every = quick ? 1000 : 100_000;

  // Heap readings do not depend on the CPU the processes get, so the children run side by side: the long
  // retention runs (about a minute each at full size) alongside the others (a few seconds each), two at a time.
  const retentionRuns = Object.fromEntries(RUNTIMES.map((runtime) => [runtime, measure('retention', [millionN, every, runtime])]));
  const jobs = [];
  const per = {};
  for (const runtime of RUNTIMES) {
    per[runtime] = {};
    jobs.push(async () => (per[runtime].pendingExternal = await measure('pending', [n, 'external', runtime])));
    jobs.push(async () => (per[runtime].pendingFn = await measure('pending', [n, 'fn', runtime])));
    jobs.push(async () => (per[runtime].finished = await measure('finished', [n, runtime])));
    jobs.push(async () => (per[runtime].cleanup = await measure('cleanup', [cleanupN, runtime])));
  }
  let pqueue;
  let xstate;
  jobs.push(async () => (pqueue = await measure('pqueue', [n])));
  jobs.push(async () => (xstate = await measure('xstate', [n])));
  await limited(jobs, Math.max(1, Math.min(2, cpus().length)));
  for (const runtime of RUNTIMES) per[runtime].retention = await retentionRuns[runtime];

  const rows = [];
  const targets = [];
  for (const runtime of RUNTIMES) {
    const name = peerName(runtime);
    const { pendingExternal, pendingFn, finished } = per[runtime];
    const limit = LIMITS[runtime];
    rows.push(
      {
        peer: `${name}: PENDING task (external, never started)`,
        bytesPerTask: pendingExternal.bytesPerTask,
        target: `<= ${kb(limit.pending)}`,
      },
      { peer: `${name}: PENDING task (fn + args, never started)`, bytesPerTask: pendingFn.bytesPerTask, target: `<= ${kb(limit.pending)}` },
      { peer: `${name}: COMPLETED task, kept (no retention)`, bytesPerTask: finished.bytesPerTask, target: `<= ${kb(limit.finished)}` },
    );
    const pendingWorst = Math.max(pendingExternal.bytesPerTask, pendingFn.bytesPerTask);
    const before =
      runtime === 'xstate'
        ? `; before the runtime option: ${fmt(BEFORE.memory.pendingExternalBytes)} B external, ${fmt(BEFORE.memory.pendingFnBytes)} B fn`
        : '';
    targets.push(
      {
        name: `${name}: a PENDING task <= ${kb(limit.pending)} of heap`,
        value: `${fmt(pendingExternal.bytesPerTask)} B external, ${fmt(pendingFn.bytesPerTask)} B fn${before}`,
        met: pendingWorst <= limit.pending,
      },
      {
        name: `${name}: a finished task <= ${kb(limit.finished)} until forgotten`,
        value: `${fmt(finished.bytesPerTask)} B (1 KB = 1,000 B here; against 1,024 B it would be ${finished.bytesPerTask <= 1024 ? 'met' : 'missed'})`,
        met: finished.bytesPerTask <= limit.finished,
      },
    );
  }
  rows.push(
    { peer: 'p-queue: pending job (queue not started)', bytesPerTask: pqueue.bytesPerTask },
    { peer: 'XState: bare started actor (tiny machine)', bytesPerTask: xstate.bytesPerTask },
  );
  for (const runtime of RUNTIMES) {
    const name = peerName(runtime);
    const { cleanup, retention } = per[runtime];
    const cleanupDelta = cleanup.deltaBytes / MB;
    const retentionMax = retention.maxHeap / MB;
    rows.push(
      {
        peer: `${name}: heap after cleanupTask of ${fmt(cleanupN)} finished tasks, vs before the engine`,
        heapMB: cleanupDelta,
        target: '± 5 MB',
      },
      { peer: `${name}: max heap running ${fmt(millionN)} tasks, retention maxFinished 1,000`, heapMB: retentionMax, target: '< 200 MB' },
    );
    targets.push(
      {
        name: `${name}: heap back to baseline (± 5 MB) after cleanupTask of ${fmt(cleanupN)} tasks`,
        value: `${cleanupDelta >= 0 ? '+' : ''}${fmt(cleanupDelta, 2)} MB (peak before cleanup +${fmt((cleanup.finished - cleanup.baseline) / MB, 1)} MB)`,
        met: Math.abs(cleanupDelta) <= 5,
      },
      {
        name: `${name}: running ${fmt(millionN)} tasks with retention keeps the heap under 200 MB`,
        value: `${fmt(retentionMax, 1)} MB max after gc (${fmt(retention.maxRaw / MB, 1)} MB max before gc)`,
        met: retentionMax < 200,
      },
    );
  }
  const retentionSpeed = RUNTIMES.map(
    (runtime) => `${runtime} ${fmt(per[runtime].retention.usPerTask, 1)} µs per task (${fmt(per[runtime].retention.ms / 1000, 1)} s)`,
  ).join(', ');

  return {
    id: 'memory',
    title: `Heap per task (${fmt(n)} tasks per measurement)`,
    columns: [
      { key: 'peer', label: 'measurement' },
      { key: 'bytesPerTask', label: 'heap bytes per task', digits: 0 },
      { key: 'heapMB', label: 'heap MB', digits: 1 },
      { key: 'target', label: 'target' },
    ],
    rows,
    targets,
    chart: { field: 'bytesPerTask', label: 'heap bytes per task (lower is better)' },
    notes: [
      'Each measurement runs in its own `node --expose-gc` child process (`bench/fixtures/memory-*.mjs`, given the runtime as an argument): `heapUsed` after full garbage collections, before and after creating the tasks, divided by their number. A warm-up of 1,000 tasks before the first reading keeps compiled code out of the difference. The children run two at a time, the two retention runs alongside them. 1 KB = 1,000 bytes, 1 MB = 10^6 bytes.',
      "PENDING tasks are registered and never started: each has its task record, its spec and its statechart: a started XState actor under 'xstate', a compiled run (its leaf state, its context object, no timers) under 'compiled'. The p-queue peer holds jobs in a queue that is not started (a closure per job, as p-queue takes no arguments); the XState peer is `createActor(machine).start()` of a two-state machine, kept in an array.",
      `A COMPLETED task keeps its record and result (a number) until \`cleanupTask\` or retention forgets it; its statechart is dropped when it finishes, under either runtime. The cleanup run compares the heap with the engine still alive against the heap before it was created, its ${fmt(cleanupN)} ids dropped.`,
      `The retention runs sample the heap after gc every ${fmt(every)} tasks (batches of 1,000 fn tasks, concurrency 100, \`retention: { maxFinished: 1000 }\`); "before gc" is \`heapUsed\` just before each forced collection. They ran at ${retentionSpeed}, sharing the machine with the other measurements.`,
    ],
    raw: { ...per, pqueue, xstate },
  };
}
