/**
 * The public types of `taskchart/bullmq`, described structurally: nothing here imports from `bullmq` or
 * `ioredis`, so a program type-checks against taskchart's declarations (even with `skipLibCheck: false`)
 * whether or not those optional peer dependencies are installed. The values they describe are still
 * ioredis and BullMQ objects.
 */
import type { TaskFunction } from '../task-spec.js';

/**
 * ioredis connection options (`RedisOptions`). The fields taskchart reads are typed here; any other ioredis
 * option is passed on to ioredis as given.
 */
export interface RedisConnectionOptions {
  readonly host?: string;
  readonly port?: number;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
  readonly [option: string]: unknown;
}

/** An ioredis client (`new Redis(...)`). taskchart duplicates it for each of its connections and never uses, nor closes, it. */
export interface RedisClient {
  duplicate(override?: object): unknown;
  readonly options: { readonly host?: string; readonly port?: number };
}

/** Where Redis is: a `redis://` / `rediss://` URL, ioredis options, or an ioredis instance to duplicate. */
export type RedisConnection = string | RedisConnectionOptions | RedisClient;

/** The options of `new BullMQExecutor(options)`. */
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

/** The options of `createWorker(options)`. */
export interface CreateWorkerOptions {
  readonly connection: RedisConnection;
  readonly queue: string;
  /** The functions remote tasks name with `handler`, called as `fn(ctx, ...args)`. */
  readonly handlers: Readonly<Record<string, TaskFunction>> | ReadonlyMap<string, TaskFunction>;
  /** Jobs run at once in this process. @default 1 */
  readonly concurrency?: number;
  /** BullMQ key prefix, the same as the executor's. @default 'bull' */
  readonly prefix?: string;
  /**
   * How long a job's lock lasts without renewal (renewed every half of it); a worker that dies, or blocks
   * its event loop for longer, is taken for crashed about this long after. @default 4000
   */
  readonly lockDuration?: number;
  /** How often BullMQ's stalled check runs; queue-wide, so every worker must use the same value. @default 4000 */
  readonly stalledInterval?: number;
  /** Receives connection errors and errors of progress updates and disposers. @default ignore them */
  readonly onError?: (error: unknown) => void;
}

/**
 * BullMQ's `Worker`, described by the part of its API that needs no BullMQ types. It is the real Worker:
 * with bullmq installed, `worker as import('bullmq').Worker` gives its whole API, with typed events.
 */
export interface BullMQWorker {
  /** The queue's name. */
  readonly name: string;
  isRunning(): boolean;
  isPaused(): boolean;
  /** Stops fetching jobs (running ones go on unless `doNotWaitActive`). */
  pause(doNotWaitActive?: boolean): Promise<void>;
  resume(): void;
  // The listener's arguments depend on the event (BullMQ's `WorkerListener`), which this type does not name.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** A running worker; `W` is the type its BullMQ Worker is seen as. */
export interface TaskchartWorker<W = BullMQWorker> {
  readonly worker: W;
  /** Resolves once the worker is connected and fetching jobs. */
  readonly ready: Promise<void>;
  /** Aborts the signal of every attempt running in this process (their jobs complete as `cancelled`). */
  cancelAll(reason: string): void;
  /**
   * Stops fetching, waits for running attempts (`force`: does not wait, leaving them to stall),
   * then closes every connection, each bounded by `timeoutMs`.
   */
  close(options?: { readonly force?: boolean; readonly timeoutMs?: number }): Promise<void>;
}
