/**
 * A real `taskchart worker` child process on a fresh queue of the Redis at
 * 127.0.0.1:6379, and what the tests observe: the worker's stdout lines
 * (the fixture handlers report `event <what> <taskId> <attempt>`) and the
 * queue's events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue, type QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { startQueueEvents } from '../../src/bullmq/queue-events.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = `${ROOT}dist/cli/main.js`;
export const HANDLERS = `${ROOT}test/fixtures/bullmq-handlers.mjs`;

/** Whether Redis answers a PING within a second; the reason when not. */
export async function probeRedis(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let failure: unknown;
  client.on('error', (error) => (failure ??= error));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return String((failure ?? error) as Error);
  } finally {
    client.disconnect();
  }
}

/** The stdout lines of a child process, with the time each arrived. */
export class Lines {
  readonly #lines: Array<{ readonly text: string; readonly at: number }> = [];
  readonly #waiters = new Set<() => void>();

  constructor(child: ChildProcess) {
    let buffer = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const text of parts) this.#lines.push({ text, at: Date.now() });
      for (const wake of this.#waiters) wake();
    });
  }

  has(text: string): boolean {
    return this.#lines.some((line) => line.text === text);
  }

  /** Every line so far. */
  texts(): string[] {
    return this.#lines.map((line) => line.text);
  }

  /** Resolves with the arrival time of the first line equal to (or matching) `expected`, among those arrived at `since` or later. */
  waitFor(expected: string | RegExp, timeoutMs = 10_000, since = -Infinity): Promise<number> {
    const matches = (text: string) => (typeof expected === 'string' ? text === expected : expected.test(text));
    const find = () => this.#lines.find((line) => line.at >= since && matches(line.text));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`No line ${String(expected)} within ${timeoutMs} ms; got:\n${this.#lines.map((l) => l.text).join('\n')}`));
      }, timeoutMs);
      const check = () => {
        const line = find();
        if (line === undefined) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(line.at);
      };
      this.#waiters.add(check);
      check();
    });
  }
}

export interface RemoteWorld {
  readonly queueName: string;
  readonly queue: Queue;
  readonly events: QueueEvents;
  readonly child: ChildProcess;
  readonly lines: Lines;
  close(): Promise<void>;
}

/** A fresh queue `tc-test-<random>`, a worker process on it (`concurrency`), and the test's own view of the queue. */
export async function startWorld(concurrency = 1): Promise<RemoteWorld> {
  const queueName = `tc-test-${randomUUID().slice(0, 8)}`;
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const eventsClient = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection: client });
  const events = await startQueueEvents({ client, events: eventsClient, prefix: 'bull', queue: queueName, onError: () => {} });
  const child = spawn(
    process.execPath,
    [CLI, 'worker', HANDLERS, '--redis', REDIS_URL, '--queue', queueName, '--concurrency', String(concurrency)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = new Lines(child);
  await lines.waitFor(/^worker: queue /);
  return {
    queueName,
    queue,
    events,
    child,
    lines,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      client.disconnect();
      eventsClient.disconnect();
    },
  };
}

/** Resolves when the queue reports `event` for `jobId`. */
export function queueEvent(events: QueueEvents, event: 'completed' | 'removed' | 'waiting' | 'active', jobId: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (payload: { jobId: string }) => {
      if (payload.jobId !== jobId) return;
      events.off(event, listener);
      resolve();
    };
    events.on(event, listener);
  });
}
