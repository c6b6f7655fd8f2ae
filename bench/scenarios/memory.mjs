/**
 * Scenario 4: heap per task. Every measurement runs in its own `node --expose-gc` child process
 * (bench/fixtures/memory-*.mjs), which reads `process.memoryUsage().heapUsed` after full garbage
 * collections before and after creating the tasks, and prints JSON. Peers, for context: a p-queue
 * holding pending jobs, and bare started XState actors of a tiny machine.
 *
 * Units are decimal and so slightly stricter than binary ones: 1 KB = 1,000 bytes, 1 MB = 10^6 bytes.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const KB = 1000;
const MB = 1e6;

/** Runs bench/fixtures/memory-<name>.mjs in a child with --expose-gc and returns its JSON. */
function measure(name, args) {
  const file = fileURLToPath(new URL(`../fixtures/memory-${name}.mjs`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', file, ...args.map(String)], { timeout: 600_000, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`memory-${name}.mjs failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

const fmt = (value, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export async function run({ quick }) {
  const n = quick ? 1000 : 50_000;
  const cleanupN = quick ? 2000 : 100_000;
  const millionN = quick ? 5000 : 1_000_000;
  const every = quick ? 1000 : 100_000;

  // The long run (about a minute at full size) goes alongside the others, which each take a few seconds:
  // separate processes, so their heaps do not mix.
  const retentionRun = measure('retention', [millionN, every]);
  const pendingExternal = await measure('pending', [n, 'external']);
  const pendingFn = await measure('pending', [n, 'fn']);
  const finished = await measure('finished', [n]);
  const cleanup = await measure('cleanup', [cleanupN]);
  const pqueue = await measure('pqueue', [n]);
  const xstate = await measure('xstate', [n]);
  const retention = await retentionRun;

  const pendingWorst = Math.max(pendingExternal.bytesPerTask, pendingFn.bytesPerTask);
  const cleanupDelta = cleanup.deltaBytes / MB;
  const retentionMax = retention.maxHeap / MB;
  const nText = fmt(n);

  return {
    id: 'memory',
    title: `Heap per task (${nText} tasks per measurement)`,
    columns: [
      { key: 'peer', label: 'measurement' },
      { key: 'bytesPerTask', label: 'heap bytes per task', digits: 0 },
      { key: 'heapMB', label: 'heap MB', digits: 1 },
      { key: 'target', label: 'target' },
    ],
    rows: [
      { peer: 'taskchart: PENDING task (external, never started)', bytesPerTask: pendingExternal.bytesPerTask, target: '<= 6 KB' },
      { peer: 'taskchart: PENDING task (fn + args, never started)', bytesPerTask: pendingFn.bytesPerTask, target: '<= 6 KB' },
      { peer: 'p-queue: pending job (queue not started)', bytesPerTask: pqueue.bytesPerTask },
      { peer: 'XState: bare started actor (tiny machine)', bytesPerTask: xstate.bytesPerTask },
      { peer: 'taskchart: COMPLETED task, kept (no retention)', bytesPerTask: finished.bytesPerTask, target: '<= 1 KB' },
      { peer: `taskchart: heap after cleanupTask of ${fmt(cleanupN)} finished tasks, vs before the engine`, heapMB: cleanupDelta, target: '± 5 MB' },
      { peer: `taskchart: max heap running ${fmt(millionN)} tasks, retention maxFinished 1,000`, heapMB: retentionMax, target: '< 200 MB' },
    ],
    targets: [
      {
        name: 'a PENDING task <= 6 KB of heap',
        value: `${fmt(pendingExternal.bytesPerTask)} B external, ${fmt(pendingFn.bytesPerTask)} B fn`,
        met: pendingWorst <= 6 * KB,
      },
      {
        name: 'a finished task <= 1 KB until forgotten',
        value: `${fmt(finished.bytesPerTask)} B (1 KB = 1,000 B here; against 1,024 B it would be ${finished.bytesPerTask <= 1024 ? 'met' : 'missed'})`,
        met: finished.bytesPerTask <= 1 * KB,
      },
      {
        name: `heap back to baseline (± 5 MB) after cleanupTask of ${fmt(cleanupN)} tasks`,
        value: `${cleanupDelta >= 0 ? '+' : ''}${fmt(cleanupDelta, 2)} MB (peak before cleanup +${fmt((cleanup.finished - cleanup.baseline) / MB, 1)} MB)`,
        met: Math.abs(cleanupDelta) <= 5,
      },
      {
        name: `running ${fmt(millionN)} tasks with retention keeps the heap under 200 MB`,
        value: `${fmt(retentionMax, 1)} MB max after gc (${fmt(retention.maxRaw / MB, 1)} MB max before gc)`,
        met: retentionMax < 200,
      },
    ],
    chart: { field: 'bytesPerTask', label: 'heap bytes per task (lower is better)' },
    notes: [
      'Each measurement runs in its own `node --expose-gc` child process (`bench/fixtures/memory-*.mjs`): `heapUsed` after full garbage collections, before and after creating the tasks, divided by their number. A warm-up of 1,000 tasks before the first reading keeps compiled code out of the difference. 1 KB = 1,000 bytes, 1 MB = 10^6 bytes.',
      'PENDING tasks are registered and never started: each has its task record, its spec and its started XState actor. The p-queue peer holds jobs in a queue that is not started (a closure per job, as p-queue takes no arguments); the XState peer is `createActor(machine).start()` of a two-state machine, kept in an array.',
      `A COMPLETED task keeps its record and result (a number) until \`cleanupTask\` or retention forgets it; its actor is dropped when it finishes. The cleanup run compares the heap with the engine still alive against the heap before it was created, its ${fmt(cleanupN)} ids dropped.`,
      `The retention run samples the heap after gc every ${fmt(every)} tasks (batches of 1,000 fn tasks, concurrency 100, \`retention: { maxFinished: 1000 }\`); "before gc" is \`heapUsed\` just before each forced collection. It ran at ${fmt(retention.usPerTask, 1)} µs per task (${fmt(retention.ms / 1000, 1)} s for ${fmt(millionN)}).`,
    ],
    raw: { pendingExternal, pendingFn, finished, cleanup, pqueue, xstate, retention },
  };
}
