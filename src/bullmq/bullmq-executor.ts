/**
 * The `remote` executor: runs each attempt as one BullMQ job that a
 * `taskchart worker` process takes from the queue. See docs/scale-out.md.
 *
 * Invariant: an attempt is in `#pending` (keyed by its job id) from
 * `execute` until it settles; events for a job id not in `#pending` (a late
 * result after a cancel or timeout, another executor's job) are ignored.
 */
import { Queue, type QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { WorkerCrashedError } from '../errors.js';
import type { AttemptRequest, Executor, TaskKind } from '../executors/executor.js';
import { InvalidOptionError } from '../errors.js';
import { closeClient, createClient, withTimeout } from './connection.js';
import { findNonJson } from './json-safe.js';
import { resolveExecutorOptions, type BullMQExecutorOptions, type ResolvedExecutorOptions } from './options.js';
import { CANCEL_KEY_TTL_MS, PROTOCOL_VERSION, STALLED_REASON, cancelChannel, cancelKey, describeReason, deserializeError, isProgressData, isResultEnvelope, jobIdFor, type JobData } from './protocol.js';
import { startQueueEvents } from './queue-events.js';

interface PendingAttempt {
  readonly request: AttemptRequest;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface Connections {
  readonly queue: Queue;
  readonly events: QueueEvents;
  /** Queue client, QueueEvents client, control client (cancel SET / PUBLISH). */
  readonly clients: readonly Redis[];
  readonly control: Redis;
}

/**
 * An {@link Executor} that sends attempts to remote workers through a BullMQ queue.
 *
 * @example
 * const engine = new TaskEngine({ executors: { remote: new BullMQExecutor({ connection: 'redis://127.0.0.1:6379', queue: 'renders' }) } });
 * engine.registerTask({ name: 'render', executor: 'remote', handler: 'render', args: [{ frame: 1 }] });
 */
export class BullMQExecutor implements Executor {
  readonly concurrency: number;
  readonly #options: ResolvedExecutorOptions;
  readonly #pending = new Map<string, PendingAttempt>();
  #connections: Promise<Connections> | undefined;
  #closed = false;

  constructor(options: BullMQExecutorOptions) {
    this.#options = resolveExecutorOptions(options);
    this.concurrency = this.#options.concurrency;
  }

  /** Remote tasks name a worker `handler`, and their `args` must be JSON-safe (job data is JSON). */
  validate(spec: { readonly kind: TaskKind; readonly args: readonly unknown[] }): void {
    if (spec.kind !== 'handler') {
      throw new InvalidOptionError('handler', `Expected a \`handler\` (the name of a function exported by the \`taskchart worker\` module) for a task run by a BullMQExecutor, got ${spec.kind === 'external' ? 'none' : `\`${spec.kind}\``}`);
    }
    const problem = findNonJson(spec.args, 'args');
    if (problem !== undefined) {
      throw new InvalidOptionError('args', `Expected \`args\` of a remote task to be JSON-safe (null, booleans, strings, finite numbers, arrays and plain objects): ${problem}`);
    }
  }

  execute(request: AttemptRequest): Promise<unknown> {
    const jobId = jobIdFor(request.taskId, request.attempt);
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error(`BullMQExecutor for queue \`${this.#options.queue}\` is closed`));
      this.#pending.set(jobId, { request, resolve, reject });
      let added: Promise<void> | undefined = undefined;
      request.whenAborted((reason) => {
        if (!this.#settle(jobId, (p) => p.reject(reason)) || added === undefined) return;
        // After the add has landed, so that a job still being added is removed too.
        void added.then(() => this.#cancel(jobId, reason)).catch((error: unknown) => this.#options.onError(asError(error)));
      });
      if (!this.#pending.has(jobId)) return; // aborted before it was sent
      added = this.#add(jobId, request);
      added.catch((error: unknown) => this.#settle(jobId, (p) => p.reject(error)));
    });
  }

  /** Closes the queue, the event listener and every connection, each bounded by `closeTimeout`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const jobId of [...this.#pending.keys()]) {
      this.#settle(jobId, (p) => p.reject(new Error(`BullMQExecutor for queue \`${this.#options.queue}\` closed before job \`${jobId}\` finished`)));
    }
    const connections = await this.#connections?.catch(() => undefined);
    if (connections === undefined) return;
    const timeout = this.#options.closeTimeout;
    await Promise.all([withTimeout(connections.events.close(), timeout), withTimeout(connections.queue.close(), timeout)]);
    await Promise.all(connections.clients.map((client) => closeClient(client, timeout)));
  }

  async #add(jobId: string, request: AttemptRequest): Promise<void> {
    const { queue } = await this.#connect();
    const data: JobData = { v: PROTOCOL_VERSION, taskId: request.taskId, name: request.name, attempt: request.attempt, handler: request.handler as string, args: request.args };
    // Removed when finished (the events carry the outcome), so a later run may reuse the task id.
    await queue.add(request.name, data, { jobId, attempts: 1, removeOnComplete: true, removeOnFail: true });
  }

  /** Removes a waiting job; a running one is told to stop through the cancel key and channel. */
  async #cancel(jobId: string, reason: unknown): Promise<void> {
    const { queue, control } = await this.#connect();
    // 1: removed while waiting (or already gone); 0: locked by a worker that runs it.
    if ((await queue.remove(jobId)) === 1) return;
    const text = describeReason(reason);
    await control.set(cancelKey(this.#options.queue, jobId), text, 'PX', CANCEL_KEY_TTL_MS);
    await control.publish(cancelChannel(this.#options.queue), JSON.stringify({ jobId, reason: text }));
  }

  #connect(): Promise<Connections> {
    this.#connections ??= this.#open();
    return this.#connections;
  }

  async #open(): Promise<Connections> {
    const { connection, prefix, queue: name, onError } = this.#options;
    const client = createClient(connection, { blocking: false });
    const eventsClient = createClient(connection, { blocking: true });
    const control = createClient(connection, { blocking: false });
    const clients = [client, eventsClient, control];
    for (const c of clients) c.on('error', onError);
    const queue = new Queue(name, { connection: client, prefix });
    queue.on('error', onError);
    const events = await startQueueEvents({ client, events: eventsClient, prefix, queue: name, onError });
    this.#listen(events);
    return { queue, events, clients, control };
  }

  #listen(events: QueueEvents): void {
    events.on('completed', ({ jobId, returnvalue }) => this.#settle(jobId, (p) => this.#complete(p, jobId, returnvalue)));
    events.on('failed', ({ jobId, failedReason }) =>
      this.#settle(jobId, (p) => p.reject(failedReason === STALLED_REASON ? this.#crashed(p, jobId) : new Error(`Task \`${p.request.taskId}\` (attempt ${p.request.attempt}): BullMQ failed job \`${jobId}\`: ${failedReason}`))),
    );
    events.on('stalled', ({ jobId }) => {
      if (!this.#settle(jobId, (p) => p.reject(this.#crashed(p, jobId)))) return;
      // Back in `wait` with a deferred failure: removing it keeps another worker from taking it.
      void this.#connect().then(({ queue }) => queue.remove(jobId)).catch((error: unknown) => this.#options.onError(asError(error)));
    });
    events.on('duplicated', ({ jobId }) =>
      this.#settle(jobId, (p) => p.reject(new Error(`Task \`${p.request.taskId}\` (attempt ${p.request.attempt}): queue \`${this.#options.queue}\` already holds a job \`${jobId}\` (another engine runs the same task id?); the attempt was not sent`))),
    );
    events.on('progress', ({ jobId, data }) => {
      const pending = this.#pending.get(jobId);
      if (pending === undefined || !isProgressData(data)) return;
      try {
        pending.request.context.progress(data.fraction, data.message);
      } catch (error) {
        this.#options.onError(asError(error));
      }
    });
  }

  #complete(pending: PendingAttempt, jobId: string, returnvalue: unknown): void {
    if (!isResultEnvelope(returnvalue)) {
      pending.reject(new Error(`Task \`${pending.request.taskId}\`: job \`${jobId}\` returned something other than a taskchart result envelope (is the queue processed by \`taskchart worker\`?)`));
    } else if (returnvalue.status === 'ok') pending.resolve(returnvalue.value);
    else if (returnvalue.status === 'error' && returnvalue.error) pending.reject(deserializeError(returnvalue.error));
    else {
      // Not asked for by this executor (its own cancels settle first): the worker shut down under the attempt.
      const why = returnvalue.error ? `: ${returnvalue.error.message}` : '';
      pending.reject(new WorkerCrashedError(`The remote worker running task \`${pending.request.taskId}\` (attempt ${pending.request.attempt}) cancelled it${why}`));
    }
  }

  #crashed(pending: PendingAttempt, jobId: string): WorkerCrashedError {
    return new WorkerCrashedError(
      `The remote worker running task \`${pending.request.taskId}\` (attempt ${pending.request.attempt}, job \`${jobId}\` in queue \`${this.#options.queue}\`) stopped renewing its lock: it died or hung`,
    );
  }

  /** Removes the attempt from `#pending` and runs `action` on it; false when it had already settled. */
  #settle(jobId: string, action: (pending: PendingAttempt) => void): boolean {
    const pending = this.#pending.get(jobId);
    if (pending === undefined) return false;
    this.#pending.delete(jobId);
    action(pending);
    return true;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
