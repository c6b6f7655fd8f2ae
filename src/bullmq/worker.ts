/**
 * The worker side of the remote executor: a BullMQ Worker that runs
 * taskchart attempts with named handlers, listens for cancels from the
 * engine, and shuts down gracefully. `taskchart worker` is a thin command
 * over {@link createWorker}.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { closeClient, createClient, withTimeout } from './connection.js';
import { checkName } from './options.js';
import { runJob } from './processor.js';
import { CancelInbox } from './cancel-inbox.js';
import { DEFAULT_PREFIX, WORKER_DEFAULTS, type ResultEnvelope } from './protocol.js';
import type { CreateWorkerOptions, TaskchartWorker } from './types.js';

/** Starts a worker on `queue`. Unknown handlers produce an `error` result, never a BullMQ failure. */
export function createWorker(options: CreateWorkerOptions): TaskchartWorker<Worker> {
  checkName('queue', options.queue);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  checkName('prefix', prefix);
  const onError = options.onError ?? (() => {});
  const handlers = new Map(options.handlers instanceof Map ? options.handlers : Object.entries(options.handlers));
  const client = createClient(options.connection);
  const subscriber = createClient(options.connection);
  const clients: Redis[] = [client, subscriber];
  for (const c of clients) c.on('error', onError);
  // `worker` is defined below; the inbox calls it only once messages come, after listen().
  const inbox = new CancelInbox({
    client,
    subscriber,
    prefix,
    queue: options.queue,
    abort: (jobId, reason) => worker.cancelJob(jobId, reason),
    onError,
  });
  const host = { handlers, onError, cancelledBeforeStart: (jobId: string) => inbox.started(jobId) };
  // Exactly three declared parameters: BullMQ passes the AbortSignal only when `processor.length >= 3`.
  const processor = (job: Job, _token: string | undefined, signal: AbortSignal | undefined): Promise<ResultEnvelope> =>
    runJob(job, signal ?? new AbortController().signal, host).finally(() => inbox.ended(job.id as string));
  const worker = new Worker(options.queue, processor, {
    connection: client,
    prefix,
    concurrency: options.concurrency ?? 1,
    maxStalledCount: 0,
    lockDuration: options.lockDuration ?? WORKER_DEFAULTS.lockDuration,
    stalledInterval: options.stalledInterval ?? WORKER_DEFAULTS.stalledInterval,
    autorun: false,
  });
  worker.on('error', onError);
  const ready = (async () => {
    await inbox.listen();
    void worker.run().catch(onError);
    await worker.waitUntilReady();
  })();
  return {
    worker,
    ready,
    cancelAll: (reason) => worker.cancelAllJobs(reason),
    async close({ force = false, timeoutMs = 5000 } = {}) {
      // Without force, waits for running attempts with no bound: the caller cancels them after its grace period.
      await (force ? withTimeout(worker.close(true), timeoutMs) : worker.close());
      await Promise.all(clients.map((c) => closeClient(c, timeoutMs)));
    },
  };
}
