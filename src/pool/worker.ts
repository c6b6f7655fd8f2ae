/**
 * The worker entry every pool thread runs. It imports the task's module by
 * file URL (the runtime caches it per worker), or rebuilds a self-contained
 * inline `fn` from its source; builds the worker-side ctx; calls
 * `fn(ctx, ...args)`; runs the disposers registered in this thread when the
 * attempt ends; and answers with a plain-data envelope.
 *
 * On cancel or timeout the main side asks the worker to clean up: the one
 * abort listener aborts ctx.signal and runs the disposers; then the pool
 * terminates the thread (a thread stuck in a loop cannot even run the
 * listener, and is killed the same way).
 */
import type { TransferListItem } from 'node:worker_threads';
import workerpool from 'workerpool';
import { RUN_METHOD, serializeError, type ResultEnvelope, type WorkerAttempt } from './protocol.js';

type Disposer = () => void | Promise<void>;
type TaskFn = (ctx: unknown, ...args: unknown[]) => unknown;

interface Current {
  readonly controller: AbortController;
  readonly disposers: Disposer[];
  ended: boolean;
}

/** The attempt running in this thread (a worker runs one at a time). */
let current: Current | undefined;
let abortListenerAdded = false;

async function runDisposers(state: Current): Promise<void> {
  state.ended = true;
  const disposers = state.disposers.splice(0);
  for (let i = disposers.length - 1; i >= 0; i--) {
    try {
      await (disposers[i] as Disposer)();
    } catch {
      // A disposer's error never changes the attempt's outcome.
    }
  }
}

/**
 * Runs when the main side cancels the attempt (cancel, timeout, shutdown):
 * aborts ctx.signal and runs the disposers, then never settles. The pool
 * then terminates this thread after its terminate timeout, the same path a
 * thread stuck in a loop takes. (Rejecting here instead makes the thread exit
 * from inside workerpool's cleanup, which leaves the pool counting it busy.)
 */
async function onAbort(): Promise<void> {
  const state = current;
  if (state !== undefined) {
    state.controller.abort(new DOMException('The attempt was cancelled or timed out', 'AbortError'));
    await runDisposers(state);
  }
  return new Promise<void>(() => {});
}

/** Functions already resolved in this thread, by module and export (or by source). */
const resolved = new Map<string, TaskFn>();

function resolveFunction(attempt: WorkerAttempt): TaskFn | Promise<TaskFn> {
  const key = attempt.source ?? `${attempt.module}#${attempt.exportName}`;
  const cached = resolved.get(key);
  if (cached !== undefined) return cached;
  return loadFunction(attempt).then((fn) => {
    resolved.set(key, fn);
    return fn;
  });
}

async function loadFunction(attempt: WorkerAttempt): Promise<TaskFn> {
  if (attempt.source !== undefined) return new Function(`return (${attempt.source});`)() as TaskFn;
  let module: Record<string, unknown>;
  try {
    module = (await import(attempt.module as string)) as Record<string, unknown>;
  } catch (error) {
    const wrapped = new Error(`Cannot load module \`${attempt.module}\` for pool task \`${attempt.taskId}\`: ${(error as Error).message}`, { cause: error });
    (wrapped as Error & { code?: unknown }).code = (error as { code?: unknown }).code ?? 'ERR_MODULE_LOAD';
    throw wrapped;
  }
  const fn = module[attempt.exportName];
  if (typeof fn !== 'function') {
    const exports = Object.keys(module).join(', ') || 'none';
    const error = new Error(
      `Module \`${attempt.module}\` has no function export \`${attempt.exportName}\` (its exports: ${exports}) for pool task \`${attempt.taskId}\``,
    );
    (error as Error & { code?: string }).code = 'ERR_MISSING_EXPORT';
    throw error;
  }
  return fn as TaskFn;
}

/** Explains the usual cause of a ReferenceError in an inline pool `fn`. */
function explainClosure(error: unknown, attempt: WorkerAttempt): unknown {
  if (attempt.source === undefined || !(error instanceof ReferenceError)) return error;
  const explained = new ReferenceError(
    `${error.message} in the \`fn\` of pool task \`${attempt.taskId}\`. A pool task's inline fn is sent to a worker thread as source text ` +
      'and runs there without its closure: it can use only its arguments, globals and import(). Pass values in `args`, or use `module`.',
  );
  explained.stack = error.stack;
  return explained;
}

async function run(this: { worker: { addAbortListener(listener: () => Promise<void>): void } }, attempt: WorkerAttempt) {
  if (!abortListenerAdded) {
    this.worker.addAbortListener(onAbort);
    abortListenerAdded = true;
  }
  const state: Current = { controller: new AbortController(), disposers: [], ended: false };
  current = state;
  const ctx = {
    id: attempt.taskId,
    name: attempt.name,
    attempt: attempt.attempt,
    signal: state.controller.signal,
    progress(fraction: unknown, message?: unknown) {
      if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
        throw new TypeError(`Expected \`fraction\` to be a number from 0 to 1, got \`${String(fraction)}\``);
      }
      if (state.ended) return;
      workerpool.workerEmit({ kind: 'taskchart.progress', taskId: attempt.taskId, attempt: attempt.attempt, progress: fraction, message: message === undefined ? undefined : String(message) });
    },
    registerResource(dispose: unknown) {
      if (typeof dispose !== 'function') throw new TypeError('Expected `dispose` to be a function');
      if (state.ended) void Promise.resolve().then(dispose as Disposer).catch(() => {});
      else state.disposers.push(dispose as Disposer);
    },
  };
  let envelope: ResultEnvelope;
  let transferList: TransferListItem[] | undefined;
  try {
    const fn = await resolveFunction(attempt);
    let value = await fn(ctx, ...attempt.args);
    if (value instanceof workerpool.Transfer) {
      transferList = value.transfer as TransferListItem[];
      value = value.message;
    }
    envelope = { ok: true, value };
  } catch (error) {
    envelope = { ok: false, error: serializeError(explainClosure(error, attempt)) };
  } finally {
    await runDisposers(state);
    if (current === state) current = undefined;
  }
  return transferList ? new workerpool.Transfer(envelope, transferList) : envelope;
}

workerpool.worker({ [RUN_METHOD]: run });
