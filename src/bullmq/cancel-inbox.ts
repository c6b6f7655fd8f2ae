/**
 * How a worker learns that the engine cancelled a job it runs, with no Redis round trip per job in the common
 * case. Every cancel arrives on the queue's pub/sub channel. A job this process runs is aborted at once; a cancel
 * for a job it does not run (yet) is remembered for {@link CANCEL_KEY_TTL_MS}, because a job just taken from the
 * queue is not known to BullMQ's cancel registry until its processor starts, and the processor looks here first.
 * While the subscriber is disconnected messages can be lost: jobs that start then read the job's cancel key
 * (set before every message), and once the subscriber is back the keys of every running job are read.
 */
import type { Redis } from 'ioredis';
import { CANCEL_KEY_TTL_MS, cancelChannel, cancelKey, isCancelMessage } from './protocol.js';

export class CancelInbox {
  readonly #client: Redis;
  readonly #subscriber: Redis;
  readonly #keyOf: (jobId: string) => string;
  /** Aborts a job this process runs; false when it runs no such job. */
  readonly #abort: (jobId: string, reason: string) => boolean;
  /** Cancels of jobs this process did not run when they arrived, oldest first. */
  readonly #early = new Map<string, { readonly reason: string; readonly at: number }>();
  /** Jobs whose processor runs in this process now. */
  readonly #running = new Set<string>();
  /** The subscriber may have missed messages: until it first subscribed, and from a disconnect until the sweep after it is back. */
  #deaf = true;
  #listening = false;

  constructor(options: {
    client: Redis;
    subscriber: Redis;
    prefix: string;
    queue: string;
    abort: (jobId: string, reason: string) => boolean;
    onError: (error: unknown) => void;
  }) {
    const { client, subscriber, prefix, queue, abort, onError } = options;
    this.#client = client;
    this.#subscriber = subscriber;
    this.#keyOf = (jobId) => cancelKey(prefix, queue, jobId);
    this.#abort = abort;
    subscriber.on('message', (_channel: string, text: string) => this.#heard(text));
    subscriber.on('close', () => (this.#deaf = true));
    // ioredis subscribes again on reconnect before `ready`.
    subscriber.on('ready', () => void this.#sweep().catch(onError));
    this.channel = cancelChannel(prefix, queue);
  }

  readonly channel: string;

  /** Subscribes; messages count from when it resolves. */
  async listen(): Promise<void> {
    await this.#subscriber.subscribe(this.channel);
    this.#listening = true;
    this.#deaf = false;
  }

  /** A job's processor starts: the reason if the job was cancelled already. Call {@link ended} when it ends. */
  async started(jobId: string): Promise<string | undefined> {
    this.#running.add(jobId);
    const early = this.#early.get(jobId)?.reason;
    if (early !== undefined || !this.#deaf) return early;
    return (await this.#client.get(this.#keyOf(jobId))) ?? undefined;
  }

  ended(jobId: string): void {
    this.#running.delete(jobId);
    this.#early.delete(jobId);
  }

  #heard(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!isCancelMessage(message) || this.#abort(message.jobId, message.reason)) return;
    const now = Date.now();
    for (const [jobId, { at }] of this.#early) {
      if (now - at < CANCEL_KEY_TTL_MS) break;
      this.#early.delete(jobId);
    }
    this.#early.set(message.jobId, { reason: message.reason, at: now });
  }

  /** Back after a disconnect: cancels of running jobs sent meanwhile are read from their keys. */
  async #sweep(): Promise<void> {
    if (!this.#listening) return; // the first connect: listen() ends the deafness
    if (!this.#deaf || this.#running.size === 0) {
      this.#deaf = false;
      return;
    }
    const ids = [...this.#running];
    const reasons = await this.#client.mget(ids.map(this.#keyOf));
    this.#deaf = false;
    ids.forEach((jobId, i) => {
      const reason = reasons[i];
      if (reason !== null && reason !== undefined) this.#abort(jobId, reason);
    });
  }
}
