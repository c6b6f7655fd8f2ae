// Where the time of one taskchart task goes, under a runtime: runs a workload under the V8 CPU profiler (in this
// process, after a warm-up and an unprofiled timing of the same workload) and sums the self time of every sample
// by who owns the code (taskchart's files by concern, XState, rxjs, the garbage collector, Node), by file and by
// function, in µs per task; then runs it once more under V8's sampling heap profiler (objects the collector freed
// included) to say whose allocations the garbage collector's time is spent on, in bytes per task.
//   node bench/profile.mjs [--runtime=compiled|xstate] [--workload=throughput|dag|pool] [--tasks=100000] [--rounds=3]
//                          [--interval=100] [--top=30] [--out=file.cpuprofile]
//   npm run bench:profile -- --runtime=xstate
// V8 inlines small functions into their callers, whose self time then includes them; the inclusive column (time
// with the function anywhere on the stack) and a run with `node --no-turbo-inlining bench/profile.mjs` (slower, but
// every function is its own frame) split them.
// Workloads: `throughput` is the throughput scenario's (no-op async tasks, priority i % 4, concurrency 64,
// retention { maxFinished: 0 }, registerTask + startTask per task, then onIdle); `dag` is the DAG scenario's
// (the seeded 1-3-dependency DAG, one registerTasks batch, startTask per id, onIdle); `pool` is the pool scenario's
// (CPU tasks of about 5 ms on 2 worker threads, registerTask + startTask per task; give it --tasks=1000 or so): the
// main thread's share, most of the wall time being idle while the workers spin; `pool-raw` is the same tasks on raw
// workerpool (the pool scenario's peer, no taskchart: --runtime does not apply), to compare the main thread's share;
// `durable` is the durable scenario's (no-op tasks of a named handler, priority i % 4, concurrency 64, on a fresh
// SqliteStore file per run, kept after they finish).
import { Session } from 'node:inspector/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import workerpool from 'workerpool';
import { spin } from './fixtures/cpu.mjs';
import { buildDag } from './scenarios/dag.mjs';
import { collect, CONCURRENCY } from './scenarios/throughput.mjs';
import { engineOf } from './runtimes.mjs';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'compiled' },
    workload: { type: 'string', default: 'throughput' },
    tasks: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    interval: { type: 'string', default: '100' },
    top: { type: 'string', default: '30' },
    out: { type: 'string' },
  },
  // `node bench/profile.mjs 100000` (the tasks as the first argument) as before.
  allowPositionals: true,
});
const { runtime, workload } = values;
if (runtime !== 'compiled' && runtime !== 'xstate') throw new Error(`Expected --runtime to be compiled or xstate, got \`${runtime}\``);
if (!['throughput', 'dag', 'pool', 'pool-raw', 'durable'].includes(workload)) {
  throw new Error(`Expected --workload to be throughput, dag, pool, pool-raw or durable, got \`${workload}\``);
}
const tasks = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? values.tasks);
const rounds = Number(values.rounds);

/** One run of the workload on a fresh engine; returns the ms from the first registration to onIdle. */
const runOnce = { throughput: throughputRun, dag: dagRun, pool: poolRun, 'pool-raw': rawPoolRun, durable: durableRun }[workload];
const dag = workload === 'dag' ? buildDag(tasks) : undefined;
/** Pool workload: iterations of `spin` that take about 5 ms here, and one engine (and so one pool of 2 workers) for every run. */
const iterations = workload.startsWith('pool') ? calibrate(5) : 0;
const poolEngine =
  workload === 'pool'
    ? engineOf(runtime, { concurrency: 64, pool: { maxWorkers: 2, minWorkers: 2 }, retention: { maxFinished: 0 } })
    : undefined;
const rawPool =
  workload === 'pool-raw'
    ? workerpool.pool(fileURLToPath(new URL('./fixtures/raw-worker.mjs', import.meta.url)), {
        workerType: 'thread',
        maxWorkers: 2,
        minWorkers: 2,
      })
    : undefined;

function calibrate(ms) {
  let n = 100_000;
  for (let round = 0; round < 6; round++) {
    const start = performance.now();
    spin(n);
    n = Math.max(1000, Math.round((n * ms) / (performance.now() - start)));
  }
  return n;
}

const storeDirectory = workload === 'durable' ? mkdtempSync(join(tmpdir(), 'taskchart-profile-')) : undefined;
if (storeDirectory) process.once('exit', () => rmSync(storeDirectory, { recursive: true, force: true }));
const { SqliteStore } = workload === 'durable' ? await import('../dist/sqlite/index.js') : {};
let storeFiles = 0;

async function durableRun(n) {
  const engine = engineOf(runtime, {
    concurrency: CONCURRENCY,
    store: new SqliteStore({ path: join(storeDirectory, `run-${storeFiles++}.db`) }),
  });
  let done = 0;
  engine.defineTask('noop', async () => {
    done++;
  });
  const start = performance.now();
  for (let i = 0; i < n; i++) engine.startTask(engine.registerTask({ name: 'noop', handler: 'noop', priority: i % 4 }));
  await engine.onIdle();
  const ms = performance.now() - start;
  if (done !== n) throw new Error(`ran ${done} of ${n}`);
  await engine.shutdown();
  return ms;
}

async function rawPoolRun(n) {
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, () => rawPool.exec('spin', [iterations])));
  return performance.now() - start;
}

async function poolRun(n) {
  // A URL object, as the pool scenario passes it.
  const module = new URL('./fixtures/cpu.mjs', import.meta.url);
  const start = performance.now();
  for (let i = 0; i < n; i++)
    poolEngine.startTask(poolEngine.registerTask({ name: 'spin', module, export: 'spinTask', args: [iterations] }));
  await poolEngine.onIdle();
  const ms = performance.now() - start;
  if (poolEngine.getStats().counts.RUNNING !== 0) throw new Error('tasks left running');
  return ms;
}

async function throughputRun(n) {
  const engine = engineOf(runtime, { concurrency: CONCURRENCY, retention: { maxFinished: 0 } });
  let done = 0;
  const fn = async () => {
    done++;
  };
  const start = performance.now();
  for (let i = 0; i < n; i++) engine.startTask(engine.registerTask({ name: 'noop', fn, priority: i % 4 }));
  await engine.onIdle();
  const ms = performance.now() - start;
  if (done !== n) throw new Error(`ran ${done} of ${n}`);
  await engine.shutdown();
  return ms;
}

async function dagRun(n, graph = dag) {
  const engine = engineOf(runtime, { concurrency: CONCURRENCY, retention: { maxFinished: 0 } });
  let done = 0;
  const fn = async () => {
    done++;
  };
  const specs = graph.order.map((i) => ({ id: `t${i}`, name: 'node', fn, dependencies: graph.dependencies[i].map((j) => `t${j}`) }));
  const start = performance.now();
  const ids = engine.registerTasks(specs);
  for (const id of ids) engine.startTask(id);
  await engine.onIdle();
  const ms = performance.now() - start;
  if (done !== n) throw new Error(`ran ${done} of ${n}`);
  await engine.shutdown();
  return ms;
}

// Warm-up (JIT), then the same workload unprofiled, then profiled.
const warm = workload === 'dag' ? buildDag(Math.max(500, tasks / 10), 7) : undefined;
for (let i = 0; i < 2; i++) await runOnce(Math.max(workload.startsWith('pool') ? 50 : 500, tasks / 10), warm);
const plain = [];
for (let i = 0; i < rounds; i++) {
  collect();
  plain.push(((await runOnce(tasks)) * 1000) / tasks);
}

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: Number(values.interval) });
collect();
await session.post('Profiler.start');
const profiledMs = [];
for (let i = 0; i < rounds; i++) profiledMs.push(await runOnce(tasks));
const { profile } = await session.post('Profiler.stop');
if (values.out) writeFileSync(values.out, JSON.stringify(profile));
// Allocations of one more run, every sampled object counted whether or not the collector freed it since.
await session.post('HeapProfiler.enable');
collect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 512,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
await runOnce(tasks);
const { profile: heap } = await session.post('HeapProfiler.stopSampling');
session.disconnect();
await poolEngine?.shutdown();
await rawPool?.terminate();

const distUrl = new URL('../dist/', import.meta.url).href;
/** The file a frame belongs to: dist/<path> for taskchart, the package for node_modules, else Node or V8. */
function fileOf({ url, functionName }) {
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(idle)' || functionName === '(root)') return '(idle)';
  if (functionName === '(program)') return '(program)';
  if (url.startsWith(distUrl)) return `dist/${url.slice(distUrl.length)}`;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url;
  if (url === '') return '(native / V8 builtins)';
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/');
}

/** taskchart's files by concern, as docs/benchmarks.md's analysis groups them. */
const CONCERNS = [
  [/^dist\/runtime\//, 'statechart runtime (src/runtime)'],
  [/^dist\/machines\//, 'task machine actions and guards (src/machines)'],
  [
    /^dist\/(task-spec|validate|registration|verb-options)\.js$/,
    'spec validation (task-spec.ts, validate.ts, registration.ts, verb-options.ts)',
  ],
  [/^dist\/actors\/task-record\.js$/, 'TaskRecord (actors/task-record.ts)'],
  [
    /^dist\/actors\/(supervisor|effect-queue|capacity|stalled)\.js$/,
    'supervisor (actors/supervisor.ts, effect-queue.ts, capacity.ts, stalled.ts)',
  ],
  [
    /^dist\/actors\/dependency-tracker\.js$|^dist\/scheduling\/dependency-graph\.js$/,
    'dependencies (actors/dependency-tracker.ts, scheduling/dependency-graph.ts)',
  ],
  [
    /^dist\/actors\/(attempt-runner|attempt-context|executor-slots|disposals)\.js$|^dist\/executors\//,
    'attempt runner and executor (actors/attempt-*.ts, executors/)',
  ],
  [/^dist\/wire\//, 'wire helpers (wire/: error serialisation, cloneability, task-context checks)'],
  [/^dist\/pool\//, 'pool executor (pool/)'],
  [
    /^dist\/(store|sqlite)\/|^dist\/actors\/(task-rows|commits|commit-gate)\.js$/,
    'durable store (store/, sqlite/, actors/task-rows.ts, commits.ts)',
  ],
  [/^dist\/scheduling\/(ready-queue|heap|fifo)\.js$/, 'ready queue (scheduling/ready-queue.ts, heap.ts, fifo.ts)'],
  [/^dist\/scheduling\//, 'resources (scheduling/resources.ts)'],
  [/^dist\/monitor\/stats\.js$/, 'stats (monitor/stats.ts)'],
  [/^dist\/monitor\/|^dist\/actors\/record-events\.js$/, 'events (monitor/task-events.ts, event-stream.ts, actors/record-events.ts)'],
  [/^dist\/engine\.js$/, 'engine facade (engine.ts)'],
  [/^dist\/actors\/retention\.js$/, 'retention (actors/retention.ts)'],
  [/^dist\//, 'taskchart, other files'],
  [/^rxjs$/, 'rxjs (events)'],
  [/^xstate$/, 'XState'],
  [/^\(garbage collector\)$/, 'garbage collector'],
  [/^\(program\)$/, '(program): V8 and Node native work (microtask queue, promise jobs, ...)'],
  [/^\(native \/ V8 builtins\)$/, 'V8 builtins called from JS (postMessage, SQLite statements, ...)'],
  [/^bench\//, 'the benchmark itself (the task function, the loop)'],
  [/^node:/, 'Node (node: modules)'],
  [/./, 'other packages'],
];
const concernOf = (file) => CONCERNS.find(([pattern]) => pattern.test(file))[1];

const keyOf = (frame, file) =>
  frame.functionName.startsWith('(') ? frame.functionName : `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);
const sum = (map, key, value) => map.set(key, (map.get(key) ?? 0) + value);
const concerns = new Map();
const files = new Map();
const functions = new Map();
const inclusive = new Map();
let idle = 0;
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  const node = byId.get(id);
  const file = fileOf(node.callFrame);
  if (file === '(idle)') {
    idle += us;
    return;
  }
  sum(concerns, concernOf(file), us);
  sum(files, file, us);
  sum(functions, keyOf(node.callFrame, file), us);
  const seen = new Set();
  for (let at = node; at !== undefined; at = parentOf.get(at.id)) {
    const key = keyOf(at.callFrame, fileOf(at.callFrame));
    if (!seen.has(key)) sum(inclusive, key, us);
    seen.add(key);
  }
});

// Allocations: a builtin's (Object.assign, new Map, an iterator) are charged to the JavaScript function that called it.
const allocConcerns = new Map();
const allocFiles = new Map();
const allocFunctions = new Map();
let allocated = 0;
(function walk(node, caller) {
  const file = fileOf(node.callFrame);
  const own = node.callFrame.url !== '' || caller === undefined ? { file, key: keyOf(node.callFrame, file) } : caller;
  if (node.selfSize > 0) {
    allocated += node.selfSize;
    sum(allocConcerns, concernOf(own.file), node.selfSize);
    sum(allocFiles, own.file, node.selfSize);
    sum(allocFunctions, own.key, node.selfSize);
  }
  for (const child of node.children) walk(child, own);
})(heap.head, undefined);

const busy = [...files.values()].reduce((a, b) => a + b, 0);
const profiledTasks = tasks * rounds;
const median = (list) => [...list].sort((a, b) => a - b)[list.length >> 1];
const plainUs = median(plain);
const profiledUs = (profiledMs.reduce((a, b) => a + b, 0) * 1000) / profiledTasks;
const top = Number(values.top);

console.log(`${workload}${workload === 'pool-raw' ? '' : `, runtime '${runtime}'`}, ${tasks.toLocaleString('en-US')} tasks per run`);
console.log(`  unprofiled: ${plain.map((v) => v.toFixed(1)).join(', ')} µs per task (median ${plainUs.toFixed(1)})`);
console.log(
  `  profiled (${rounds} runs, sampling every ${values.interval} µs): ${profiledUs.toFixed(1)} µs per task of wall time, ${(busy / profiledTasks).toFixed(1)} µs busy (${(idle / profiledTasks).toFixed(1)} µs idle)`,
);
console.log(
  `  µs below are self time per task under the profiler; × ${(plainUs / (busy / profiledTasks)).toFixed(2)} gives the unprofiled share`,
);
console.log(`  allocated: ${Math.round(allocated / tasks).toLocaleString('en-US')} bytes per task (sampled, one run)\n`);
const print = (title, map, limit = Infinity, extra) => {
  console.log(title);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(
      `  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / profiledTasks).toFixed(2).padStart(6)} µs${extra ? extra(key) : ''}  ${key}`,
    );
  }
  console.log('');
};
const bytes = (map) => (key) =>
  `  ${Math.round((map.get(key) ?? 0) / tasks)
    .toLocaleString('en-US')
    .padStart(6)} B`;
const incl = (key) => `  ${((inclusive.get(key) ?? 0) / profiledTasks).toFixed(2).padStart(6)} µs incl`;
print('By concern (self time; bytes allocated per task):', concerns, Infinity, bytes(allocConcerns));
print('By file:', files, top, bytes(allocFiles));
print(
  `Top ${top} functions by self time (then inclusive time, bytes allocated per task):`,
  functions,
  top,
  (key) => incl(key) + bytes(allocFunctions)(key),
);
console.log(`Top ${top} functions by bytes allocated per task:`);
for (const [key, size] of [...allocFunctions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(
    `  ${Math.round(size / tasks)
      .toLocaleString('en-US')
      .padStart(6)} B  ${((100 * size) / allocated).toFixed(1).padStart(5)}%  ${key}`,
  );
}
