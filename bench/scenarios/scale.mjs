/**
 * Scenario 2: the throughput workload (no-op tasks, priority i % 4, concurrency 64,
 * retention { maxFinished: 0 }) at 10,000, 100,000 and 1,000,000 tasks, to see whether
 * the per-task cost stays flat. p-queue with priorities runs at 10,000 and 100,000.
 *
 * Tasks are fed in chunks of at most 100,000 (register + start a chunk, await onIdle,
 * next chunk) on one engine: queued tasks are live actors (about 5.5 KB each), so a
 * million queued at once would need more than Node's default 4 GiB heap.
 */
import { TaskEngine } from '../../dist/index.js';
import { median } from '../stats.mjs';
import { CONCURRENCY, collect, timePQueue, timeTaskchart } from './throughput.mjs';

/** taskchart over `tasks` tasks fed in chunks of `chunk`; returns the total ms and each chunk's µs per task. */
async function taskchartChunked(tasks, chunk) {
  let engine = new TaskEngine({ concurrency: CONCURRENCY, retention: { maxFinished: 0 } });
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
    throw new Error(`taskchart ran ${done} of ${tasks} tasks, left ${JSON.stringify(stats.counts)}`);
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
  const samples = { taskchart: { [small]: [], [middle]: [], [large]: [] }, 'p-queue with priorities': { [small]: [], [middle]: [] } };

  // Warm-up, unmeasured.
  await timeTaskchart(quick ? 500 : 10_000);
  await timePQueue(quick ? 500 : 10_000, true);

  // The small size, interleaved, several rounds.
  for (let round = 0; round < smallRounds; round++) {
    samples.taskchart[small].push(us(await timeTaskchart(small), small));
    samples['p-queue with priorities'][small].push(us(await timePQueue(small, true), small));
  }
  // The middle size just before and just after the large one, so that a drift of the machine shows in both.
  const middleRound = async () => {
    samples.taskchart[middle].push(us(await timeTaskchart(middle), middle));
    samples['p-queue with priorities'][middle].push(us(await timePQueue(middle, true), middle));
  };
  await middleRound();
  const largeRun = await taskchartChunked(large, chunk);
  samples.taskchart[large].push(us(largeRun.ms, large));
  for (let round = 1; round < middleRounds; round++) await middleRound();

  const cost = (peer, size) => (samples[peer][size]?.length ? median(samples[peer][size]) : undefined);
  const rows = [];
  for (const size of sizes) {
    for (const peer of ['taskchart', 'p-queue with priorities']) {
      const value = cost(peer, size);
      if (value === undefined) continue;
      rows.push({ peer: `${peer}, ${size.toLocaleString('en-US')} tasks`, usPerTask: value, relative: value / cost(peer, middle) });
    }
  }
  const ratio = cost('taskchart', large) / cost('taskchart', middle);
  const chunks = largeRun.chunkUs;
  const fmt = (n) => n.toLocaleString('en-US');
  return {
    id: 'scale',
    title: `Per-task cost at ${sizes.map(fmt).join(', ')} tasks`,
    columns: [
      { key: 'peer', label: 'peer, size' },
      { key: 'usPerTask', label: 'µs per task (median)', digits: 2 },
      { key: 'relative', label: `× same peer at ${fmt(middle)}`, digits: 2 },
    ],
    rows,
    targets: [
      {
        name: `taskchart per-task cost at ${fmt(large)} <= 1.3 × the cost at ${fmt(middle)}`,
        value: `${ratio.toFixed(2)}× (${cost('taskchart', large).toFixed(2)} µs vs ${cost('taskchart', middle).toFixed(2)} µs)`,
        met: ratio <= 1.3,
      },
    ],
    chart: { field: 'usPerTask', label: 'µs per task (lower is better)' },
    notes: [
      `Same workload as the throughput scenario: no-op async tasks, priority \`i % 4\`, concurrency ${CONCURRENCY}, \`retention: { maxFinished: 0 }\`, registerTask + startTask per task, then onIdle. ${fmt(small)} tasks: median of ${smallRounds} round${smallRounds === 1 ? '' : 's'}; ${fmt(middle)}: ${middleRounds === 1 ? 'one run' : `median of ${middleRounds} runs, one just before and one just after the ${fmt(large)} run`}; ${fmt(large)}: one run${quick ? '' : ' (it takes over a minute here)'}.`,
      `The ${fmt(large)} run feeds one engine in chunks of ${fmt(chunk)} (register and start a chunk, await onIdle, then the next), so at most ${fmt(chunk)} tasks are queued at once, as in the ${fmt(middle)} run. A queued task is a live actor of about 5.5 KB, so a million queued at once would need about 5.5 GB, beyond Node's default 4 GiB heap; what this row measures is whether a long-lived engine stays as fast after ${fmt(large)} tasks (records, dependency edges, retention queue, statistics all forgotten or bounded), and the ${fmt(small)} to ${fmt(middle)} rows show the cost of a deeper queue. Per chunk: first ${chunks[0].toFixed(1)} µs, median ${median(chunks).toFixed(1)} µs, last ${chunks[chunks.length - 1].toFixed(1)} µs per task.`,
      `p-queue with priorities runs only up to ${fmt(middle)} tasks: its priority queue is a sorted array with O(n) \`splice\` inserts, so all ${fmt(large)} at once would take far too long, and in chunks it would only repeat the ${fmt(middle)} figure.`,
    ],
    samples: { ...samples, largeChunksUs: chunks },
  };
}
