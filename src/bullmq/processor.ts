/**
 * Running one job in a `taskchart worker`: checks the job data, calls the
 * named handler with a worker-side context, and turns every outcome into a
 * {@link ResultEnvelope}. The processor never throws for a task's own
 * failure, so BullMQ's `failed` stays reserved for infrastructure failures.
 */
import type { Job } from 'bullmq';
import type { TaskFunction } from '../task-spec.js';
import { findNonJson } from './json-safe.js';
import { PROTOCOL_VERSION, serializeError, type JobData, type ProgressData, type ResultEnvelope } from './protocol.js';
import { createWorkerContext } from './worker-context.js';

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
    return failure(new Error(`Job \`${job.id}\` is not a taskchart attempt of protocol version ${PROTOCOL_VERSION} (data: ${JSON.stringify(job.data)?.slice(0, 80)})`));
  }
  const handler = host.handlers.get(data.handler);
  if (handler === undefined) {
    return failure(new Error(`Task \`${data.taskId}\`: this worker has no handler \`${data.handler}\` (handlers: ${[...host.handlers.keys()].join(', ')})`));
  }
  const early = await host.cancelledBeforeStart(job.id as string).catch(() => undefined);
  if (early !== undefined) return { v: PROTOCOL_VERSION, status: 'cancelled', error: serializeError(new Error(early)) };
  const attempt = createWorkerContext({
    data: data as JobData,
    signal,
    sendProgress: (progress: ProgressData) => job.updateProgress(progress as unknown as object),
    onError: host.onError,
  });
  let envelope: ResultEnvelope;
  try {
    const value: unknown = await handler(attempt.context, ...data.args);
    // undefined (a handler that returns nothing) arrives as undefined: the envelope's `value` is simply absent.
    const problem = value === undefined ? undefined : findNonJson(value, 'the result');
    envelope = problem === undefined ? { v: PROTOCOL_VERSION, status: 'ok', value } : failure(new Error(`Task \`${data.taskId}\`: handler \`${data.handler}\` returned a value that cannot travel as JSON: ${problem}`));
  } catch (error) {
    envelope = failure(error);
  }
  await attempt.finish();
  if (signal.aborted) return { v: PROTOCOL_VERSION, status: 'cancelled', error: serializeError(reasonError(signal.reason)) };
  return envelope;
}

function failure(error: unknown): ResultEnvelope {
  return { v: PROTOCOL_VERSION, status: 'error', error: serializeError(error) };
}

function reasonError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'cancelled');
}
