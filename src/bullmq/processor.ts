/**
 * Running one job in a `taskchart worker`: checks the job data, calls the
 * named handler with a worker-side context, and turns every outcome into a
 * {@link ResultEnvelope}. The processor never throws for a task's own
 * failure, so BullMQ's `failed` stays reserved for infrastructure failures.
 */
import type { Job } from 'bullmq';
import { ExecutorFailedError, ResultNotCloneableError, TaskCancelledError, UnknownHandlerError } from '../errors.js';
import type { TaskFunction } from '../task-spec.js';
import { serializeError } from '../wire/errors.js';
import { findNonJson } from './json-safe.js';
import { PROTOCOL_VERSION, type JobData, type ProgressData, type ResultEnvelope } from './protocol.js';

/** What a remote task's result must be to travel back (the message of ERR_RESULT_NOT_CLONEABLE). */
const JSON_RESULT = 'JSON-safe (null, booleans, strings, finite numbers, arrays and plain objects) to travel back from its remote worker';
import { createWorkerContext } from './worker-context.js';
import { loadWorkerSide } from '../otel/load.js';

export interface ProcessorHost {
  readonly handlers: ReadonlyMap<string, TaskFunction>;
  /** Resolves with a cancel reason when the engine cancelled this job before a worker took it. */
  readonly cancelledBeforeStart: (jobId: string) => Promise<string | undefined>;
  readonly onError: (error: unknown) => void;
}

/** Runs one job to its envelope. `signal` aborts on a cancel from the engine or the worker's shutdown. */
export async function runJob(job: Job, signal: AbortSignal, host: ProcessorHost): Promise<ResultEnvelope> {
  const data = job.data as Partial<JobData> | undefined;
  if (data?.v !== PROTOCOL_VERSION || typeof data.handler !== 'string' || !Array.isArray(data.args)) {
    return failure(
      new ExecutorFailedError(
        `Expected job \`${job.id}\` to be a taskchart attempt of protocol version ${PROTOCOL_VERSION}, got data ${JSON.stringify(job.data)?.slice(0, 80)}`,
      ),
    );
  }
  const task = { id: String(data.taskId), name: String(data.name) };
  const handler = host.handlers.get(data.handler);
  if (handler === undefined) {
    return failure(
      new UnknownHandlerError(
        task,
        data.handler,
        `this taskchart worker (its handlers: ${[...host.handlers.keys()].join(', ') || 'none'})`,
      ),
    );
  }
  const early = await host.cancelledBeforeStart(job.id as string).catch(() => undefined);
  if (early !== undefined) return { v: PROTOCOL_VERSION, status: 'cancelled', error: serializeError(new TaskCancelledError(task, early)) };
  const trace = data.trace;
  if (typeof trace !== 'object' || trace === null) return runAttempt(job, data as JobData, handler, signal, host);
  const side = await loadWorkerSide();
  if (side === undefined) return runAttempt(job, data as JobData, handler, signal, host);
  const attempt = { taskId: task.id, name: task.name, attempt: Number(data.attempt), queue: job.queueName, jobId: String(job.id) };
  return side.consume(trace, attempt, (consumer) => runAttempt(job, data as JobData, handler, signal, host, consumer));
}

/** Calls the handler with a worker-side context and makes its outcome the envelope. */
async function runAttempt(
  job: Job,
  data: JobData,
  handler: TaskFunction,
  signal: AbortSignal,
  host: ProcessorHost,
  trace?: Readonly<Record<string, string>>,
): Promise<ResultEnvelope> {
  const task = { id: String(data.taskId), name: String(data.name) };
  const resourceErrors: ReturnType<typeof serializeError>[] = [];
  const attempt = createWorkerContext({
    data,
    ...(trace !== undefined && { trace }),
    signal,
    sendProgress: (progress: ProgressData) => job.updateProgress(progress as unknown as object),
    onError: host.onError,
    // Sent back with the outcome: the engine reports them as resource-error events, as it does its own disposers'.
    onDisposerError: (error) => void resourceErrors.push(serializeError(error)),
  });
  let envelope: ResultEnvelope;
  try {
    const value: unknown = await handler(attempt.context, ...data.args);
    // undefined (a handler that returns nothing) arrives as undefined: the envelope's `value` is simply absent.
    const problem = value === undefined ? undefined : findNonJson(value, 'the result');
    envelope =
      problem === undefined
        ? { v: PROTOCOL_VERSION, status: 'ok', value }
        : failure(new ResultNotCloneableError(task, JSON_RESULT, problem));
  } catch (error) {
    envelope = failure(error);
  }
  await attempt.finish();
  if (signal.aborted) envelope = { v: PROTOCOL_VERSION, status: 'cancelled', error: serializeError(reasonError(task, signal.reason)) };
  return resourceErrors.length === 0 ? envelope : { ...envelope, resourceErrors };
}

function failure(error: unknown): ResultEnvelope {
  return { v: PROTOCOL_VERSION, status: 'error', error: serializeError(error) };
}

/** The attempt's abort reason (a cancel from the engine, or this worker shutting down) as an error. */
function reasonError(task: { readonly id: string; readonly name: string }, reason: unknown): Error {
  return reason instanceof Error ? reason : new TaskCancelledError(task, typeof reason === 'string' ? reason : undefined);
}
