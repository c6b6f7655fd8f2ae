/**
 * Scenario: the results cache's hit path (issue 16). 20,000 tasks of a named handler whose arguments (a URL and an
 * options object, as a fetch or an LLM call has) were all seen before, so every one completes from the cache without
 * an attempt; against the same tasks uncached, running a no-op handler (the cheapest completion an attempt can give:
 * what a hit replaces is a real fetch or LLM call, so this is the floor the hit is compared with). Both in memory and
 * on a durable engine (SqliteStore: the hit reads the store's cache table), under each runtime, interleaved. The key's
 * own cost (the canonical encoding and its SHA-256) is measured alone as well.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCacheKey } from '../../dist/cache/cache-key.js';
import { SqliteStore } from '../../dist/sqlite/index.js';
import { RUNTIMES, engineOf, peerName } from '../runtimes.mjs';
import { interleavedRounds, median } from '../stats.mjs';
import { CONCURRENCY, time } from './throughput.mjs';

const dir = mkdtempSync(join(tmpdir(), 'taskchart-bench-cache-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** The arguments of task i: one of `distinct` URLs, with options. */
const argsOf = (i, distinct) => [
  `https://example.com/articles/${i % distinct}?lang=en`,
  { depth: 2, retries: 3, headers: { accept: 'text/html' } },
];

/**
 * `tasks` tasks under `runtime` (registerTask + startTask per task, then onIdle; timed), in memory or `durable`.
 * `cached`: every task has `cache: true` and the cache was filled (not timed) with their results first, so each is a hit.
 */
async function timeTasks(tasks, runtime, { cached, durable }) {
  const distinct = Math.min(tasks, 1_000);
  const store = durable ? new SqliteStore({ path: join(dir, `cache-${files++}.db`) }) : undefined;
  let engine = engineOf(runtime, {
    concurrency: CONCURRENCY,
    cacheSize: distinct,
    ...(store ? { store } : { retention: { maxFinished: 0 } }),
  });
  let ran = 0;
  engine.defineTask('fetch', async (_ctx, url) => {
    ran++;
    return { url, status: 200, bytes: 5120 };
  });
  const spec = (i) => ({ name: 'fetch', handler: 'fetch', args: argsOf(i, distinct), priority: i % 4, ...(cached && { cache: true }) });
  if (cached) {
    engine.startTasks(engine.registerTasks(Array.from({ length: distinct }, (_, i) => spec(i))));
    await engine.onIdle();
  }
  const before = ran;
  const ms = await time(async () => {
    for (let i = 0; i < tasks; i++) engine.startTask(engine.registerTask(spec(i)));
    await engine.onIdle();
  });
  const stats = engine.getStats();
  const expectedRuns = cached ? 0 : tasks;
  if (ran - before !== expectedRuns || (cached && stats.cacheHits !== tasks))
    throw new Error(`${peerName(runtime)}: ran ${ran - before} (expected ${expectedRuns}), ${stats.cacheHits} cache hits of ${tasks}`);
  await engine.shutdown();
  engine = undefined;
  return ms;
}

/** µs per default cache key of task i's arguments (no engine). */
function keyMicros(count) {
  const start = performance.now();
  let last = '';
  for (let i = 0; i < count; i++) last = defaultCacheKey({ what: 'handler:fetch', args: argsOf(i, 1_000), dependencies: [] });
  if (!last.startsWith('v1:')) throw new Error('unexpected key');
  return ((performance.now() - start) * 1000) / count;
}

export async function run({ quick }) {
  const tasks = quick ? 1_000 : 20_000;
  const rounds = quick ? 1 : 4;
  const kinds = [
    { label: 'in memory', durable: false },
    { label: 'durable', durable: true },
  ];
  const peers = RUNTIMES.flatMap((runtime) =>
    kinds.flatMap(({ label, durable }) => [
      { name: `${peerName(runtime)}, ${label}, cache hits`, time: (n) => timeTasks(n, runtime, { cached: true, durable }) },
      { name: `${peerName(runtime)}, ${label}, no-op attempts`, time: (n) => timeTasks(n, runtime, { cached: false, durable }) },
    ]),
  );
  const samples = await interleavedRounds(peers, tasks, rounds);
  const us = Object.fromEntries(peers.map((peer) => [peer.name, median(samples[peer.name])]));
  const key = median([keyMicros(tasks), keyMicros(tasks), keyMicros(tasks)]);
  const floorOf = (name) => name.replace('cache hits', 'no-op attempts');
  return {
    id: 'cache',
    title: `${tasks.toLocaleString('en-US')} tasks whose result is in the results cache, against the same tasks running a no-op (concurrency ${CONCURRENCY})`,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'usPerTask', label: 'µs per task (median)', digits: 2 },
      { key: 'ratio', label: '× a no-op attempt, same runtime and store', digits: 2 },
    ],
    rows: peers.map((peer) => ({ peer: peer.name, usPerTask: us[peer.name], ratio: us[peer.name] / us[floorOf(peer.name)] })),
    targets: [
      ...RUNTIMES.flatMap((runtime) =>
        kinds.map(({ label }) => {
          const hit = us[`${peerName(runtime)}, ${label}, cache hits`];
          const floor = us[`${peerName(runtime)}, ${label}, no-op attempts`];
          return {
            name: `${peerName(runtime)}, ${label}: µs per cache hit (reported; a hit replaces a real call, here against a no-op attempt)`,
            value: `${hit.toFixed(2)} µs (${(hit / floor).toFixed(2)}× a no-op attempt)`,
            met: true,
          };
        }),
      ),
      {
        name: 'the default cache key alone (a URL and an options object: canonical encoding and SHA-256)',
        value: `${key.toFixed(2)} µs`,
        met: true,
      },
    ],
    chart: { field: 'usPerTask', label: 'µs per task (lower is better)' },
    notes: [
      `Median of ${rounds} round${rounds === 1 ? '' : 's'}, all eight peers interleaved in every round. 1,000 distinct argument lists (a URL and an options object), every one cached before the timed part; \`cacheSize\` 1,000. A hit costs the key (computed once per task, when it is ready), a lookup (the LRU, or one indexed SELECT on the store's cache table), decoding a durable result (v8.deserialize) and the CACHE_HIT transition; it skips the slot, the executor and the attempt.`,
    ],
    samples,
  };
}
