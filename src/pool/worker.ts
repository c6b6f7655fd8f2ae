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
import { MissingExportError, ModuleLoadError, ResultNotCloneableError, taskLabel } from '../errors.js';
import { loadWorkerSide } from '../otel/load.js';
import { findUncloneable } from '../wire/cloneable.js';
import { fromWire } from '../wire/dependencies.js';
import { serializeError } from '../wire/errors.js';
import { checkDisposer, checkpointOf, checkProgress, runDisposers, type Disposer } from '../wire/task-context.js';
import {
  CLONEABLE_RESULT,
  RUN_METHOD,
  type HeartbeatMessage,
  type ResourceErrorMessage,
  type ResultEnvelope,
  type WorkerAttempt,
} from './protocol.js';

type TaskFn = (ctx: unknown, ...args: unknown[]) => unknown;

interface Current {
  readonly attempt: WorkerAttempt;
  readonly controller: AbortController;
  readonly disposers: Disposer[];
  ended: boolean;
}

/** The attempt running in this thread (a worker runs one at a time). */
let current: Current | undefined;
let abortListenerAdded = false;

/** Ends the attempt and runs its disposers; a disposer's error goes to the engine, which reports it as a resource-error event. */
function endAttempt(state: Current): Promise<void> {
  state.ended = true;
  return runDisposers(state.disposers.splice(0), (error) => reportDisposerError(state, error));
}

function reportDisposerError(state: Current, error: unknown): void {
  const { taskId, attempt } = state.attempt;
  workerpool.workerEmit({ kind: 'taskchart.resource-error', taskId, attempt, error: serializeError(error) } satisfies ResourceErrorMessage);
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
    await endAttempt(state);
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
  const task = { id: attempt.taskId, name: attempt.name };
  const url = attempt.module as string;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new ModuleLoadError(task, url, { cause: error });
  }
  const fn = module[attempt.exportName];
  if (typeof fn !== 'function') throw new MissingExportError(task, url, attempt.exportName, Object.keys(module));
  return fn as TaskFn;
}

/** Explains the usual cause of a ReferenceError in an inline pool `fn`. */
function explainClosure(error: unknown, attempt: WorkerAttempt): unknown {
  if (attempt.source === undefined || !(error instanceof ReferenceError)) return error;
  const explained = new ReferenceError(
    `${error.message} in the \`fn\` of pool task ${taskLabel({ id: attempt.taskId, name: attempt.name })}. A pool task's inline fn is sent to a worker thread as source text ` +
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
  const state: Current = { attempt, controller: new AbortController(), disposers: [], ended: false };
  current = state;
  const ctx = {
    id: attempt.taskId,
    name: attempt.name,
    attempt: attempt.attempt,
    dependencies: fromWire(attempt.dependencies),
    lastHeartbeat: attempt.lastHeartbeat,
    signal: state.controller.signal,
    progress(fraction: unknown, message?: unknown) {
      checkProgress(fraction, message);
      if (state.ended) return;
      workerpool.workerEmit({
        kind: 'taskchart.progress',
        taskId: attempt.taskId,
        attempt: attempt.attempt,
        progress: fraction,
        message: message as string | undefined,
      });
    },
    heartbeat(details?: unknown) {
      const checkpoint = checkpointOf(details); // refused here, where the task can catch it, not in workerEmit
      if (state.ended) return;
      const message: HeartbeatMessage = { kind: 'taskchart.heartbeat', taskId: attempt.taskId, attempt: attempt.attempt };
      workerpool.workerEmit(checkpoint === undefined ? message : { ...message, details: checkpoint });
    },
    registerResource(dispose: unknown) {
      checkDisposer(dispose);
      if (state.ended) void runDisposers([dispose], (error) => reportDisposerError(state, error));
      else state.disposers.push(dispose);
    },
  };
  let envelope: ResultEnvelope;
  let transferList: TransferListItem[] | undefined;
  try {
    const fn = await resolveFunction(attempt);
    let value = attempt.trace === undefined ? await fn(ctx, ...attempt.args) : await traced(attempt.trace, () => fn(ctx, ...attempt.args));
    if (value instanceof workerpool.Transfer) {
      transferList = value.transfer as TransferListItem[];
      value = value.message;
    }
    const problem = findUncloneable(value, 'result');
    if (problem !== undefined) throw new ResultNotCloneableError({ id: attempt.taskId, name: attempt.name }, CLONEABLE_RESULT, problem);
    envelope = { ok: true, value };
  } catch (error) {
    envelope = { ok: false, error: serializeError(explainClosure(error, attempt)) };
  } finally {
    await endAttempt(state);
    if (current === state) current = undefined;
  }
  return transferList ? new workerpool.Transfer(envelope, transferList) : envelope;
}

/** Calls `call` with the carried attempt span active (taskchart/otel), or plainly where @opentelemetry/api is missing. */
async function traced(carrier: Readonly<Record<string, string>>, call: () => unknown): Promise<unknown> {
  const side = await loadWorkerSide();
  return side === undefined ? call() : side.activate(carrier, call);
}

workerpool.worker({ [RUN_METHOD]: run });
