/**
 * Real processes and views for the scale-out tests, each stopped after the test that started it:
 * `taskchart worker` children, a queue watched from the test, engines with a BullMQExecutor, and a
 * `redis-server` of the test's own that it can kill. Call {@link cleanupAfterEach} once per file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, type QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { BullMQExecutor } from '../../src/bullmq/index.js';
import { startQueueEvents } from '../../src/bullmq/queue-events.js';
import { TaskEngine, type ExecutorWaitEvent, type TaskEngineOptions, type TaskEvent } from '../../src/index.js';
import { CLI, Lines } from './harness.js';

export const LIFECYCLE_HANDLERS = fileURLToPath(new URL('../fixtures/bullmq-lifecycle-handlers.mjs', import.meta.url));

/** Things to stop after each test, last started first. */
const cleanups: Array<() => Promise<unknown> | unknown> = [];

/** Registers the afterEach hook that stops what the file's tests started. */
export function cleanupAfterEach(): void {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
}

/** Runs `cleanup` after the current test. */
export function defer(cleanup: () => Promise<unknown> | unknown): void {
  cleanups.push(cleanup);
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: Lines;
}

/** A `taskchart worker` process on `queue` of the Redis at `url`, with the lifecycle fixture handlers unless told otherwise. */
export async function startWorker(
  url: string,
  queue: string,
  extra: readonly string[] = [],
  handlers = LIFECYCLE_HANDLERS,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', handlers, '--redis', url, '--queue', queue, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(() => stopProcess(child));
  child.stderr?.resume(); // never let an unread pipe block the child
  const lines = new Lines(child);
  await lines.waitFor(/^worker: queue /);
  return { child, lines };
}

/** Stops `child` with `signal` (SIGKILL after 5 s) and resolves once it exited and its output was all read. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('close', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Our own view of `queue` (its events from now on), removed from Redis after the test. */
export async function watchQueue(url: string, queueName: string): Promise<{ queue: Queue; events: QueueEvents }> {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  const eventsClient = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection: client });
  const events = await startQueueEvents({ client, events: eventsClient, prefix: 'bull', queue: queueName, onError: () => {} });
  defer(async () => {
    await events.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    client.disconnect();
    eventsClient.disconnect();
  });
  return { queue, events };
}

/** An engine whose `remote` executor sends to `queue`, and every event it emitted. */
export function newEngine(
  url: string,
  queue: string,
  options: TaskEngineOptions = {},
  executor: Partial<ConstructorParameters<typeof BullMQExecutor>[0]> = {},
) {
  const engine = new TaskEngine({ ...options, executors: { remote: new BullMQExecutor({ connection: url, queue, ...executor }) } });
  const events: TaskEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  defer(() => engine.shutdown().catch(() => undefined));
  return { engine, events };
}

/** Resolves with the first event `predicate` accepts, from now on. */
export function nextEvent<T extends TaskEvent>(engine: TaskEngine, predicate: (event: TaskEvent) => event is T): Promise<T> {
  return new Promise((resolve) => {
    const subscription = engine.events.subscribe((event) => {
      if (!predicate(event)) return;
      subscription.unsubscribe();
      resolve(event);
    });
  });
}

export const isStatus =
  (taskId: string, status: string) =>
  (event: TaskEvent): event is TaskEvent =>
    event.type === 'status' && event.taskId === taskId && event.status === status;
export const isWait =
  (waiting: boolean) =>
  (event: TaskEvent): event is ExecutorWaitEvent =>
    event.type === 'executor-wait' && event.waiting === waiting;
