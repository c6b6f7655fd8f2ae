/**
 * Scenario 2: the throughput workload (no-op tasks, priority i % 4, concurrency 64,
 * retention { maxFinished: 0 }) at 10,000, 100,000 and 1,000,000 tasks, under each runtime,
 * to see whether the per-task cost stays flat. p-queue with priorities runs at 10,000 and 100,000.
 *
 * Tasks are fed in chunks of at most 100,000 (register + start a chunk, await onIdle,
 * next chunk) on one engine: under 'xstate' a queued task is a live actor (about 5 KB), so
 * a million queued at once would need more than Node's default 4 GiB heap.
 */
import { median } from '../stats.mjs';
import { RUNTIMES, engineOf, peerName } from '../runtimes.mjs';
import { CONCURRENCY, collect, timePQueue, timeTaskchart } from './throughput.mjs';

const PQUEUE = 'p-queue with priorities';

/** taskchart under `runtime` over `tasks` tasks fed in chunks of `chunk`; returns the total ms and each chunk's µs per task. */
async function taskchartChunked(tasks, chunk, runtime) {
  let engine = engineOf(runtime, { concurrency: CONCURRENCY, retention: { maxFinished: 0 } });
  const chunkUs = [];
  let done = 0;
  const fn = async () => {
    done++;
  };
  collect();
  const start = performance.now();
  for (let first = 0; first < tasks; first += chunk) {
    const last = Math.min(tasks, first + chunk);
    const chunkStart = performance.now();
    for (let i = first; i < last; i++) engine.startTask(engine.registerTask({ name: 'noop', fn, priority: i % 4 }));
    await engine.onIdle();
    chunkUs.push(((performance.now() - chunkStart) * 1000) / (last - first));
  }
  const ms = performance.now() - start;
  const stats = engine.getStats();
  if (done !== tasks || stats.counts.COMPLETED !== 0 || stats.counts.RUNNING !== 0 || stats.queued !== 0) {
    throw new Error(`${peerName(runtime)} ran ${done} of ${tasks} tasks, left ${JSON.stringify(stats.counts)}`);
  }
  await engine.shutdown();
  engine = undefined;
  return { ms, chunkUs };
}

export async function run({ quick }) {
  const sizes = quick ? [1_000, 3_000, 12_000] : [10_000, 100_000, 1_000_000];
  const [small, middle, large] = sizes;
  const chunk = quick ? 3_000 : 100_000;
  const smallRounds = quick ? 1 : 3;
  const middleRounds = quick ? 1 : 2;
  const us = (ms, n) => (ms * 1000) / n;
  const names = RUNTIMES.map(peerName);
  const samples = Object.fromEntries([
    ...names.map((name) => [name, { [small]: [], [middle]: [], [large]: [] }]),
    [PQUEUE, { [small]: [], [middle]: [] }],
  ]);
  // One step of a round per peer, the order rotating from round to round.
  const round = async (size, index) => {
    const steps = [
      ...RUNTIMES.map((runtime) => async () => samples[peerName(runtime)][size].push(us(await timeTaskchart(size, runtime), size))),
      async () => samples[PQUEUE][size].push(us(await timePQueue(size, true), size)),
    ];
    for (let k = 0; k < steps.length; k++) await steps[(index + k) % steps.length]();
  };

  // Warm-up, unmeasured.
  for (const runtime of RUNTIMES) await timeTaskchart(quick ? 500 : 10_000, runtime);
  await timePQueue(quick ? 500 : 10_000, true);

  // The small size, interleaved, several rounds.
  for (let r = 0; r < smallRounds; r++) await round(small, r);
  // The middle size just before and just after the large runs, so that a drift of the machine shows in both.
  await round(middle, 0);
  const largeRuns = {};
  for (const runtime of RUNTIMES) {
    largeRuns[runtime] = await taskchartChunked(large, chunk, runtime);
    samples[peerName(runtime)][large].push(us(largeRuns[runtime].ms, large));
  }
  for (let r = 1; r < middleRounds; r++) await round(middle, r);

  const cost = (peer, size) => (samples[peer][size]?.length ? median(samples[peer][size]) : undefined);
  const rows = [];
  for (const size of sizes) {
    for (const peer of [...names, PQUEUE]) {
      const value = cost(peer, size);
      if (value === undefined) continue;
      rows.push({ peer: `${peer}, ${size.toLocaleString('en-US')} tasks`, usPerTask: value, relative: value / cost(peer, middle) });
    }
  }
  const fmt = (n) => n.toLocaleString('en-US');
  const chunkText = (runtime) => {
    const chunks = largeRuns[runtime].chunkUs;
    return `${runtime}: first ${chunks[0].toFixed(1)} µs, median ${median(chunks).toFixed(1)} µs, last ${chunks[chunks.length - 1].toFixed(1)} µs per task`;
  };
  return {
    id: 'scale',
    title: `Per-task cost at ${sizes.map(fmt).join(', ')} tasks`,
    columns: [
      { key: 'peer', label: 'peer, size' },
      { key: 'usPerTask', label: 'µs per task (median)', digits: 2 },
      { key: 'relative', label: `× same peer at ${fmt(middle)}`, digits: 2 },
    ],
    rows,
    targets: RUNTIMES.map((runtime) => {
      const name = peerName(runtime);
      const ratio = cost(name, large) / cost(name, middle);
      return {
        name: `${name} per-task cost at ${fmt(large)} <= 1.3 × the cost at ${fmt(middle)}`,
        value: `${ratio.toFixed(2)}× (${cost(name, large).toFixed(2)} µs vs ${cost(name, middle).toFixed(2)} µs)`,
        met: ratio <= 1.3,
      };
    }),
    chart: { field: 'usPerTask', label: 'µs per task (lower is better)' },
    notes: [
      `Same workload as the throughput scenario: no-op async tasks, priority \`i % 4\`, concurrency ${CONCURRENCY}, \`retention: { maxFinished: 0 }\`, registerTask + startTask per task, then onIdle, under each runtime. ${fmt(small)} tasks: median of ${smallRounds} round${smallRounds === 1 ? '' : 's'}; ${fmt(middle)}: ${middleRounds === 1 ? 'one run' : `median of ${middleRounds} runs, one just before and one just after the ${fmt(large)} runs`}; ${fmt(large)}: one run per runtime${quick ? '' : ' (over two minutes for xstate here)'}. The rows of the same size are interleaved, the order rotating.`,
      `The ${fmt(large)} runs feed one engine in chunks of ${fmt(chunk)} (register and start a chunk, await onIdle, then the next), so at most ${fmt(chunk)} tasks are queued at once, as in the ${fmt(middle)} run. Under 'xstate' a queued task is a live actor of about 5 KB, so a million queued at once would need about 5 GB, beyond Node's default 4 GiB heap; both runtimes are fed the same way. What these rows measure is whether a long-lived engine stays as fast after ${fmt(large)} tasks (records, dependency edges, retention queue, statistics all forgotten or bounded), and the ${fmt(small)} to ${fmt(middle)} rows show the cost of a deeper queue. Per chunk: ${RUNTIMES.map(chunkText).join('; ')}.`,
      `p-queue with priorities runs only up to ${fmt(middle)} tasks: its priority queue is a sorted array with O(n) \`splice\` inserts, so all ${fmt(large)} at once would take far too long, and in chunks it would only repeat the ${fmt(middle)} figure.`,
    ],
    samples: { ...samples, largeChunksUs: Object.fromEntries(RUNTIMES.map((runtime) => [runtime, largeRuns[runtime].chunkUs])) },
  };
}
