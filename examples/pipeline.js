// The taskchart demo: a weather pipeline over a dozen cities, as a graph module for the `taskchart` command:
//
//   npm run demo                    (node dist/cli/main.js run examples/pipeline.js --store <dir>/tasks.db)
//   npm run demo -- --dashboard     (also serves the live dashboard and prints its URL; add --keep-open to keep it)
//
//   fetch:<city>  ->  parse:<city>  ->  extract:<city> (worker thread)  ->  report:<region>
//
// - fetches share a `network` resource pool of 3 units, so at most 3 run at once, and each region's weather
//   site allows 2 connections at a time (a per-key limit: `limits: { site: ... }`);
// - fetch:bergen fails once (a simulated 503) and succeeds on its retry;
// - fetch:seville hangs and times out twice, so its branch fails; the south report still runs
//   (`trigger: 'all_done'`) and reports the cities it has, reading how each ended from `ctx.dependencies`;
// - extract runs on the worker-thread pool (CPU-bound); capitals run at HIGH priority;
// - an archive branch (LOW priority) is cancelled halfway through a fresh run, and its upload with it.
//
// Every task is durable: it names a handler (exported below as `handlers`) or a worker module, and
// its args are plain data, so that with `--store` a run stopped by Ctrl-C resumes in the next process.
// Nothing goes to the network: "fetching" writes generated readings to the work directory after a
// delay. Steps pass files, not data, through that directory, which outlives a run for the same
// reason: TASKCHART_DEMO_DIR, or taskchart-demo in the temporary directory (scripts/demo.mjs
// deletes it when a run ends on its own).
import { mkdirSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskPriority } from 'taskchart';

/** The engine this graph wants; `--concurrency` on the command line overrides `concurrency`. */
export const options = { concurrency: 6, resources: { network: 3 }, pool: { maxWorkers: 2 }, limits: { site: { concurrency: 2 } } };

/** Where the tasks leave their files for the next step (and, with the demo's --store, the store). */
const workdir = process.env.TASKCHART_DEMO_DIR ?? join(tmpdir(), 'taskchart-demo');
mkdirSync(workdir, { recursive: true });

const regions = {
  north: ['oslo', 'bergen', 'stockholm', 'helsinki', 'copenhagen', 'tallinn'],
  south: ['madrid', 'seville', 'lisbon', 'rome', 'athens', 'valletta'],
};
const capitals = new Set(['oslo', 'stockholm', 'helsinki', 'copenhagen', 'tallinn', 'madrid', 'lisbon', 'rome', 'athens', 'valletta']);

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Simulated download of one city's CSV to disk: a delay, then generated readings. */
async function fetchCity(ctx, city) {
  if (city === 'bergen' && ctx.attempt === 1) {
    await sleep(150, ctx.signal);
    throw new Error('503 Service Unavailable');
  }
  await sleep(city === 'seville' ? 60_000 : 200 + (city.length % 4) * 80, ctx.signal);
  const lines = ['date,celsius'];
  const base = {
    oslo: 6,
    bergen: 8,
    stockholm: 7,
    helsinki: 5,
    copenhagen: 9,
    tallinn: 6,
    madrid: 15,
    seville: 19,
    lisbon: 17,
    rome: 16,
    athens: 18,
    valletta: 19,
  }[city];
  for (let day = 1; day <= 365; day++) {
    const celsius = base - 9 * Math.cos((day / 365) * 2 * Math.PI) + ((city.charCodeAt(1) * day) % 7) - 3;
    lines.push(
      `2026-${String(Math.ceil(day / 31)).padStart(2, '0')}-${String(((day - 1) % 31) + 1).padStart(2, '0')},${celsius.toFixed(1)}`,
    );
  }
  const path = join(workdir, `${city}.csv`);
  await writeFile(path, lines.join('\n'));
  return path;
}

async function parseCsv(ctx, city) {
  const [, ...rows] = (await readFile(join(workdir, `${city}.csv`), 'utf8')).split('\n');
  const readings = rows.map((row) => ({ date: row.split(',')[0], celsius: Number(row.split(',')[1]) }));
  const path = join(workdir, `${city}.json`);
  await writeFile(path, JSON.stringify(readings));
  ctx.progress(1, `${readings.length} rows`);
  return path;
}

/**
 * The region's summary, from the statistics each extract step that COMPLETED left in the work directory: it runs
 * once every extract ended (`trigger: 'all_done'`), and names the cities whose branch failed.
 */
async function report(ctx, region) {
  const done = ctx.dependencies.filter((d) => d.status === 'COMPLETED').map((d) => d.id.slice('extract:'.length));
  const missing = ctx.dependencies.filter((d) => d.status !== 'COMPLETED').map((d) => d.id.slice('extract:'.length));
  if (done.length === 0) throw new Error(`no city of ${region} has data`);
  const stats = await Promise.all(done.map(async (city) => JSON.parse(await readFile(join(workdir, `${city}.stats.json`), 'utf8'))));
  const warmest = stats.reduce((a, b) => (b.mean > a.mean ? b : a));
  const without = missing.length === 0 ? '' : ` (without ${missing.join(', ')})`;
  return `${region}: ${stats.length} cities${without}, warmest ${warmest.city} (mean ${warmest.mean} °C, 95% CI ${warmest.ci95.join('..')})`;
}

/** A slow snapshot holding a lock file for its lifetime: released exactly once when the task ends, however it ends. */
async function archiveSnapshot(ctx) {
  const lock = join(workdir, 'archive.lock');
  await writeFile(lock, String(process.pid));
  ctx.registerResource(() => {
    rmSync(lock, { force: true });
  });
  for (let i = 1; i <= 20; i++) {
    await sleep(250, ctx.signal);
    ctx.progress(i / 20, `archived ${i * 5}%`);
  }
}

/**
 * The named task functions: the `taskchart` command defines them (engine.defineTask) before it
 * restores the store or calls the graph function, so that a resumed run can run them too.
 */
export const handlers = { fetchCity, parseCsv, report, archiveSnapshot, archiveUpload: () => 'uploaded' };

/**
 * Registers and starts the pipeline on the engine the `taskchart` command gives it. With --store,
 * the command calls it only on a fresh run: a resumed run finds the graph in the store.
 */
export default function pipeline(engine) {
  const extractModule = new URL('./pipeline.worker.js', import.meta.url);
  const reportIds = [];
  for (const [region, cities] of Object.entries(regions)) {
    const extractIds = [];
    for (const city of cities) {
      const fetchId = engine.registerTask({
        id: `fetch:${city}`,
        name: `fetch:${city}`,
        handler: 'fetchCity',
        args: [city],
        resources: { network: 1 },
        limits: { site: `${region}.weather.example` },
        maxRetries: city === 'bergen' || city === 'seville' ? 1 : 0,
        retryDelay: 300,
        timeout: 1500,
      });
      const parseId = engine.registerTask({
        id: `parse:${city}`,
        name: `parse:${city}`,
        handler: 'parseCsv',
        args: [city],
        dependencies: [fetchId],
      });
      const extractId = engine.registerTask({
        id: `extract:${city}`,
        name: `extract:${city}`,
        module: extractModule,
        export: 'extract',
        args: [city, join(workdir, `${city}.json`)],
        dependencies: [parseId],
        priority: capitals.has(city) ? TaskPriority.HIGH : TaskPriority.NORMAL,
        timeout: 10_000,
      });
      extractIds.push(extractId);
    }
    reportIds.push(
      engine.registerTask({
        id: `report:${region}`,
        name: `report:${region}`,
        handler: 'report',
        args: [region],
        dependencies: extractIds,
        trigger: 'all_done',
        priority: TaskPriority.CRITICAL,
      }),
    );
  }

  const snapshotId = engine.registerTask({
    id: 'archive:snapshot',
    name: 'archive:snapshot',
    handler: 'archiveSnapshot',
    priority: TaskPriority.LOW,
  });
  engine.registerTask({
    id: 'archive:upload',
    name: 'archive:upload',
    handler: 'archiveUpload',
    dependencies: [snapshotId],
    priority: TaskPriority.LOW,
  });

  for (const id of ['archive:snapshot', 'archive:upload']) engine.startTask(id);
  for (const cities of Object.values(regions)) {
    for (const city of cities) for (const step of ['fetch', 'parse', 'extract']) engine.startTask(`${step}:${city}`);
  }
  for (const id of reportIds) engine.startTask(id);

  // The archive window closes halfway through a fresh run: cancelling cancels the upload that depends on it.
  // A run resumed from the store does not call this function, so there the archive runs to the end.
  const timer = setTimeout(() => {
    try {
      engine.cancelTask(snapshotId, 'archive window closed');
    } catch (error) {
      // The run stopped first (Ctrl-C: the engine is shut down), or the snapshot ended (an invalid transition).
      if (error.code !== 'ERR_ENGINE_SHUT_DOWN' && error.code !== 'ERR_INVALID_TRANSITION') throw error;
    }
  }, 1200);
  timer.unref();
}
