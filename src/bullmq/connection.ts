/**
 * Redis connections for the executor and the worker. Each role (queue,
 * queue events, worker, pub/sub) gets its own ioredis client, made here and
 * closed by its owner: a URL or options object makes a new client, an ioredis
 * instance given by the caller is duplicated (the caller's own instance is
 * never used, nor closed).
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisClient, RedisConnection } from './types.js';

/** Whether `connection` is an ioredis instance (which the structural {@link RedisClient} describes). */
function isClient(connection: RedisConnection): connection is RedisClient {
  return connection instanceof Redis;
}

/**
 * A new client for one role, with `maxRetriesPerRequest: null`: BullMQ requires it of blocking clients
 * (QueueEvents, Worker, a subscriber), and on the executor's other clients it makes a command wait for
 * Redis to come back rather than fail after ioredis's retries; the executor bounds that wait itself.
 */
export function createClient(connection: RedisConnection): Redis {
  const overrides: RedisOptions = { maxRetriesPerRequest: null };
  if (isClient(connection)) return (connection as Redis).duplicate(overrides);
  if (typeof connection === 'string') return new Redis(connection, overrides);
  return new Redis({ ...(connection as RedisOptions), ...overrides });
}

/** Closes a client: QUIT, or a disconnect when QUIT does not answer within `timeoutMs` (Redis down). */
export async function closeClient(client: Redis, timeoutMs: number): Promise<void> {
  if ((client.status as string) === 'end') return;
  await withTimeout(
    client.quit().then(() => undefined),
    timeoutMs,
  ).catch(() => undefined);
  if ((client.status as string) !== 'end') client.disconnect();
}

/** Settles with `promise`, or resolves after `timeoutMs` without waiting for it further. */
export function withTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref?.();
  });
  return Promise.race([promise.then(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/** A URL for messages, without its password. */
export function describeConnection(connection: RedisConnection): string {
  if (typeof connection === 'string') {
    try {
      const url = new URL(connection);
      if (url.password) url.password = '***';
      return url.href.replace(/\/$/, '');
    } catch {
      return 'redis';
    }
  }
  const { host, port } = isClient(connection) ? connection.options : connection;
  return `redis://${host ?? '127.0.0.1'}:${port ?? 6379}`;
}
