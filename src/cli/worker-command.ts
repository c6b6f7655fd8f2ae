/**
 * `taskchart worker`: runs remote tasks from a BullMQ queue with the
 * functions a module exports. Imported lazily by main.ts, so `taskchart run`
 * never loads bullmq (an optional peer dependency).
 */
import type { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createWorker } from '../bullmq/worker.js';
import { describeConnection } from '../bullmq/connection.js';
import { poolHandlers, type PoolHandlers } from '../bullmq/pool-handlers.js';
import type { TaskFunction } from '../task-spec.js';
import type { WorkerOptions } from './args.js';
import { CliInputError, ExitCode } from './input-error.js';
import { importModule } from './import-module.js';
import { loadHandlers } from './load-handlers.js';
import { WorkerStatus } from './worker-status.js';

/** How long a first connection to Redis may take before the command gives up. */
const CONNECT_TIMEOUT_MS = 3000;

export async function runWorkerCommand(
  options: WorkerOptions,
  io: { readonly stdout: Writable; readonly stderr: Writable },
): Promise<number> {
  const handlers = await loadHandlers(options.file);
  const pool = options.pool ? await threadHandlers(options.file, handlers, options.concurrency) : undefined;
  await checkRedis(options.redis);
  let lastError = '';
  const worker = createWorker({
    connection: options.redis,
    queue: options.queue,
    handlers: pool?.handlers ?? handlers,
    concurrency: options.concurrency,
    lockDuration: options.lockDuration,
    stalledInterval: options.stalledInterval,
    onError: (error) => {
      // ioredis repeats the same error on every reconnect try: report each distinct one once in a row.
      const text = error instanceof Error ? error.message : String(error);
      if (text !== lastError) io.stderr.write(`worker: ${text}\n`);
      lastError = text;
    },
  });
  await worker.ready;
  const threads = pool === undefined ? '' : ` in ${options.concurrency} worker thread${options.concurrency === 1 ? '' : 's'}`;
  io.stdout.write(
    `worker: queue ${options.queue} on ${describeConnection(options.redis)}, concurrency ${options.concurrency}${threads}, handlers: ${[...handlers.keys()].join(', ')}\n`,
  );
  const status = new WorkerStatus(worker.worker, io.stdout, options.concurrency);
  const signal = await firstSignal();
  io.stdout.write(
    `worker: ${signal}: finishing running jobs (handed back after ${options.grace / 1000} s; a second signal exits at once)\n`,
  );
  process.on('SIGINT', () => void forceExit(worker, ExitCode.SIGINT));
  process.on('SIGTERM', () => void forceExit(worker, ExitCode.SIGTERM));
  const grace = setTimeout(() => worker.cancelAll('worker shutdown'), options.grace);
  await worker.close();
  clearTimeout(grace);
  await pool?.close();
  status.stop();
  io.stdout.write('worker: stopped\n');
  return ExitCode.OK;
}

/** `--pool`: each handler must be a named function export, which a worker thread imports and calls. */
async function threadHandlers(file: string, handlers: ReadonlyMap<string, TaskFunction>, threads: number): Promise<PoolHandlers> {
  const module = await importModule(file, 'handlers module');
  const missing = [...handlers.keys()].filter((name) => typeof module[name] !== 'function');
  if (missing.length > 0) {
    throw new CliInputError(
      `With --pool, handlers run in worker threads, which call the module's named function exports; \`${file}\` does not export ${missing.map((name) => `\`${name}\``).join(', ')} by name (export them as \`export async function ${missing[0]}(ctx, ...) { ... }\`)`,
    );
  }
  return poolHandlers(file, handlers.keys(), threads);
}

/** Second signal: stop at once; running jobs are left active and will be reported stalled. */
async function forceExit(worker: ReturnType<typeof createWorker>, code: number): Promise<void> {
  await worker.close({ force: true, timeoutMs: 1000 }).catch(() => undefined);
  process.exit(code);
}

function firstSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** One PING with no retries, so a wrong host or port is one clear line rather than endless reconnect errors. */
async function checkRedis(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const why = cause ?? error;
    throw new CliInputError(`Cannot reach Redis at ${describeConnection(url)}: ${why instanceof Error ? why.message : String(why)}`, {
      cause: why,
    });
  } finally {
    client.disconnect();
  }
}
