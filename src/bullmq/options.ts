/** Options of {@link BullMQExecutor}, validated once at construction into a resolved object. */
import { InvalidOptionError } from '../errors.js';
import { invalid, isPlainObject } from '../validate.js';
import { Redis } from 'ioredis';
import { DEFAULT_PREFIX } from './protocol.js';
import type { BullMQExecutorOptions, RedisConnection } from './types.js';

export type { BullMQExecutorOptions } from './types.js';

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

const KNOWN = new Set([
  'connection',
  'queue',
  'prefix',
  'concurrency',
  'unavailableTimeout',
  'keepFinished',
  'lockCheckInterval',
  'closeTimeout',
  'onError',
]);

/** Node's timers fire at once beyond this (ms). */
const MAX_TIMER = 2 ** 31 - 1;

/** @throws InvalidOptionError naming the field. */
export function resolveExecutorOptions(options: BullMQExecutorOptions): ResolvedExecutorOptions {
  if (!isPlainObject(options)) throw invalid('options', 'an object `{ connection, queue }`', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key))
      throw new InvalidOptionError(key, `Unknown BullMQExecutor option \`${key}\`, expected one of ${[...KNOWN].join(', ')}`);
  }
  const {
    connection,
    queue,
    prefix = DEFAULT_PREFIX,
    concurrency = Infinity,
    unavailableTimeout = 30_000,
    keepFinished = 3_600_000,
    lockCheckInterval = 1000,
    closeTimeout = 5000,
    onError = () => {},
  } = options;
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
  if (!(typeof keepFinished === 'number' && Number.isFinite(keepFinished) && keepFinished >= 0))
    throw invalid('keepFinished', 'a finite number of ms >= 0', keepFinished);
  if (!(typeof lockCheckInterval === 'number' && lockCheckInterval >= 10 && lockCheckInterval <= MAX_TIMER)) {
    throw invalid('lockCheckInterval', `a number of ms >= 10 and <= ${MAX_TIMER}`, lockCheckInterval);
  }
  if (!(Number.isFinite(closeTimeout) && closeTimeout >= 0)) throw invalid('closeTimeout', 'a finite number >= 0 (ms)', closeTimeout);
  if (typeof onError !== 'function') throw invalid('onError', 'a function or absent', onError);
  return {
    connection,
    queue,
    prefix,
    concurrency,
    unavailableTimeout,
    keepFinishedSeconds: Math.ceil(keepFinished / 1000),
    lockCheckInterval,
    closeTimeout,
    onError,
  };
}

/** A queue name or prefix: non-empty, without ':' (BullMQ refuses it in queue names). */
export function checkName(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '' || value.includes(':')) throw invalid(field, "a non-empty string without ':'", value);
}
