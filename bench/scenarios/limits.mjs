/**
 * Scenario: per-key limits (issue 15).
 * 1. 100,000 no-op tasks over 10,000 domain keys (ten consecutive tasks per key, so that eight of each key's ten wait
 *    on its limit), `limits: { domain: { concurrency: 2 } }`, four priority levels, concurrency 64; against the same
 *    tasks without limits, interleaved in the same rounds, under each runtime. Target: ≤ 1.5× the unlimited run.
 * 2. One rate-limited key (`rate: { limit: 5, interval: 100 }`) and 60 tasks, on real timers: how late each start is
 *    against the earliest moment its sliding window allows it (the (j-5)th start + 100 ms). Target: every start
 *    within 5 ms of that moment.
 */
import { RUNTIMES, engineOf, peerName } from '../runtimes.mjs';
import { interleavedRounds, median, percentile } from '../stats.mjs';
import { CONCURRENCY, time } from './throughput.mjs';

const KEYS = 10_000;

/** taskchart under `runtime`, each task under key `site-<i / per key>` when `limited`. */
async function timeKeyed(tasks, runtime, limited) {
  const perKey = Math.max(1, Math.floor(tasks / KEYS));
  let engine = engineOf(runtime, {
    concurrency: CONCURRENCY,
    retention: { maxFinished: 0 },
    ...(limited && { limits: { domain: { concurrency: 2 } } }),
  });
  let done = 0;
  const fn = async () => {
    done++;
  };
  const specs = Array.from({ length: tasks }, (_, i) => ({
    name: 'fetch',
    fn,
    priority: i % 4,
    ...(limited && { limits: { domain: `site-${Math.floor(i / perKey)}` } }),
  }));
  const ms = await time(async () => {
    for (const spec of specs) engine.startTask(engine.registerTask(spec));
    await engine.onIdle();
  });
  const stats = engine.getStats();
  if (done !== tasks || stats.queued !== 0 || stats.limited !== 0)
    throw new Error(`ran ${done} of ${tasks}, left ${JSON.stringify(stats)}`);
  await engine.shutdown();
  engine = undefined;
  return ms;
}

/** Starts of `count` tasks under one key of `rate`, on real timers: each start's lateness against its window. */
async function rateLateness(count, rate) {
  // The engine's clock and the measurement's are the same sub-millisecond one (Date.now would round every window down).
  const now = () => performance.timeOrigin + performance.now();
  const engine = engineOf('compiled', { concurrency: 64, limits: { api: { rate } }, now });
  const starts = [];
  const ids = Array.from({ length: count }, (_, i) =>
    engine.registerTask({ name: `call ${i}`, limits: { api: 'key' }, fn: () => void starts.push(now()) }),
  );
  const begin = now();
  engine.startTasks(ids);
  await engine.onIdle();
  await engine.shutdown();
  // Start j may happen once start j - limit has left the window: at its time + interval (the first `limit` at once).
  const late = starts.map((at, j) => at - (j < rate.limit ? begin : (starts[j - rate.limit] ?? 0) + rate.interval));
  return { late, early: late.filter((ms) => ms < -0.5).length };
}

export async function run({ quick }) {
  const tasks = quick ? 2_000 : 100_000;
  const rounds = quick ? 1 : 4;
  const peers = RUNTIMES.flatMap((runtime) => [
    { name: `${peerName(runtime)}, 10,000 keys × concurrency 2`, time: (n) => timeKeyed(n, runtime, true) },
    { name: `${peerName(runtime)}, no limits`, time: (n) => timeKeyed(n, runtime, false) },
  ]);
  const samples = await interleavedRounds(peers, tasks, rounds);
  const us = Object.fromEntries(peers.map((peer) => [peer.name, median(samples[peer.name])]));
  const ratio = (runtime) => us[`${peerName(runtime)}, 10,000 keys × concurrency 2`] / us[`${peerName(runtime)}, no limits`];

  const rate = { limit: 5, interval: 100 };
  const { late, early } = await rateLateness(quick ? 15 : 60, rate);
  const worst = Math.max(...late);

  return {
    id: 'limits',
    title: `${tasks.toLocaleString('en-US')} no-op tasks over ${KEYS.toLocaleString('en-US')} domain keys, 2 at a time per key (concurrency ${CONCURRENCY})`,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'usPerTask', label: 'µs per task (median)', digits: 2 },
      { key: 'ratio', label: '× the same runtime without limits', digits: 2 },
    ],
    rows: peers.map((peer) => {
      const runtime = RUNTIMES.find((r) => peer.name.startsWith(peerName(r)));
      return { peer: peer.name, usPerTask: us[peer.name], ratio: us[peer.name] / us[`${peerName(runtime)}, no limits`] };
    }),
    targets: [
      ...RUNTIMES.map((runtime) => ({
        name: `${peerName(runtime)}: per-task cost with per-key limits <= 1.5 × without`,
        value: `${ratio(runtime).toFixed(2)}×`,
        met: ratio(runtime) <= 1.5,
      })),
      {
        name: `a rate-limited key (${rate.limit} per ${rate.interval} ms, ${late.length} tasks, real timers): every start within 5 ms of the earliest moment its window allows, none before`,
        value: `latest ${worst.toFixed(2)} ms after, p50 ${percentile(late, 50).toFixed(2)} ms, p99 ${percentile(late, 99).toFixed(2)} ms; ${early} early`,
        met: worst <= 5 && early === 0,
      },
    ],
    chart: { field: 'usPerTask', label: 'µs per task (lower is better)' },
    notes: [
      `Median of ${rounds} round${rounds === 1 ? '' : 's'}, interleaved as in the throughput scenario. Ten consecutive tasks share a key (\`site-<i / 10>\`), so with 64 slots about 32 keys run two tasks each while eight of each key's ten are held: the pump takes a held task out of the ready queue and parks it on its key (O(log n)), and the key gives one back each time one of its running tasks ends. No operation scans keys or lanes; keys are forgotten as they empty.`,
      "The rate part runs on real timers (setTimeout), the engine keeping one timer for the earliest key that waits for a time; its lateness is the timer's own delay plus one dispatch.",
    ],
    samples,
  };
}
