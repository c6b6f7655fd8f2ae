/**
 * Scenario 1: 100,000 no-op tasks, four priority levels (i % 4), concurrency 64.
 * Peers, interleaved in every round: taskchart under each runtime, 'compiled' and 'xstate'
 * (registerTask + startTask per task, retention { maxFinished: 0 }), p-queue with and without
 * priorities, the hand-written floor (bench/peers/floor.mjs) and a bare XState actor lifecycle
 * per task (bench/peers/bare-xstate.mjs). Reports medians of the rounds.
 *
 * Also exports the per-peer runners and helpers that scale.mjs reuses.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import PQueue from 'p-queue';
import { BEFORE, NOISE } from '../baseline.mjs';
import { runBareXState } from '../peers/bare-xstate.mjs';
import { Floor } from '../peers/floor.mjs';
import { RUNTIMES, engineOf, peerName } from '../runtimes.mjs';
import { interleavedRounds, median } from '../stats.mjs';

export const CONCURRENCY = 64;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

/** A full collection, so one peer's garbage is not charged to the next one. */
export function collect() {
  gc();
  gc();
}

/** Milliseconds taken by `fn` (awaited), after a full collection. */
export async function time(fn) {
  collect();
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * taskchart under `runtime`: a fresh engine (not timed), then registerTask + startTask per task and onIdle (timed).
 * `prepare(engine)`, when given, runs before the timed part (instrumenting the engine, say) and returns what to
 * do after it, before the engine shuts down.
 */
export async function timeTaskchart(tasks, runtime, prepare) {
  let engine = engineOf(runtime, { concurrency: CONCURRENCY, retention: { maxFinished: 0 } });
  const after = prepare?.(engine);
  let done = 0;
  const fn = async () => {
    done++;
  };
  const ms = await time(async () => {
    for (let i = 0; i < tasks; i++) engine.startTask(engine.registerTask({ name: 'noop', fn, priority: i % 4 }));
    await engine.onIdle();
  });
  const stats = engine.getStats();
  if (done !== tasks || stats.counts.COMPLETED !== 0 || stats.counts.RUNNING !== 0 || stats.queued !== 0) {
    throw new Error(`${peerName(runtime)} ran ${done} of ${tasks} tasks, left ${JSON.stringify(stats.counts)}`);
  }
  await after?.();
  await engine.shutdown();
  engine = undefined;
  return ms;
}

/** p-queue 9, `add(fn, { priority })` per task (higher runs first), then onIdle. */
export async function timePQueue(tasks, priorities) {
  let queue = new PQueue({ concurrency: CONCURRENCY });
  let done = 0;
  const fn = async () => {
    done++;
  };
  const ms = await time(async () => {
    if (priorities) for (let i = 0; i < tasks; i++) queue.add(fn, { priority: i % 4 });
    else for (let i = 0; i < tasks; i++) queue.add(fn);
    await queue.onIdle();
  });
  if (done !== tasks) throw new Error(`p-queue ran ${done} of ${tasks} tasks`);
  queue = undefined;
  return ms;
}

async function timeFloor(tasks) {
  let floor = new Floor({ concurrency: CONCURRENCY });
  let done = 0;
  const fn = async () => {
    done++;
  };
  const ms = await time(async () => {
    for (let i = 0; i < tasks; i++) floor.add(fn, i % 4);
    await floor.onIdle();
  });
  if (done !== tasks) throw new Error(`the floor ran ${done} of ${tasks} tasks`);
  floor = undefined;
  return ms;
}

async function timeBareXState(tasks) {
  let done = 0;
  const ms = await time(() => {
    done = runBareXState(tasks);
  });
  if (done !== tasks) throw new Error(`bare XState finished ${done} of ${tasks} actors`);
  return ms;
}

export async function run({ quick }) {
  const tasks = quick ? 2_000 : 100_000;
  // 4 rounds: one round of all six peers takes ~20 s here.
  const rounds = quick ? 1 : 4;
  const peers = [
    ...RUNTIMES.map((runtime) => ({ name: peerName(runtime), time: (n) => timeTaskchart(n, runtime) })),
    { name: 'p-queue with priorities', time: (n) => timePQueue(n, true) },
    { name: 'p-queue without priorities', time: (n) => timePQueue(n, false) },
    { name: 'floor (Kahn, no statechart)', time: timeFloor },
    { name: 'bare XState actor lifecycle', time: timeBareXState },
  ];

  const samples = await interleavedRounds(peers, tasks, rounds);

  const us = Object.fromEntries(peers.map((peer) => [peer.name, median(samples[peer.name])]));
  const reference = us['p-queue with priorities'];
  const compiled = us[peerName('compiled')];
  const xstate = us[peerName('xstate')];
  // The xstate row's own ratio to p-queue with priorities in each round, so its spread is visible.
  const xstateRatios = samples[peerName('xstate')].map((value, round) => value / samples['p-queue with priorities'][round]);
  const before = BEFORE.throughput;
  const allowed = before.ratioToPQueue * (1 + NOISE);
  return {
    id: 'throughput',
    title: `${tasks.toLocaleString('en-US')} no-op tasks, 4 priority levels, concurrency ${CONCURRENCY}`,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'usPerTask', label: 'µs per task (median)', digits: 2 },
      { key: 'ratio', label: '× p-queue with priorities', digits: 2 },
    ],
    rows: peers.map((peer) => ({ peer: peer.name, usPerTask: us[peer.name], ratio: us[peer.name] / reference })),
    targets: [
      { name: 'taskchart (compiled) <= 20 µs per task', value: `${compiled.toFixed(2)} µs`, met: compiled <= 20 },
      {
        name: 'taskchart (compiled) faster than p-queue with priorities',
        value: `${compiled.toFixed(2)} µs vs ${reference.toFixed(2)} µs (${(compiled / reference).toFixed(2)}×)`,
        met: compiled < reference,
      },
      {
        name: `taskchart (xstate) no slower than before the runtime option: × p-queue with priorities <= ${allowed.toFixed(2)} (${before.ratioToPQueue.toFixed(2)} on ${BEFORE.date}, +${NOISE * 100}% for run-to-run noise)`,
        value: `${(xstate / reference).toFixed(2)}× (${xstate.toFixed(2)} µs vs ${reference.toFixed(2)} µs; per round ${xstateRatios.map((r) => r.toFixed(2)).join(', ')})`,
        met: xstate / reference <= allowed,
      },
    ],
    chart: { field: 'usPerTask', label: 'µs per task (lower is better)' },
    notes: [
      `Median of ${rounds} round${rounds === 1 ? '' : 's'} after a warm-up on a tenth of the size; in every round each peer runs once, the order rotating, with a full garbage collection before each. Each task is an async function that only counts itself (the count is checked after each run); priority is \`i % 4\` (p-queue without priorities ignores it). taskchart runs with \`retention: { maxFinished: 0 }\`, so finished tasks are forgotten as they finish, once per runtime: \`runtime: 'compiled'\` (the task machine compiled to a transition table, src/runtime/compiled-runtime.ts) and \`runtime: 'xstate'\` (a root XState actor per task), the same engine otherwise.`,
      'The floor (bench/peers/floor.mjs) is a Kahn scheduler over arrays with a concurrency counter and one FIFO per priority: it runs every function under the same limit and priority order, with no statechart, validation, events or status. The bare XState row (bench/peers/bare-xstate.mjs) only creates, starts and drives a tiny actor through three events to its final state, synchronously, with no scheduler and no task function: the floor of any one-actor-per-task design, which the compiled runtime is not.',
      "p-queue's priority queue is a sorted array: an item of higher priority than the tail is inserted with `splice`, O(n) in the queue's length. With `i % 4` three items in four take that path, so its cost per task grows with the batch (see the scale scenario).",
    ],
    samples,
  };
}
