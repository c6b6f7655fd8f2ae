/**
 * Starting a QueueEvents listener that misses nothing. BullMQ's default
 * start (`lastEventId: '$'`) loses the events of a job added right after
 * the listener is created (20 of 20 runs in a trial, see
 * docs/design/bullmq-6.md), so the listener starts from the newest entry of
 * the queue's event stream, read first with XREVRANGE.
 */
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';

/** The id of the newest entry in the queue's event stream, or `0-0` when the stream is empty. */
export async function newestEventId(client: Redis, prefix: string, queue: string): Promise<string> {
  const entries = await client.xrevrange(`${prefix}:${queue}:events`, '+', '-', 'COUNT', 1);
  return entries[0]?.[0] ?? '0-0';
}

/**
 * A running QueueEvents for `queue` on the blocking client `events`, reading
 * from just after the newest event present now (read through `client`).
 * `onError` receives its connection errors (emitted on every reconnect try
 * while Redis is down).
 */
export async function startQueueEvents(options: {
  readonly client: Redis;
  readonly events: Redis;
  readonly prefix: string;
  readonly queue: string;
  readonly onError: (error: Error) => void;
}): Promise<QueueEvents> {
  const lastEventId = await newestEventId(options.client, options.prefix, options.queue);
  const queueEvents = new QueueEvents(options.queue, {
    connection: options.events,
    prefix: options.prefix,
    lastEventId,
    autorun: true,
  });
  queueEvents.on('error', options.onError);
  await queueEvents.waitUntilReady();
  return queueEvents;
}
