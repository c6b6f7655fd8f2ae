/**
 * The `remote` executor: runs each attempt as one BullMQ job that a
 * `taskchart worker` process takes from the queue. See docs/scale-out.md.
 *
 * Invariants:
 * - an attempt is in `#pending` (keyed by its job id) from `execute` until it settles; events for a job id
 *   not in `#pending` (a late result after a cancel or timeout, another executor's job) are ignored;
 * - an attempt no worker has taken yet is reported unavailable to the engine exactly while Redis is
 *   unreachable and its job is not known to be in Redis, and has then a timer that fails it after
 *   `unavailableTimeout`;
 * - a job whose attempt settled without a result (cancel, timeout, unavailable) is withdrawn from Redis
 *   once its add has landed: removed while waiting, told to stop when running;
 * - while attempts are out, their jobs are checked every `lockCheckInterval` (liveness.ts), one check at a
 *   time: a taken job whose lock lapsed is a crashed worker, a job lost from Redis is sent again (or, once
 *   taken, fails the attempt), and a finished job whose event has not come is read directly.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  ExecutorFailedError,
  ExecutorUnavailableError,
  InvalidOptionError,
  ResultNotCloneableError,
  TaskChartError,
  taskLabel,
  WorkerCrashedError,
} from '../errors.js';
import { attemptLabel, type AttemptRequest, type Executor } from '../executors/executor.js';
import type { TaskKind } from '../task-spec.js';
import { toWire } from '../wire/dependencies.js';
import { deserializeError } from '../wire/errors.js';
import { closeClient, createClient, describeConnection, withTimeout } from './connection.js';
import { findNonJson } from './json-safe.js';
import { readLiveness, type JobLiveness } from './liveness.js';
import { resolveExecutorOptions, type BullMQExecutorOptions, type ResolvedExecutorOptions } from './options.js';
import {
  CANCEL_KEY_TTL_MS,
  PROTOCOL_VERSION,
  STALLED_REASON,
  cancelChannel,
  cancelKey,
  describeReason,
  isProgressData,
  isResultEnvelope,
  jobIdFor,
  type JobData,
  type ResultEnvelope,
} from './protocol.js';
import { startQueueEvents } from './queue-events.js';

interface PendingAttempt {
  readonly request: AttemptRequest;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Settles once the job is in Redis (added, or found there on re-attach); undefined until the add is under way. */
  sending: Promise<void> | undefined;
  /** The job is known to be in Redis. */
  sent: boolean;
  /** A worker took the job. */
  started: boolean;
  /** Set while the attempt is reported unavailable: fails it after `unavailableTimeout`. */
  unavailableTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last liveness check found the job finished (its event may still be on its way). */
  finishedSeen: boolean;
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
  /** A remote attempt is RUNNING from when a worker takes its job, and its job outlives this process. */
  readonly deferredStart = true;
  /** For taskchart/otel's PRODUCER spans: BullMQ, and this executor's queue. */
  readonly messaging: { readonly system: 'bullmq'; readonly destination: string };
  readonly #options: ResolvedExecutorOptions;
  readonly #pending = new Map<string, PendingAttempt>();
  /** Written into each job's data as `sender`, to tell this executor's jobs from another engine's of the same id. */
  readonly #sender = randomUUID();
  #connections: Promise<Connections> | undefined;
  #closed = false;
  /** Why Redis is unreachable now (connection lost, refused); undefined while it answers. */
  #down: Error | undefined;
  /** Set from when a liveness check is scheduled until that check has finished. */
  #checkTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: BullMQExecutorOptions) {
    this.#options = resolveExecutorOptions(options);
    this.concurrency = this.#options.concurrency;
    this.messaging = { system: 'bullmq', destination: this.#options.queue };
  }

  /** Remote tasks name a worker `handler`, and their `args` must be JSON-safe (job data is JSON). */
  validate(spec: { readonly kind: TaskKind; readonly args: readonly unknown[] }): void {
    if (spec.kind !== 'handler') {
      throw new InvalidOptionError(
        'handler',
        `Expected a \`handler\` (the name of a function exported by the \`taskchart worker\` module) for a task run by a BullMQExecutor, got ${spec.kind === 'external' ? 'none' : `\`${spec.kind}\``}`,
      );
    }
    const problem = findNonJson(spec.args, 'args');
    if (problem !== undefined) {
      throw new InvalidOptionError(
        'args',
        `Expected \`args\` of a remote task to be JSON-safe (null, booleans, strings, finite numbers, arrays and plain objects): ${problem}`,
      );
    }
  }

  execute(request: AttemptRequest): Promise<unknown> {
    const jobId = jobIdFor(request.taskId, request.attempt);
    const unsendable = nonJsonDependency(request);
    if (unsendable !== undefined) return Promise.reject(unsendable);
    return new Promise((resolve, reject) => {
      if (this.#closed)
        return reject(
          new ExecutorFailedError(
            `${attemptLabel(request)} was not sent: the BullMQExecutor for queue \`${this.#options.queue}\` is closed`,
          ),
        );
      const pending: PendingAttempt = {
        request,
        resolve,
        reject,
        sending: undefined,
        sent: false,
        started: false,
        unavailableTimer: undefined,
        finishedSeen: false,
      };
      this.#pending.set(jobId, pending);
      request.whenAborted((reason) => this.#withdraw(jobId, pending, reason));
      if (!this.#pending.has(jobId)) return; // aborted before it was sent
      // A restored engine re-attaches to the attempt its previous process sent, rather than sending it twice.
      pending.sending = request.resumed ? this.#reattach(jobId, request) : this.#add(jobId, request);
      pending.sending.then(
        () => this.#sent(jobId, pending),
        (error: unknown) => this.#settle(jobId, (p) => p.reject(this.#sendFailed(p, error))),
      );
      if (this.#down !== undefined) this.#markUnavailable(jobId, pending);
    });
  }

  /**
   * Settles an attempt that ends here without a result (`reason`: its abort, or Redis unreachable for too long)
   * and withdraws its job once the add has landed, so that a job still being added is removed too.
   */
  #withdraw(jobId: string, pending: PendingAttempt, reason: unknown): void {
    if (!this.#settle(jobId, (p) => p.reject(reason)) || pending.sending === undefined) return;
    void pending.sending.then(() => this.#cancel(jobId, reason)).catch((error: unknown) => this.#options.onError(asError(error)));
  }

  /** The job is in Redis: a wait for Redis, if one was reported, is over. */
  #sent(jobId: string, pending: PendingAttempt): void {
    pending.sent = true;
    if (this.#pending.get(jobId) === pending && pending.unavailableTimer !== undefined && this.#down === undefined)
      this.#markAvailable(pending);
    this.#scheduleCheck();
  }

  #scheduleCheck(): void {
    if (this.#checkTimer !== undefined || this.#closed || this.#pending.size === 0) return;
    this.#checkTimer = setTimeout(() => {
      this.#check()
        .catch((error: unknown) => this.#options.onError(asError(error)))
        .finally(() => {
          this.#checkTimer = undefined;
          this.#scheduleCheck();
        });
    }, this.#options.lockCheckInterval);
    this.#checkTimer.unref?.();
  }

  /** Reads where the job of every attempt in Redis stands, and acts on what is wrong (see liveness.ts). */
  async #check(): Promise<void> {
    if (this.#down !== undefined) return;
    const { queue, control } = await this.#connect();
    const out = [...this.#pending].filter(([, pending]) => pending.sent);
    const states = await readLiveness(
      control,
      out.map(([jobId]) => queue.toKey(jobId)),
    );
    out.forEach(([jobId, pending], i) => {
      if (this.#pending.get(jobId) === pending) this.#judge(jobId, pending, states[i] as JobLiveness);
    });
  }

  #judge(jobId: string, pending: PendingAttempt, state: JobLiveness): void {
    const finishedBefore = pending.finishedSeen;
    pending.finishedSeen = state === 'finished';
    if (state === 'locked') this.#started(jobId);
    else if (state === 'unlocked') this.#crash(jobId);
    else if (state === 'finished' && finishedBefore)
      this.#readOutcome(jobId).catch((error: unknown) => this.#options.onError(asError(error)));
    else if (state === 'gone' && !pending.started)
      this.#add(jobId, pending.request).catch((error: unknown) => this.#options.onError(asError(error)));
    else if (state === 'gone') {
      const { connection, queue } = this.#options;
      const error = new ExecutorUnavailableError(
        `${attemptLabel(pending.request)}: job \`${jobId}\` vanished from Redis at ${describeConnection(connection)} (queue \`${queue}\`) while a worker ran it: Redis restarted without its data, or the queue was emptied`,
      );
      this.#settle(jobId, (p) => p.reject(error));
    }
  }

  /** The worker of a taken job stopped renewing its lock: the attempt fails, and the job is removed so that no worker takes it again. */
  #crash(jobId: string): void {
    if (!this.#settle(jobId, (p) => p.reject(this.#crashed(p, jobId)))) return;
    void this.#connect()
      .then(({ queue }) => queue.remove(jobId))
      .catch((error: unknown) => this.#options.onError(asError(error)));
  }

  /** Tells the engine that an attempt nobody has taken waits for Redis, and starts its `unavailableTimeout`. */
  #markUnavailable(jobId: string, pending: PendingAttempt): void {
    if (pending.started || pending.unavailableTimer !== undefined) return;
    const { unavailableTimeout, connection, queue } = this.#options;
    const down = this.#down as Error;
    pending.unavailableTimer = setTimeout(() => {
      const error = new ExecutorUnavailableError(
        `${attemptLabel(pending.request)}: Redis at ${describeConnection(connection)} (queue \`${queue}\`) was unreachable for ${unavailableTimeout} ms before any worker took the attempt (${down.message})`,
        { cause: down },
      );
      this.#withdraw(jobId, pending, error);
    }, unavailableTimeout);
    pending.request.unavailable(down);
  }

  #markAvailable(pending: PendingAttempt): void {
    clearTimeout(pending.unavailableTimer);
    pending.unavailableTimer = undefined;
    pending.request.unavailable(undefined);
  }

  /** Redis stopped answering (`error`: why): every attempt no worker has taken waits, visibly. */
  #lost(error: Error): void {
    if (this.#closed) return;
    const first = this.#down === undefined;
    this.#down = error;
    if (first) for (const [jobId, pending] of this.#pending) this.#markUnavailable(jobId, pending);
  }

  /** Redis answers again: attempts whose job is in Redis wait for a worker as usual; the others, for their add. */
  #back(): void {
    if (this.#down === undefined) return;
    this.#down = undefined;
    for (const pending of this.#pending.values()) if (pending.sent && pending.unavailableTimer !== undefined) this.#markAvailable(pending);
  }

  /** Closes the queue, the event listener and every connection, each bounded by `closeTimeout`. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#checkTimer);
    for (const jobId of [...this.#pending.keys()]) {
      this.#settle(jobId, (p) =>
        p.reject(
          new ExecutorFailedError(
            `${attemptLabel(p.request)}: the BullMQExecutor for queue \`${this.#options.queue}\` closed before job \`${jobId}\` finished`,
          ),
        ),
      );
    }
    const connections = await this.#connections?.catch(() => undefined);
    if (connections === undefined) return;
    const timeout = this.#options.closeTimeout;
    await Promise.all([withTimeout(connections.events.close(), timeout), withTimeout(connections.queue.close(), timeout)]);
    await Promise.all(connections.clients.map((client) => closeClient(client, timeout)));
  }

  async #add(jobId: string, request: AttemptRequest): Promise<void> {
    const { queue } = await this.#connect();
    const data: JobData = {
      v: PROTOCOL_VERSION,
      taskId: request.taskId,
      name: request.name,
      attempt: request.attempt,
      handler: request.handler as string,
      args: request.args,
      ...(request.context.dependencies.length > 0 && { dependencies: toWire(request.context.dependencies) }),
      ...(request.context.lastHeartbeat !== undefined && { lastHeartbeat: request.context.lastHeartbeat }),
      ...(request.trace !== undefined && { trace: request.trace }),
      sender: this.#sender,
    };
    // Finished jobs stay for `keepFinished`, for an engine restarted meanwhile to find their outcome (see #reattach).
    const age = this.#options.keepFinishedSeconds;
    const keep = age === 0 ? true : { age };
    await queue.add(request.name, data, { jobId, attempts: 1, removeOnComplete: keep, removeOnFail: keep });
  }

  /**
   * An attempt an earlier process sent (restore): its job may be waiting, running, finished, or missing
   * (the process died before the add landed, or the finished job outlived `keepFinished`): then it is sent now.
   * Events from now on settle it as usual; what happened while no engine listened is read from the job.
   */
  async #reattach(jobId: string, request: AttemptRequest): Promise<void> {
    const { queue } = await this.#connect();
    const state = await queue.getJobState(jobId);
    if (state === 'unknown') return this.#add(jobId, request);
    if (state === 'active') this.#started(jobId);
    else if (state === 'completed' || state === 'failed') await this.#readOutcome(jobId);
  }

  /** Settles the attempt of a finished job from the job itself (its event came before anyone listened, or was lost). */
  async #readOutcome(jobId: string): Promise<void> {
    const { queue } = await this.#connect();
    const job = await queue.getJob(jobId);
    const pending = this.#pending.get(jobId);
    if (job === undefined || pending === undefined) return;
    // Another engine's finished job of the same id (being replaced by #duplicated) is not this attempt's outcome.
    if ((job.data as Partial<JobData>).sender !== this.#sender && !pending.request.resumed) return;
    const state = await job.getState();
    if (state === 'completed') this.#settle(jobId, (p) => this.#complete(p, jobId, job.returnvalue));
    else if (state === 'failed') this.#settle(jobId, (p) => p.reject(this.#failure(p, jobId, job.failedReason || 'unknown reason')));
  }

  /** A worker took the job: the attempt is RUNNING. */
  #started(jobId: string): void {
    const pending = this.#pending.get(jobId);
    if (pending === undefined || pending.started) return;
    pending.started = true;
    clearTimeout(pending.unavailableTimer);
    pending.unavailableTimer = undefined;
    pending.request.started();
  }

  /**
   * Some add of `jobId` found the id taken (every executor on the queue sees the event). When the job in Redis is
   * not this executor's, this attempt's add was the one refused: a finished job left by an earlier run of the same
   * task id (kept for `keepFinished`) is replaced; a live one means another engine runs this task id, and the
   * attempt fails without touching that job.
   */
  async #duplicated(jobId: string, pending: PendingAttempt): Promise<void> {
    const { queue } = await this.#connect();
    const job = await queue.getJob(jobId);
    if (job === undefined || (job.data as Partial<JobData>).sender === this.#sender) return;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      await queue.remove(jobId);
      if (this.#pending.get(jobId) === pending) await this.#add(jobId, pending.request);
      return;
    }
    this.#settle(jobId, (p) =>
      p.reject(
        new ExecutorFailedError(
          `${attemptLabel(p.request)}: queue \`${this.#options.queue}\` already holds a ${state} job \`${jobId}\` (another engine runs the same task id?); the attempt was not sent`,
        ),
      ),
    );
  }

  /** Removes a waiting job; a running one is told to stop through the cancel key and channel. */
  async #cancel(jobId: string, reason: unknown): Promise<void> {
    const { queue, control } = await this.#connect();
    // 1: removed while waiting (or already gone); 0: locked by a worker that runs it.
    if ((await queue.remove(jobId)) === 1) return;
    const text = describeReason(reason);
    await control.set(cancelKey(this.#options.prefix, this.#options.queue, jobId), text, 'PX', CANCEL_KEY_TTL_MS);
    await control.publish(cancelChannel(this.#options.prefix, this.#options.queue), JSON.stringify({ jobId, reason: text }));
  }

  #connect(): Promise<Connections> {
    this.#connections ??= this.#open();
    return this.#connections;
  }

  async #open(): Promise<Connections> {
    const { connection, prefix, queue: name, onError } = this.#options;
    const client = createClient(connection);
    const eventsClient = createClient(connection);
    const control = createClient(connection);
    const clients = [client, eventsClient, control];
    for (const c of clients) c.on('error', onError);
    // The queue's own client tells when Redis is gone and back (its commands are what an attempt waits for).
    client.on('error', (error: Error) => {
      if (client.status !== 'ready') this.#lost(error);
    });
    client.on('close', () => this.#lost(new Error(`lost the connection to ${describeConnection(connection)}`)));
    client.on('ready', () => this.#back());
    const queue = new Queue(name, { connection: client, prefix });
    queue.on('error', onError);
    const events = await startQueueEvents({ client, events: eventsClient, prefix, queue: name, onError });
    this.#listen(events);
    return { queue, events, clients, control };
  }

  #listen(events: QueueEvents): void {
    events.on('active', ({ jobId }) => this.#started(jobId));
    events.on('completed', ({ jobId, returnvalue }) => this.#settle(jobId, (p) => this.#complete(p, jobId, returnvalue)));
    events.on('failed', ({ jobId, failedReason }) => this.#settle(jobId, (p) => p.reject(this.#failure(p, jobId, failedReason))));
    // Back in `wait` with a deferred failure: #crash removes it, which keeps another worker from taking it.
    events.on('stalled', ({ jobId }) => this.#crash(jobId));
    events.on('duplicated', ({ jobId }) => {
      const pending = this.#pending.get(jobId);
      if (pending === undefined || pending.request.resumed) return; // re-attaching: the job found is this attempt's own
      this.#duplicated(jobId, pending).catch((error: unknown) => this.#settle(jobId, (p) => p.reject(this.#sendFailed(p, error))));
    });
    events.on('progress', ({ jobId, data }) => {
      const pending = this.#pending.get(jobId);
      if (pending === undefined || !isProgressData(data)) return;
      try {
        if (data.heartbeat === true) pending.request.context.heartbeat(data.details);
        if (data.fraction !== undefined) pending.request.context.progress(data.fraction, data.message);
      } catch (error) {
        this.#options.onError(asError(error));
      }
    });
  }

  #complete(pending: PendingAttempt, jobId: string, returnvalue: unknown): void {
    if (isResultEnvelope(returnvalue)) reportResourceErrors(pending.request, returnvalue);
    if (!isResultEnvelope(returnvalue)) {
      pending.reject(
        new ExecutorFailedError(
          `Expected job \`${jobId}\` of task ${labelOf(pending.request)} to return a taskchart result envelope, got ${describeReason(returnvalue).slice(0, 80)} (is the queue processed by \`taskchart worker\`?)`,
        ),
      );
    } else if (returnvalue.status === 'ok') pending.resolve(returnvalue.value);
    else if (returnvalue.status === 'error' && returnvalue.error) pending.reject(deserializeError(returnvalue.error));
    else {
      // Not asked for by this executor (its own cancels settle first): the worker shut down under the attempt.
      const why = returnvalue.error ? `: ${returnvalue.error.message}` : '';
      pending.reject(
        new WorkerCrashedError(
          `The remote worker running task ${labelOf(pending.request)} (attempt ${pending.request.attempt}) cancelled it${why}`,
          { worker: 'process' },
        ),
      );
    }
  }

  /** BullMQ failed the job: the stall limit (a dead worker), or the processor could not run at all. */
  #failure(pending: PendingAttempt, jobId: string, failedReason: string): Error {
    if (failedReason === STALLED_REASON) return this.#crashed(pending, jobId);
    return new ExecutorFailedError(`${attemptLabel(pending.request)}: BullMQ failed job \`${jobId}\`: ${failedReason}`);
  }

  /** Sending the job failed (a Redis or BullMQ error): the attempt fails with the executor's error, the cause kept. */
  #sendFailed(pending: PendingAttempt, error: unknown): Error {
    if (error instanceof TaskChartError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new ExecutorFailedError(`${attemptLabel(pending.request)} could not be sent to queue \`${this.#options.queue}\`: ${message}`, {
      cause: error,
    });
  }

  #crashed(pending: PendingAttempt, jobId: string): WorkerCrashedError {
    return new WorkerCrashedError(
      `The remote worker running task ${labelOf(pending.request)} (attempt ${pending.request.attempt}, job \`${jobId}\` in queue \`${this.#options.queue}\`) stopped renewing its lock: it died or hung`,
      { worker: 'process' },
    );
  }

  /** Removes the attempt from `#pending` and runs `action` on it; false when it had already settled. */
  #settle(jobId: string, action: (pending: PendingAttempt) => void): boolean {
    const pending = this.#pending.get(jobId);
    if (pending === undefined) return false;
    this.#pending.delete(jobId);
    clearTimeout(pending.unavailableTimer);
    action(pending);
    return true;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The task of an attempt as messages name it (taskLabel). */
function labelOf(request: { readonly taskId: string; readonly name: string }): string {
  return taskLabel({ id: request.taskId, name: request.name });
}

/**
 * Disposers that threw in the remote worker: each is raised here by a disposer of the attempt, so the engine reports
 * it as a `resource-error` event exactly as it does its own disposers' errors (at once when the attempt is over).
 */
function reportResourceErrors(request: AttemptRequest, envelope: ResultEnvelope): void {
  for (const serialized of envelope.resourceErrors ?? []) {
    const error = deserializeError(serialized);
    request.context.registerResource(() => {
      throw error;
    });
  }
}

/** A dependency result that JSON cannot carry to the worker (`ctx.dependencies`): the attempt fails with it, not retried. */
function nonJsonDependency(request: AttemptRequest): ResultNotCloneableError | undefined {
  for (const dependency of request.context.dependencies) {
    const problem = dependency.result === undefined ? undefined : findNonJson(dependency.result, 'the result');
    if (problem === undefined) continue;
    return new ResultNotCloneableError(
      dependency,
      `JSON-safe (null, booleans, strings, finite numbers, arrays and plain objects) to reach remote task ${taskLabel({ id: request.taskId, name: request.name })} in ctx.dependencies`,
      problem,
    );
  }
  return undefined;
}
