/**
 * The `pool` executor: runs attempts in worker threads through workerpool.
 *
 * The supervisor never hands it more attempts than it has workers
 * (`concurrency` = maxWorkers), so workerpool never queues work of its own:
 * its queue can leave a task pending after a worker crash (workerpool
 * 10.0.3). An aborted attempt (timeout, cancel, shutdown) terminates its
 * thread, and the promise returned by `execute` settles only when that
 * thread is gone, so the next attempt finds a free worker.
 */
import { fileURLToPath } from 'node:url';
import type { TransferListItem } from 'node:worker_threads';
import workerpool from 'workerpool';
import { ExecutorFailedError, InvalidOptionError, ResultNotCloneableError, taskLabel, WorkerCrashedError } from '../errors.js';
import { attemptLabel, type AttemptRequest, type Executor } from '../executors/executor.js';
import type { TaskKind } from '../task-spec.js';
import { invalid } from '../validate.js';
import { findUncloneable } from '../wire/cloneable.js';
import { toWire } from '../wire/dependencies.js';
import { deserializeError } from '../wire/errors.js';
import {
  CLONEABLE_RESULT,
  RUN_METHOD,
  isProgressMessage,
  isHeartbeatMessage,
  isResourceErrorMessage,
  type ResultEnvelope,
  type WorkerAttempt,
} from './protocol.js';

/**
 * How long an aborted attempt's thread gets to run its worker-side disposers
 * before the pool terminates it; a thread stuck in a loop is killed after
 * twice this (workerpool waits once for cleanup, once for a clean exit).
 */
const TERMINATE_TIMEOUT_MS = 50;
/** If an aborted thread is somehow never seen to end, its slot is freed after this anyway. */
const TERMINATION_FALLBACK_MS = 10 * TERMINATE_TIMEOUT_MS + 1000;
/** How often the pool's counts are read while aborted attempts wait for their thread. */
const POLL_MS = 10;

interface Waiter {
  readonly deadline: number;
  readonly release: () => void;
}

export interface PoolExecutorOptions {
  readonly maxWorkers: number;
  readonly minWorkers: number;
}

type WorkerPool = ReturnType<typeof workerpool.pool>;

export class PoolExecutor implements Executor {
  readonly concurrency: number;
  readonly #options: PoolExecutorOptions;
  #pool: WorkerPool | undefined;
  /** Aborted attempts waiting for their thread to be gone, oldest first. */
  #awaitingTermination: Waiter[] = [];
  #poll: ReturnType<typeof setInterval> | undefined;
  /** Attempts executing in a thread and not aborted. */
  #live = 0;
  /** The same waits as promises, so close() lets aborted threads clean up before terminating the pool. */
  readonly #terminations = new Set<Promise<void>>();

  constructor(options: PoolExecutorOptions) {
    this.#options = options;
    this.concurrency = options.maxWorkers;
  }

  validate(spec: { readonly kind: TaskKind; readonly fn: unknown; readonly args: readonly unknown[] }): void {
    checkArgs(spec.args);
    if (spec.kind !== 'fn') return;
    const source = Function.prototype.toString.call(spec.fn);
    try {
      // Parses only: the body does not run here.
      new Function(`return (${source});`);
    } catch {
      throw invalid(
        'fn',
        'a self-contained function written as `function (...) {}` or an arrow function (a pool fn is sent to a worker as source text; methods, bound and native functions cannot be)',
        spec.fn,
      );
    }
  }

  execute(request: AttemptRequest): Promise<unknown> {
    let running: ReturnType<WorkerPool['exec']> | undefined;
    let aborted = false;
    let abortReason: unknown;
    let onAbort: (() => void) | undefined;
    // No AbortController on this side: the worker has its own signal, and stopping means terminating the thread.
    request.whenAborted((reason) => {
      aborted = true;
      abortReason = reason;
      onAbort?.();
    });
    if (aborted) return Promise.reject(abortReason);
    // The arguments were checked at registration; the dependencies' results (ctx.dependencies) are checked here,
    // since workerpool sends on a later tick, where a clone failure would reach no one.
    const unsendable = uncloneableDependency(request);
    if (unsendable !== undefined) return Promise.reject(unsendable);
    const attempt: WorkerAttempt = {
      taskId: request.taskId,
      name: request.name,
      attempt: request.attempt,
      module: request.module,
      exportName: request.exportName,
      source: request.module === undefined ? Function.prototype.toString.call(request.fn) : undefined,
      args: request.args,
      ...(request.context.dependencies.length > 0 && { dependencies: toWire(request.context.dependencies) }),
      ...(request.context.lastHeartbeat !== undefined && { lastHeartbeat: request.context.lastHeartbeat }),
      ...(request.trace !== undefined && { trace: request.trace }),
    };
    try {
      running = this.#exec(attempt, request);
    } catch (error) {
      // Sending failed: the arguments (checked at registration) could not be cloned after all, or the pool could not start.
      return Promise.reject(explainSendFailure(error, request));
    }
    const pending = running;
    this.#live++;
    let live = true;
    const ended = () => {
      if (live) this.#live--;
      live = false;
    };
    return new Promise((resolve, reject) => {
      onAbort = () => {
        ended();
        pending.cancel();
      };
      pending.then(
        (envelope: ResultEnvelope) => {
          ended();
          onAbort = undefined;
          if (envelope.ok) resolve(envelope.value);
          else reject(deserializeError(envelope.error));
        },
        (error: unknown) => {
          ended();
          onAbort = undefined;
          if (error instanceof workerpool.Promise.CancellationError || error instanceof workerpool.Promise.TimeoutError) {
            this.#afterTermination(() => reject(abortReason));
          } else reject(this.#explain(error, request));
        },
      );
    });
  }

  #exec(attempt: WorkerAttempt, request: AttemptRequest): ReturnType<WorkerPool['exec']> {
    return this.#ensurePool().exec(RUN_METHOD, [attempt], {
      on: (payload: unknown) => {
        // The attempt's tag guards against a late message from an earlier task on the same thread.
        if (isProgressMessage(payload) && payload.taskId === attempt.taskId && payload.attempt === attempt.attempt) {
          request.context.progress(payload.progress, payload.message);
        } else if (isHeartbeatMessage(payload) && payload.taskId === attempt.taskId && payload.attempt === attempt.attempt) {
          request.context.heartbeat(payload.details);
        } else if (isResourceErrorMessage(payload) && payload.taskId === attempt.taskId && payload.attempt === attempt.attempt) {
          // Reported as the engine reports its own disposers' errors: a disposer that throws it, run at the
          // terminal status (at once when the attempt is over), whose error becomes a `resource-error` event.
          const error = deserializeError(payload.error);
          request.context.registerResource(() => {
            throw error;
          });
        }
      },
      ...(request.transfer.length > 0 && { transfer: request.transfer as TransferListItem[] }),
    });
  }

  /** Lets aborted threads finish their cleanup (worker-side disposers), then terminates every worker. */
  async close(): Promise<void> {
    await Promise.all([...this.#terminations]);
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool !== undefined) await pool.terminate(true);
  }

  #ensurePool(): WorkerPool {
    this.#pool ??= workerpool.pool(workerEntry(), {
      workerType: 'thread',
      maxWorkers: this.#options.maxWorkers,
      minWorkers: this.#options.minWorkers,
      workerTerminateTimeout: TERMINATE_TIMEOUT_MS,
      workerThreadOpts: { execArgv: threadExecArgv(process.execArgv) },
    });
    return this.#pool;
  }

  /**
   * Runs `release` once the pool has a thread fewer busy than before this
   * abort. workerpool reports no event on every path a thread ends by (kill,
   * exit from the abort listener, crash), so while aborted attempts wait, the
   * executor polls the pool's counts: a thread is busy either with a live
   * attempt or with an aborted one, so `busy - live` threads are still
   * finishing aborted attempts, and the other waiters can be released.
   */
  #afterTermination(release: () => void): void {
    let settle!: () => void;
    const termination = new Promise<void>((resolve) => (settle = resolve));
    this.#terminations.add(termination);
    const entry: Waiter = {
      deadline: Date.now() + TERMINATION_FALLBACK_MS,
      release: () => {
        this.#terminations.delete(termination);
        settle();
        release();
      },
    };
    this.#awaitingTermination.push(entry);
    this.#poll ??= setInterval(() => this.#releaseTerminated(), POLL_MS);
  }

  #releaseTerminated(): void {
    const stats = this.#pool?.stats();
    const stillFinishing = stats === undefined ? 0 : Math.max(0, stats.busyWorkers - this.#live);
    const now = Date.now();
    while (this.#awaitingTermination.length > stillFinishing || (this.#awaitingTermination[0]?.deadline ?? Infinity) <= now) {
      this.#awaitingTermination.shift()?.release();
    }
    if (this.#awaitingTermination.length === 0 && this.#poll !== undefined) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
  }

  /**
   * The worker entry never rejects (a task's error comes back in the
   * envelope), so a rejection from workerpool is either the thread dying or
   * the envelope failing to cross the thread boundary.
   */
  #explain(error: unknown, request: AttemptRequest): Error {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof workerpool.TerminateError || /Worker (terminated|error|terminating)/i.test(message)) {
      return new WorkerCrashedError(
        `The worker thread running task ${taskLabel({ id: request.taskId, name: request.name })} (attempt ${request.attempt}) died: ${message.split('\n')[0]}`,
        { cause: error },
      );
    }
    // The worker checks its result first (naming where it fails), so this is what that check lets through.
    const task = { id: request.taskId, name: request.name };
    if (isCloneFailure(error, message)) {
      return new ResultNotCloneableError(task, CLONEABLE_RESULT, `structured clone refused it${message ? ` (${message})` : ''}`, {
        cause: error,
      });
    }
    return new ExecutorFailedError(`${attemptLabel(request)}: the worker pool failed to run it: ${message}`, { cause: error });
  }
}

/** Node's errors for a message that cannot be posted as it is (an object that must be transferred). */
const CLONE_FAILURE_CODES: ReadonlySet<unknown> = new Set([
  'ERR_MISSING_TRANSFERABLE_IN_TRANSFER_LIST',
  'ERR_MISSING_MESSAGE_PORT_IN_TRANSFER_LIST',
]);

/** Whether posting the result failed. workerpool turns a DataCloneError into an error with no message (a DOMException has no own fields). */
function isCloneFailure(error: unknown, message: string): boolean {
  if (message === '') return true;
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'DataCloneError' || CLONE_FAILURE_CODES.has((error as { code?: unknown }).code) || /could not be cloned/.test(message)
  );
}

function explainSendFailure(error: unknown, request: AttemptRequest): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (isCloneFailure(error, message)) {
    return new InvalidOptionError(
      'args',
      `Expected \`args\` of pool task ${taskLabel({ id: request.taskId, name: request.name })} to be structured-cloneable, got ones the structured clone refused (${message})`,
      { cause: error },
    );
  }
  return new ExecutorFailedError(`${attemptLabel(request)}: the worker pool could not take it: ${message}`, { cause: error });
}

/** The built worker entry; from TypeScript sources (tests) it is the one in dist/. */
function workerEntry(): string {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/pool/worker.js', here) : new URL('./worker.js', here);
  return fileURLToPath(url);
}

/** Pool task arguments cross to a worker by structured clone: refuse at registration what cannot. */
function checkArgs(args: readonly unknown[]): void {
  let problem: string | undefined;
  try {
    problem = findUncloneable(args, 'args');
  } catch (error) {
    problem = `args could not be read (${error instanceof Error ? error.message : String(error)})`;
  }
  if (problem !== undefined) {
    throw new InvalidOptionError(
      'args',
      `Expected \`args\` of a pool task to be structured-cloneable (plain data, Map, Set, Date, ArrayBuffers, typed arrays): ${problem}, which cannot be sent to a worker thread`,
    );
  }
}

/**
 * The Node options a pool thread starts with: the process's, as Worker's default, without `--input-type`, which
 * only the process's own `-e` source can have: a thread given it fails to start (`node --input-type=module -e ...`).
 */
export function threadExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (arg === '--input-type')
      i++; // and its value
    else if (!arg.startsWith('--input-type=')) kept.push(arg);
  }
  return kept;
}

/** A dependency result that cannot be cloned to the worker (`ctx.dependencies`): the attempt fails with it, not retried. */
function uncloneableDependency(request: AttemptRequest): ResultNotCloneableError | undefined {
  for (const dependency of request.context.dependencies) {
    const problem = findUncloneable(dependency.result, 'the result');
    if (problem === undefined) continue;
    return new ResultNotCloneableError(
      dependency,
      `structured-cloneable to reach pool task ${taskLabel({ id: request.taskId, name: request.name })} in ctx.dependencies`,
      problem,
    );
  }
  return undefined;
}
