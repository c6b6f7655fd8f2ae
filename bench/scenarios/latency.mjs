/**
 * Scenario 5: latency from a dependency's COMPLETED to its dependent's RUNNING, read from the
 * timestamps of the two status events (engine option `now` = a sub-millisecond clock).
 *
 * Each configuration has its own engine (concurrency = background load + 100): a background of tasks
 * kept RUNNING (external tasks that nobody completes, or fn tasks awaiting a promise held here), then
 * many pairs dep -> dependent (the dependent's only dependency). The dep is an external task completed
 * with `completeTask`, or a fn task whose promise is resolved here. The configurations are measured
 * interleaved, one sample each in turn, so that machine noise hits them alike; every configuration runs
 * under each runtime, 'compiled' and 'xstate'.
 */
import { RUNTIMES, engineOf, peerName } from '../runtimes.mjs';
import { median, percentile } from '../stats.mjs';

const now = () => performance.timeOrigin + performance.now();
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function setup({ runtime, load, loadKind, depKind }) {
  const engine = engineOf(runtime, { concurrency: load + 100, now });
  const held = [];
  const background = [];
  for (let i = 0; i < load; i++) {
    const spec = loadKind === 'fn' ? { name: 'load', fn: () => new Promise((resolve) => held.push(resolve)) } : { name: 'load' };
    const id = engine.registerTask(spec);
    engine.startTask(id);
    background.push(id);
  }
  await turn();
  const running = engine.getStats().counts.RUNNING;
  if (running !== load) throw new Error(`expected ${load} background tasks RUNNING, found ${running}`);

  const completedAt = new Map();
  const runningAt = new Map();
  const subscription = engine.events.subscribe((event) => {
    if (event.type !== 'status') return;
    if (event.status === 'COMPLETED') completedAt.set(event.taskId, event.timestamp);
    else if (event.status === 'RUNNING') runningAt.set(event.taskId, event.timestamp);
  });

  /** One pair: returns the latency in ms from dep's COMPLETED to dependent's RUNNING. */
  async function sample(i) {
    let resolveDep;
    const dep = engine.registerTask(
      depKind === 'fn' ? { name: 'dep', fn: () => new Promise((resolve) => (resolveDep = resolve)) } : { name: 'dep' },
    );
    const dependent = engine.registerTask({ name: 'dependent', dependencies: [dep] });
    engine.startTask(dep);
    engine.startTask(dependent);
    await turn(); // dep RUNNING (its fn called), dependent WAITING
    if (depKind === 'fn') {
      resolveDep(i);
      await turn(); // the fn's promise settles: dep COMPLETED
    } else {
      engine.completeTask(dep, i);
    }
    const from = completedAt.get(dep);
    const to = runningAt.get(dependent);
    if (from === undefined || to === undefined)
      throw new Error(`pair ${dep} -> ${dependent}: missing COMPLETED or RUNNING event (status ${engine.getTaskStatus(dependent)})`);
    engine.completeTask(dependent);
    await Promise.all([engine.cleanupTask(dep), engine.cleanupTask(dependent)]);
    completedAt.delete(dep);
    completedAt.delete(dependent);
    runningAt.delete(dep);
    runningAt.delete(dependent);
    return to - from;
  }

  async function close() {
    subscription.unsubscribe();
    for (const resolve of held) resolve();
    await engine.shutdown();
  }
  return { sample, close, running };
}

export async function run({ quick }) {
  const load = quick ? 100 : 1000;
  const samples = quick ? 300 : 2000;
  const warmup = 200;
  const loadText = load.toLocaleString('en-US');
  const configs = RUNTIMES.flatMap((runtime) => [
    { runtime, what: `${loadText} running (external), dep completeTask`, load, loadKind: 'external', depKind: 'external' },
    { runtime, what: `${loadText} running (fn), dep fn resolved`, load, loadKind: 'fn', depKind: 'fn' },
    { runtime, what: '0 running, dep completeTask', load: 0, loadKind: 'external', depKind: 'external' },
    { runtime, what: '0 running, dep fn resolved', load: 0, loadKind: 'fn', depKind: 'fn' },
  ]).map((config) => ({ ...config, peer: `${peerName(config.runtime)}, ${config.what}` }));
  const engines = [];
  for (const config of configs) engines.push(await setup(config));
  const latencies = configs.map(() => []);
  for (let i = 0; i < warmup + samples; i++) {
    for (let c = 0; c < configs.length; c++) {
      const ms = await engines[c].sample(i);
      if (i >= warmup) latencies[c].push(ms);
    }
  }
  const running = engines.map((e) => e.running);
  for (const engine of engines) await engine.close();

  const us = (ms) => ms * 1000;
  const rows = configs.map((config, c) => ({
    peer: config.peer,
    running: running[c],
    p50: us(median(latencies[c])),
    p99: us(percentile(latencies[c], 99)),
    max: us(Math.max(...latencies[c])),
  }));
  const targets = RUNTIMES.map((runtime) => {
    const loaded = rows.filter((row, c) => configs[c].runtime === runtime && row.running === load && load > 0);
    const worstP99 = Math.max(...loaded.map((row) => row.p99));
    return {
      name: `${peerName(runtime)}: p99 <= 1 ms with ${loadText} tasks running`,
      value: loaded.map((row) => `${(row.p99 / 1000).toFixed(3)} ms (${row.peer.slice(peerName(runtime).length + 2)})`).join('; '),
      met: worstP99 <= 1000,
    };
  });
  return {
    id: 'latency',
    title: `Dependency COMPLETED -> dependent RUNNING (${samples.toLocaleString('en-US')} pairs each)`,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'running', label: 'tasks running', digits: 0 },
      { key: 'p50', label: 'p50 µs', digits: 1 },
      { key: 'p99', label: 'p99 µs', digits: 1 },
      { key: 'max', label: 'max µs', digits: 1 },
    ],
    rows,
    targets,
    chart: { field: 'p99', label: 'p99 latency, µs (lower is better)' },
    notes: [
      `Latency is the difference between the \`timestamp\`s of the dependency's COMPLETED status event and its dependent's RUNNING status event, with the engine option \`now: () => performance.timeOrigin + performance.now()\` (a double of about 1.7e12 ms, so timestamps step by about 0.24 µs). Each engine has concurrency = background + 100; the background tasks stay RUNNING throughout (external tasks nobody completes, or fn tasks awaiting a promise held by the benchmark). Each pair is registered and started, the event loop turns once (dep RUNNING, dependent WAITING), then the dep is completed; the pair is then completed and cleaned up. ${warmup} warm-up pairs per configuration are not counted; the eight configurations (four under each runtime) are measured in turn, pair by pair.`,
    ],
    samples: Object.fromEntries(configs.map((config, c) => [config.peer, latencies[c].map((ms) => Math.round(ms * 1e6) / 1e3)])),
  };
}
