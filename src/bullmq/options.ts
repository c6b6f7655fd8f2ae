/** Options of {@link BullMQExecutor}, validated once at construction into a resolved object. */
import { InvalidOptionError } from '../errors.js';
import { invalid, isPlainObject } from '../validate.js';
import { Redis } from 'ioredis';
import { DEFAULT_PREFIX } from './protocol.js';
import type { RedisConnection } from './connection.js';

export interface BullMQExecutorOptions {
  /** Where Redis is: a `redis://` URL, ioredis options, or an ioredis instance (duplicated, never closed by the executor). */
  readonly connection: RedisConnection;
  /** The BullMQ queue that `taskchart worker --queue <name>` processes. No ':'. */
  readonly queue: string;
  /** BullMQ key prefix; workers must use the same one. @default 'bull' */
  readonly prefix?: string;
  /**
   * How many attempts this executor keeps in the queue at once (waiting for a worker or running);
   * the engine keeps further remote tasks queued in the supervisor. @default Infinity
   */
  readonly concurrency?: number;
  /**
   * How long an attempt that no worker has taken yet waits while Redis is unreachable before it fails
   * with ERR_EXECUTOR_UNAVAILABLE (and is retried if the task has attempts left). Meanwhile the engine
   * shows it in `executor-wait` events and `getStats().unavailable`. @default 30000
   */
  readonly unavailableTimeout?: number;
  /**
   * How long finished jobs (with their results) stay in Redis, so that an engine restarted from its
   * durable store finds the outcome of an attempt that finished while it was down. @default 3600000 (1 h)
   */
  readonly keepFinished?: number;
  /**
   * How often the executor checks, in Redis, that the job of each of its attempts is still held by a
   * worker (its lock renewed). A job taken by a worker that died or hung is noticed at most about
   * `lockDuration` of the workers + this after the worker stopped, even when no other worker is alive
   * to run BullMQ's own stalled check; the attempt fails with ERR_WORKER_CRASHED. @default 1000
   */
  readonly lockCheckInterval?: number;
  /** How long `close()` waits for each connection to close cleanly before dropping it. @default 5000 */
  readonly closeTimeout?: number;
  /** Receives Redis connection errors (emitted on every reconnect try while Redis is down). @default ignore them */
  readonly onError?: (error: Error) => void;
}

export interface ResolvedExecutorOptions {
  readonly connection: RedisConnection;
  readonly queue: string;
  readonly prefix: string;
  readonly concurrency: number;
  readonly unavailableTimeout: number;
  /** In seconds, as BullMQ's `removeOnComplete: { age }` takes it. */
  readonly keepFinishedSeconds: number;
  readonly lockCheckInterval: number;
  readonly closeTimeout: number;
  readonly onError: (error: Error) => void;
}

const KNOWN = new Set(['connection', 'queue', 'prefix', 'concurrency', 'unavailableTimeout', 'keepFinished', 'lockCheckInterval', 'closeTimeout', 'onError']);

/** Node's timers fire at once beyond this (ms). */
const MAX_TIMER = 2 ** 31 - 1;

/** @throws InvalidOptionError naming the field. */
export function resolveExecutorOptions(options: BullMQExecutorOptions): ResolvedExecutorOptions {
  if (!isPlainObject(options)) throw invalid('options', 'an object `{ connection, queue }`', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(key, `Unknown BullMQExecutor option \`${key}\`, expected one of ${[...KNOWN].join(', ')}`);
  }
  const { connection, queue, prefix = DEFAULT_PREFIX, concurrency = Infinity, unavailableTimeout = 30_000, keepFinished = 3_600_000, lockCheckInterval = 1000, closeTimeout = 5000, onError = () => {} } = options;
  if (!(typeof connection === 'string' || connection instanceof Redis || isPlainObject(connection))) {
    throw invalid('connection', 'a redis:// URL, ioredis options or an ioredis instance', connection);
  }
  checkName('queue', queue);
  checkName('prefix', prefix);
  if (!(concurrency === Infinity || (Number.isSafeInteger(concurrency) && concurrency >= 1))) {
    throw invalid('concurrency', 'an integer >= 1 or Infinity', concurrency);
  }
  if (!(typeof unavailableTimeout === 'number' && unavailableTimeout > 0 && unavailableTimeout <= MAX_TIMER)) {
    throw invalid('unavailableTimeout', `a number of ms > 0 and <= ${MAX_TIMER}`, unavailableTimeout);
  }
  if (!(typeof keepFinished === 'number' && Number.isFinite(keepFinished) && keepFinished >= 0)) throw invalid('keepFinished', 'a finite number of ms >= 0', keepFinished);
  if (!(typeof lockCheckInterval === 'number' && lockCheckInterval >= 10 && lockCheckInterval <= MAX_TIMER)) {
    throw invalid('lockCheckInterval', `a number of ms >= 10 and <= ${MAX_TIMER}`, lockCheckInterval);
  }
  if (!(Number.isFinite(closeTimeout) && closeTimeout >= 0)) throw invalid('closeTimeout', 'a finite number >= 0 (ms)', closeTimeout);
  if (typeof onError !== 'function') throw invalid('onError', 'a function or absent', onError);
  return { connection, queue, prefix, concurrency, unavailableTimeout, keepFinishedSeconds: Math.ceil(keepFinished / 1000), lockCheckInterval, closeTimeout, onError };
}

/** A queue name or prefix: non-empty, without ':' (BullMQ refuses it in queue names). */
export function checkName(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '' || value.includes(':')) throw invalid(field, "a non-empty string without ':'", value);
}
