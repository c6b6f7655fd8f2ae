/**
 * Scenario 8: remote no-op tasks through BullMQ on the Redis at 127.0.0.1:6379, 2 worker processes per peer.
 * Peers, interleaved in every round, each with the same bound of jobs in flight (added, not yet seen completed):
 * - taskchart, under each runtime ('compiled', 'xstate'): a TaskEngine with a BullMQExecutor, `taskchart worker` processes
 *   running bench/fixtures/remote-handlers.mjs (the same two for both runtimes: the runtime is the supervising engine's);
 *   the tasks registered (registerTasks) before the clock, timed from the first startTask to onIdle (every task COMPLETED);
 * - raw BullMQ, one `queue.add` per job (the like-for-like peer, the one the target is judged against): plain bullmq
 *   Worker processes with a no-op processor (bench/fixtures/raw-bullmq-worker.mjs), completions seen through a
 *   QueueEvents, timed from the first add until every job's `completed` was seen;
 * - raw BullMQ with `addBulk`, the same but each batch of completions topped up with one addBulk (context only).
 * Besides the time, each round records the CPU time spent per task by this process, the worker processes and Redis.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BullMQExecutor } from '../../dist/bullmq/index.js';
import { WORKER_DEFAULTS } from '../../dist/bullmq/protocol.js';
import { startQueueEvents } from '../../dist/bullmq/queue-events.js';
import { RUNTIMES, engineOf, peerName } from '../runtimes.mjs';
import { interleavedRounds, median } from '../stats.mjs';
import { collect } from './throughput.mjs';

const REDIS_URL = 'redis://127.0.0.1:6379';
const WORKERS = 2;
/** Jobs each worker process runs at once (`--concurrency` of `taskchart worker`, the raw Worker's `concurrency`). */
const WORKER_CONCURRENCY = 16;
/**
 * Jobs in flight at once, for every peer: taskchart's engine `concurrency` (a remote attempt holds its slot from its
 * add until its outcome arrives), the raw peers' own count. 8 × the workers' slots: in a sweep here (64, 128, 256,
 * 512, 1,024) both peers got faster up to 256 and no faster beyond, so the bound is not what limits the rate. It stays
 * far below what would let the QueueEvents reader fall behind BullMQ's trimming of the event stream (about 10,000
 * entries, 4 per job).
 */
const IN_FLIGHT = 8 * WORKERS * WORKER_CONCURRENCY;
/** The executor's job options (one job per attempt, BullMQ `attempts: 1`, finished jobs kept for its default keepFinished of 1 h), mirrored by the raw peers. */
const JOB_OPTIONS = { attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } };
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const HANDLERS = fileURLToPath(new URL('../fixtures/remote-handlers.mjs', import.meta.url));
const RAW_WORKER = fileURLToPath(new URL('../fixtures/raw-bullmq-worker.mjs', import.meta.url));
const TASK = { name: 'noop', executor: 'remote', handler: 'noop' };
const PEERS = {
  compiled: `${peerName('compiled')}: BullMQExecutor, taskchart worker`,
  xstate: `${peerName('xstate')}: BullMQExecutor, taskchart worker`,
  raw: 'raw BullMQ, one add per job',
  bulk: 'raw BullMQ, addBulk per batch of completions',
};

/** Why Redis does not answer a PING within a second, or undefined when it does (as test/bullmq/harness.ts probes it). */
async function probeRedis() {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let failure;
  client.on('error', (error) => (failure ??= error));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return String(failure ?? error);
  } finally {
    client.disconnect();
  }
}

/** Every child process the scenario started; killed when this process exits, whatever happened. */
const children = new Set();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Spawns `node ...args` and resolves once a line of its stdout matches `ready` (its start line); later output is read and dropped. */
function startProcess(args, ready) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const early = (code, signal) => fail(`exited (${code ?? signal}) before its start line`);
    const fail = (why) => {
      clearTimeout(timer);
      child.stdout.removeListener('data', onData);
      reject(new Error(`${args.slice(0, 2).join(' ')}: ${why}; stdout: ${output.trim()}`));
    };
    const timer = setTimeout(() => fail('no start line within 15 s'), 15_000);
    const onData = (chunk) => {
      output += chunk;
      if (!ready.test(output)) return;
      clearTimeout(timer);
      child.removeListener('exit', early);
      child.stdout.removeListener('data', onData);
      child.stdout.resume();
      resolve(child);
    };
    child.once('exit', early);
    child.stdout.setEncoding('utf8').on('data', onData);
  });
}

/** SIGTERM (the workers let running jobs finish), SIGKILL after 5 s. */
async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; USER_HZ 100); undefined elsewhere. */
function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds Redis has used so far (INFO cpu: used_cpu_user + used_cpu_sys). */
async function redisCpuSeconds(client) {
  const info = await client.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/**
 * Runs `fn` (awaited) after a full collection and returns its wall time in ms and the CPU time of this process,
 * of `workers` (their pids) and of Redis meanwhile, in µs per task.
 */
async function measure(fn, tasks, workers, info) {
  collect();
  const workerCpu = () => workers.reduce((sum, child) => sum + (processCpuSeconds(child.pid) ?? NaN), 0);
  const [redisBefore, workersBefore] = [await redisCpuSeconds(info), workerCpu()];
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const perTask = (seconds) => (seconds * 1e6) / tasks;
  return {
    ms,
    supervisorUs: (cpu.user + cpu.system) / tasks,
    workersUs: perTask(workerCpu() - workersBefore),
    redisUs: perTask((await redisCpuSeconds(info)) - redisBefore),
  };
}

/**
 * taskchart under `runtime`, `tasks` tasks on a fresh engine and executor: one task run first, untimed (the executor opens its
 * connections and QueueEvents on its first attempt), the tasks registered, then timed from the first startTask
 * until onIdle, and every task checked COMPLETED.
 */
async function timeTaskchart(world, tasks, runtime) {
  const engine = engineOf(runtime, {
    concurrency: IN_FLIGHT,
    executors: { remote: new BullMQExecutor({ connection: REDIS_URL, queue: world.queues.taskchart }) },
  });
  try {
    const first = engine.registerTask(TASK);
    engine.startTask(first);
    await engine.waitForTask(first);
    const ids = engine.registerTasks(Array.from({ length: tasks }, () => TASK));
    const sample = await measure(
      async () => {
        for (const id of ids) engine.startTask(id);
        await engine.onIdle();
      },
      tasks,
      world.workers.taskchart,
      world.info,
    );
    const { counts } = engine.getStats();
    if (counts.COMPLETED !== tasks + 1)
      throw new Error(`${peerName(runtime)} completed ${counts.COMPLETED} of ${tasks + 1} remote tasks, left ${JSON.stringify(counts)}`);
    return sample;
  } finally {
    await engine.shutdown();
  }
}

/**
 * Adds `tasks` jobs to `queue`, never more than IN_FLIGHT of them not yet seen completed by `events`, and resolves
 * when every one was. `bulk`: each batch of completions (those that arrive in one turn of the event loop) is
 * topped up with one addBulk; otherwise each completion adds one job with `queue.add`, as the executor does.
 */
function runJobs(queue, events, tasks, bulk) {
  const round = randomUUID().slice(0, 8);
  const prefix = `raw.${round}.`;
  // Data of the size a user's own job would carry: the handler to run and its arguments.
  const job = (i) => ({ name: 'noop', data: { handler: 'noop', args: [] }, opts: { jobId: `${prefix}${i}`, ...JOB_OPTIONS } });
  return new Promise((resolve, reject) => {
    let added = 0;
    let completed = 0;
    let freed = 0;
    const add = (count) => {
      const jobs = Array.from({ length: Math.min(count, tasks - added) }, () => job(added++));
      if (jobs.length === 0) return;
      if (bulk) queue.addBulk(jobs).catch(reject);
      else for (const { name, data, opts } of jobs) queue.add(name, data, opts).catch(reject);
    };
    const flush = () => {
      add(freed);
      freed = 0;
    };
    const onCompleted = ({ jobId }) => {
      if (!jobId.startsWith(prefix)) return;
      if (++completed === tasks) {
        events.off('completed', onCompleted);
        return resolve();
      }
      if (!bulk) return add(1);
      if (freed++ === 0) setImmediate(flush);
    };
    events.on('completed', onCompleted);
    add(IN_FLIGHT);
  });
}

/** Raw BullMQ, `tasks` jobs on a fresh Queue and QueueEvents: one job first, untimed (connections, scripts), then timed. */
async function timeRaw(world, tasks, bulk) {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const eventsClient = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const name = world.queues.raw;
  const queue = new Queue(name, { connection: client });
  try {
    const events = await startQueueEvents({ client, events: eventsClient, prefix: 'bull', queue: name, onError: () => {} });
    try {
      await runJobs(queue, events, 1, false);
      return await measure(() => runJobs(queue, events, tasks, bulk), tasks, world.workers.raw, world.info);
    } finally {
      await events.close();
    }
  } finally {
    await queue.close();
    client.disconnect();
    eventsClient.disconnect();
  }
}

/** A fresh queue per peer kind and its worker processes, started (each printed its start line) before any clock. */
async function startWorld() {
  const id = randomUUID().slice(0, 8);
  const queues = { taskchart: `tc-bench-remote-${id}`, raw: `tc-bench-raw-${id}` };
  const world = { queues, workers: { taskchart: [], raw: [] }, info: new Redis(REDIS_URL, { maxRetriesPerRequest: null }) };
  const taskchartWorker = () =>
    startProcess(
      [CLI, 'worker', HANDLERS, '--redis', REDIS_URL, '--queue', queues.taskchart, '--concurrency', String(WORKER_CONCURRENCY)],
      /^worker: queue /m,
    );
  const { lockDuration, stalledInterval } = WORKER_DEFAULTS;
  const rawWorker = () =>
    startProcess(
      [RAW_WORKER, REDIS_URL, queues.raw, String(WORKER_CONCURRENCY), String(lockDuration), String(stalledInterval)],
      /^raw-worker: queue /m,
    );
  const started = await Promise.allSettled([
    ...Array.from({ length: WORKERS }, taskchartWorker),
    ...Array.from({ length: WORKERS }, rawWorker),
  ]);
  started.forEach((outcome, i) => outcome.status === 'fulfilled' && world.workers[i < WORKERS ? 'taskchart' : 'raw'].push(outcome.value));
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    await stopWorld(world);
    throw failed.reason;
  }
  return world;
}

/** Stops every worker process, then obliterates every queue the scenario made and closes its client. */
async function stopWorld(world) {
  await Promise.all([...world.workers.taskchart, ...world.workers.raw].map(stopProcess));
  for (const name of Object.values(world.queues)) {
    const queue = new Queue(name, { connection: world.info });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  world.info.disconnect();
}

function skipped(title, reason) {
  return {
    id: 'remote',
    title,
    skipped: reason,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'status', label: 'status' },
    ],
    rows: [{ peer: 'taskchart (both runtimes) and raw BullMQ', status: `skipped: ${reason}` }],
    targets: [{ name: "taskchart (compiled)'s overhead over raw BullMQ (one add per job) < 20%", value: 'not measured', met: null }],
    notes: [`Skipped: this scenario needs Redis at ${REDIS_URL} (${reason}). Under \`CI\` it fails instead.`],
  };
}

export async function run({ quick }) {
  const tasks = quick ? 300 : 10_000;
  // 9 rounds: the machine is shared and one round of 10,000 tasks varies by ±25% here; a round of the four peers takes about 8 s.
  const rounds = quick ? 1 : 9;
  const title = `${tasks.toLocaleString('en-US')} remote no-op tasks on ${WORKERS} worker processes vs raw BullMQ`;
  const down = await probeRedis();
  if (down !== undefined) {
    if (process.env.CI) throw new Error(`The remote scenario needs Redis at ${REDIS_URL}: ${down}`);
    console.log(`remote: skipped, Redis at ${REDIS_URL} is not reachable (${down})`);
    return skipped(title, `Redis at ${REDIS_URL} is not reachable (${down})`);
  }

  const world = await startWorld();
  const measured = Object.fromEntries(Object.values(PEERS).map((name) => [name, []]));
  const peer = (name, time) => ({
    name,
    time: async (n) => {
      const sample = await time(n);
      measured[name].push(sample);
      return sample.ms;
    },
  });
  let samples;
  try {
    samples = await interleavedRounds(
      [
        ...RUNTIMES.map((runtime) => peer(PEERS[runtime], (n) => timeTaskchart(world, n, runtime))),
        peer(PEERS.raw, (n) => timeRaw(world, n, false)),
        peer(PEERS.bulk, (n) => timeRaw(world, n, true)),
      ],
      tasks,
      rounds,
    );
  } finally {
    await stopWorld(world);
  }

  // The first sample of each peer is interleavedRounds' warm-up.
  const of = (name, key) => median(measured[name].slice(1).map((sample) => sample[key]));
  const ms = Object.fromEntries(Object.values(PEERS).map((name) => [name, (median(samples[name]) * tasks) / 1000]));
  const reference = ms[PEERS.raw];
  const overhead = (runtime) => ms[PEERS[runtime]] / reference - 1;
  const perSecond = (name) => (tasks * 1000) / ms[name];
  const row = (name) => ({
    peer: name,
    perSecond: perSecond(name),
    ms: ms[name],
    ratio: ms[name] / reference,
    supervisorUs: of(name, 'supervisorUs'),
    workersUs: of(name, 'workersUs'),
    redisUs: of(name, 'redisUs'),
  });
  return {
    id: 'remote',
    title,
    columns: [
      { key: 'peer', label: 'peer' },
      { key: 'perSecond', label: 'tasks per second (median)', digits: 0 },
      { key: 'ms', label: `ms for ${tasks.toLocaleString('en-US')}`, digits: 0 },
      { key: 'ratio', label: '× raw BullMQ time', digits: 2 },
      { key: 'supervisorUs', label: 'CPU µs per task: this process', digits: 0 },
      { key: 'workersUs', label: 'CPU µs per task: workers', digits: 0 },
      { key: 'redisUs', label: 'CPU µs per task: Redis', digits: 0 },
    ],
    rows: Object.values(PEERS).map(row),
    targets: [
      {
        name: "taskchart (compiled)'s overhead over raw BullMQ (one add per job) < 20%",
        value: `${(overhead('compiled') * 100).toFixed(1)}% (${perSecond(PEERS.compiled).toFixed(0)} vs ${perSecond(PEERS.raw).toFixed(0)} tasks/s; taskchart (xstate): ${(overhead('xstate') * 100).toFixed(1)}%, ${perSecond(PEERS.xstate).toFixed(0)} tasks/s)`,
        met: overhead('compiled') < 0.2,
      },
    ],
    chart: { field: 'perSecond', label: 'tasks per second (higher is better)' },
    notes: [
      `Median of ${rounds} round${rounds === 1 ? '' : 's'} after a warm-up of every peer on ${Math.max(500, tasks / 10).toLocaleString('en-US')} tasks; in every round each peer runs once, the order rotating, with a full garbage collection before each. Every peer kind has its own queue on the same Redis (127.0.0.1:6379; the two taskchart rows share one, and the two raw rows another) and ${WORKERS} worker processes of concurrency ${WORKER_CONCURRENCY}, started before the first round and kept for the run (the runtime is the supervising engine's: a \`taskchart worker\` runs no statechart, so both taskchart rows use the same workers); every peer keeps at most ${IN_FLIGHT} jobs in flight (added and not yet seen completed): taskchart through the engine's \`concurrency\` (a remote attempt holds its slot from its add until its outcome arrives), the raw peers by counting. That is 8 times the workers' slots: both peers got faster up to 256 in flight and no faster at 512 or 1,024 (at 64 the raw peer ran about 40% slower). Each round uses a fresh engine and executor, or a fresh Queue and QueueEvents (started from the newest stream entry, as the executor does), and runs one job through them before the clock, so that opening connections is not timed.`,
      `What is timed: taskchart (each runtime), from the first \`startTask\` (the tasks \`{ executor: 'remote', handler: 'noop' }\` registered with \`registerTasks\` just before) until \`onIdle\`, then every task is checked COMPLETED; raw BullMQ, from the first add until the QueueEvents listener has seen every job's \`completed\`. Both add jobs with custom ids and the executor's options (\`attempts: 1\`, \`removeOnComplete\` / \`removeOnFail\` \`{ age: 3600 }\`). The judged peer is **raw BullMQ, one add per job**: it adds a job per completion with \`queue.add\`, as the executor does. The addBulk row tops each batch of completions (those that arrive in one turn of the event loop) up with one \`addBulk\`: a trick taskchart does not use, shown for context, not judged. The raw workers (bench/fixtures/raw-bullmq-worker.mjs) are plain bullmq Workers with a no-op processor and the options \`taskchart worker\` gives its Worker (\`maxStalledCount: 0\`, \`lockDuration\` ${WORKER_DEFAULTS.lockDuration} ms, \`stalledInterval\` ${WORKER_DEFAULTS.stalledInterval} ms).`,
      'CPU columns: CPU time (user + system) per task during the timed part, of this process (`process.cpuUsage`: the engine and executor, or the raw supervising code), of the two worker processes (/proc), and of redis-server (`INFO cpu`). On 2 cores the four processes and Redis share the machine, so CPU spent anywhere slows every peer: the sum of the three columns is what a task costs the machine.',
    ],
    samples: { ...samples, 'cpu (the first of each peer: the warm-up)': measured },
  };
}
