/**
 * The context a remote handler receives in the worker process: the same
 * shape as an engine-side TaskContext (`id`, `name`, `attempt`, `signal`,
 * `progress`, `heartbeat`, `lastHeartbeat`, `registerResource`). Progress and
 * heartbeats go to Redis at most once per {@link PROGRESS_INTERVAL_MS} (the
 * latest of each wins, and the last update is flushed before the attempt's
 * result); disposers run when the attempt ends, newest first.
 */
import type { TaskContext } from '../task-spec.js';
import { fromWire } from '../wire/dependencies.js';
import { InvalidOptionError } from '../errors.js';
import { checkDisposer, checkProgress, runDisposers, type Disposer } from '../wire/task-context.js';
import { findNonJson } from './json-safe.js';
import type { JobData, ProgressData } from './protocol.js';

/** The least time between two progress updates sent to Redis for one attempt. */
export const PROGRESS_INTERVAL_MS = 100;

/** A worker-side context and what the processor does when the attempt ends. */
export interface WorkerContext {
  readonly context: TaskContext;
  /** Sends a held-back progress update, then runs the disposers (newest first); never throws. */
  finish(): Promise<void>;
}

/** The trace context of each attempt's CONSUMER span (taskchart/otel), by the attempt's ctx: `--pool` handlers carry it to their thread. */
const traceCarriers = new WeakMap<TaskContext, Readonly<Record<string, string>>>();

/** The trace context (W3C) of the CONSUMER span the attempt of `ctx` runs in, when the engine that sent it is instrumented. */
export function traceCarrierOf(ctx: TaskContext): Readonly<Record<string, string>> | undefined {
  return traceCarriers.get(ctx);
}

export function createWorkerContext(options: {
  readonly data: JobData;
  /** The trace context of the attempt's CONSUMER span (taskchart/otel), for `--pool` handlers. */
  readonly trace?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly sendProgress: (progress: ProgressData) => Promise<void>;
  readonly onError: (error: unknown) => void;
  /** A disposer threw (when absent, `onError` hears of it). */
  readonly onDisposerError?: (error: unknown) => void;
}): WorkerContext {
  const { data, signal, onError } = options;
  const disposers: Disposer[] = [];
  let lastSent = -Infinity;
  let held: ProgressData | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending: Promise<void> = Promise.resolve();
  /** Holds `update` (merged with what is held already) and sends it once the interval allows. */
  const update = (next: ProgressData): void => {
    const merged: ProgressData = held === undefined ? next : { ...held, ...next };
    const wait = lastSent + PROGRESS_INTERVAL_MS - Date.now();
    if (wait <= 0 && timer === undefined) return send(merged);
    held = merged;
    timer ??= setTimeout(
      () => {
        timer = undefined;
        if (held !== undefined) send(held);
      },
      Math.max(0, wait),
    );
  };
  const send = (progress: ProgressData): void => {
    lastSent = Date.now();
    held = undefined;
    // One update at a time, in order.
    sending = sending.then(() => options.sendProgress(progress)).catch(onError);
  };
  const context: TaskContext = {
    id: data.taskId,
    name: data.name,
    attempt: data.attempt,
    dependencies: fromWire(data.dependencies),
    lastHeartbeat: data.lastHeartbeat,
    signal,
    progress(fraction: number, message?: string): void {
      checkProgress(fraction, message);
      // A progress update replaces the held one's message too (absent: none).
      update(message === undefined ? { fraction, message: undefined } : { fraction, message });
    },
    heartbeat(details?: unknown): void {
      if (details === undefined) return update({ heartbeat: true });
      const problem = findNonJson(details, 'details');
      if (problem !== undefined) {
        throw new InvalidOptionError('details', `Expected heartbeat \`details\` of a remote task to be JSON-safe data, but ${problem}`);
      }
      // A copy: the task changing its object before the update is sent does not change the checkpoint.
      update({ heartbeat: true, details: JSON.parse(JSON.stringify(details)) as unknown });
    },
    registerResource(dispose: () => void | Promise<void>): void {
      checkDisposer(dispose);
      disposers.push(dispose);
    },
  };
  if (options.trace !== undefined) traceCarriers.set(context, options.trace);
  return {
    context,
    async finish(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      if (held !== undefined) send(held);
      await sending;
      await runDisposers(disposers.splice(0), options.onDisposerError ?? onError);
    },
  };
}
