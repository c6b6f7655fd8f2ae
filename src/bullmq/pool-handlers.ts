/**
 * Handlers that run in worker threads: `taskchart worker --pool`. Each job's
 * handler is the export of the same name of the handlers module, called in a
 * thread of a local pool (the engine's own pool executor), so CPU-bound work
 * runs in parallel and never blocks the worker's event loop, which renews the
 * jobs' locks: a handler that blocked it longer than `lockDuration` would be
 * taken for a dead worker. A cancel from the engine terminates the thread.
 */
import { PoolExecutor } from '../pool/pool-executor.js';
import type { AttemptRequest } from '../executors/executor.js';
import { resolveModule, type TaskContext, type TaskFunction } from '../task-spec.js';
import { invalid } from '../validate.js';
import { traceCarrierOf } from './worker-context.js';

export interface PoolHandlers {
  /** One function a name, each sending its call to a thread. */
  readonly handlers: ReadonlyMap<string, TaskFunction>;
  /** Lets aborted threads clean up, then terminates every thread. */
  close(): Promise<void>;
}

/**
 * Thread-run stand-ins for `names`, exports of `module` (a path or file URL, as a pool task's `module`; its named function exports, since a
 * thread imports the module and calls `module[name](ctx, ...args)`), on a pool of `threads` threads.
 * @throws InvalidOptionError for a bad `module` or `threads`.
 *
 * @example
 * const pool = poolHandlers('./handlers.js', ['render'], 4);
 * const worker = createWorker({ connection, queue: 'renders', handlers: pool.handlers, concurrency: 4 });
 */
export function poolHandlers(module: string | URL, names: Iterable<string>, threads: number): PoolHandlers {
  // The same module rules as a pool task's `module` (a path relative to the working directory, or a file: URL).
  const moduleUrl = resolveModule(module);
  if (moduleUrl === undefined) throw invalid('module', 'a non-empty path or a file: URL', module);
  if (!(Number.isSafeInteger(threads) && threads >= 1)) throw invalid('threads', 'an integer >= 1', threads);
  const executor = new PoolExecutor({ maxWorkers: threads, minWorkers: 0 });
  const handlers = new Map<string, TaskFunction>();
  for (const name of names) {
    handlers.set(name, (ctx: TaskContext, ...args: unknown[]) => executor.execute(requestFor(ctx, moduleUrl, name, args)));
  }
  return { handlers, close: () => executor.close() };
}

function requestFor(ctx: TaskContext, module: string, exportName: string, args: readonly unknown[]): AttemptRequest {
  const trace = traceCarrierOf(ctx);
  return {
    ...(trace !== undefined && { trace }),
    taskId: ctx.id,
    name: ctx.name,
    attempt: ctx.attempt,
    args,
    fn: undefined,
    handler: undefined,
    module,
    exportName,
    context: ctx,
    whenAborted(listener) {
      if (ctx.signal.aborted) listener(ctx.signal.reason);
      else ctx.signal.addEventListener('abort', () => listener(ctx.signal.reason), { once: true });
    },
    transfer: [],
    started: () => {},
    unavailable: () => {},
    resumed: false,
  };
}
