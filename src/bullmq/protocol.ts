/**
 * What travels through Redis between a {@link BullMQExecutor} and a
 * `taskchart worker`: the job id of an attempt, the job's data, the result
 * envelope the processor returns, and the cancel channel. Everything is JSON
 * (BullMQ stores job data and return values as JSON strings); errors travel
 * as SerializedError (src/wire/errors.ts) and come back as the same class with the same code.
 */
import type { SerializedError } from '../wire/errors.js';
import type { WireDependency } from '../wire/dependencies.js';

/** Version of {@link JobData} and {@link ResultEnvelope}; a worker refuses data of another version. */
export const PROTOCOL_VERSION = 1;

/** BullMQ's default key prefix. */
export const DEFAULT_PREFIX = 'bull';

/**
 * Workers' defaults, lower than BullMQ's 30 s each: the lock of a running job lasts 4 s and is renewed every 2 s,
 * so a worker that dies is seen by the executor's lock check (every `lockCheckInterval`, 1 s) within about 5 s.
 */
export const WORKER_DEFAULTS = { lockDuration: 4000, stalledInterval: 4000 } as const;

/** The data of one attempt's job. */
export interface JobData {
  readonly v: typeof PROTOCOL_VERSION;
  readonly taskId: string;
  readonly name: string;
  readonly attempt: number;
  /** The worker's handler to call as `handler(ctx, ...args)`. */
  readonly handler: string;
  readonly args: readonly unknown[];
  /** `ctx.dependencies` (absent for a task without dependencies): results as JSON, errors serialized. */
  readonly dependencies?: readonly WireDependency[];
  /** `ctx.lastHeartbeat`: an earlier attempt's checkpoint, as JSON (absent when none). */
  readonly lastHeartbeat?: unknown;
  /** The attempt's trace context (W3C `traceparent`, …) when the engine is instrumented: the worker's CONSUMER span's parent. */
  readonly trace?: Readonly<Record<string, string>>;
  /** The executor instance that added the job (random per instance): tells its own jobs from another engine's. */
  readonly sender?: string;
}

/**
 * What the processor returns for every attempt it ran: a task's own failure
 * is a value here, so BullMQ's `failed` event means an infrastructure failure
 * (a stalled job, a worker that could not run the processor).
 */
export interface ResultEnvelope {
  readonly v: typeof PROTOCOL_VERSION;
  /** `cancelled`: the attempt's signal aborted (a cancel from the engine, or the worker shutting down). */
  readonly status: 'ok' | 'error' | 'cancelled';
  readonly value?: unknown;
  readonly error?: SerializedError;
  /** Errors of the attempt's disposers (run in the worker before the envelope): the engine reports each as a `resource-error` event. */
  readonly resourceErrors?: readonly SerializedError[];
}

/**
 * What a progress update carries (`job.updateProgress(...)`): progress (`fraction`, `message`), a heartbeat
 * (`heartbeat: true`, with the checkpoint `details` when given), or both; the latest of each wins.
 */
export interface ProgressData {
  readonly fraction?: number;
  readonly message?: string;
  readonly heartbeat?: true;
  readonly details?: unknown;
}

/** A cancel request published on {@link cancelChannel}. */
export interface CancelMessage {
  readonly jobId: string;
  readonly reason: string;
}

/**
 * The job id of one attempt: deterministic (a second `add` of the same
 * attempt is a no-op in BullMQ), free of ':' (BullMQ refuses it), and never
 * an integer (also refused).
 */
export function jobIdFor(taskId: string, attempt: number): string {
  return `tc.${encodeURIComponent(taskId)}.a${attempt}`;
}

/** The pub/sub channel on which executors ask the workers of `queue` (under BullMQ key `prefix`) to cancel a running job. */
export function cancelChannel(prefix: string, queue: string): string {
  return `taskchart:${prefix}:${queue}:cancel`;
}

/**
 * A short-lived key set before a cancel is published: a worker that takes
 * the job after the message went by (a fetch racing the cancel, a message
 * lost across a reconnect) finds it when the job starts.
 */
export function cancelKey(prefix: string, queue: string, jobId: string): string {
  return `taskchart:${prefix}:${queue}:cancelled:${jobId}`;
}

/** How long a {@link cancelKey} lives. */
export const CANCEL_KEY_TTL_MS = 10 * 60_000;

/** BullMQ's failed reason for a job that stalled more times than `maxStalledCount` (0 for taskchart workers). */
export const STALLED_REASON = 'job stalled more than allowable limit';

export function isResultEnvelope(value: unknown): value is ResultEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const { v, status } = value as { v?: unknown; status?: unknown };
  return v === PROTOCOL_VERSION && (status === 'ok' || status === 'error' || status === 'cancelled');
}

export function isProgressData(value: unknown): value is ProgressData {
  if (typeof value !== 'object' || value === null) return false;
  const { fraction, message, heartbeat } = value as { fraction?: unknown; message?: unknown; heartbeat?: unknown };
  if (heartbeat !== undefined && heartbeat !== true) return false;
  if (fraction === undefined) return heartbeat === true && message === undefined;
  return typeof fraction === 'number' && (message === undefined || typeof message === 'string');
}

export function isCancelMessage(value: unknown): value is CancelMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { jobId, reason } = value as { jobId?: unknown; reason?: unknown };
  return typeof jobId === 'string' && typeof reason === 'string';
}

/** A cancel reason as a string (BullMQ's `cancelJob` takes a string): an Error's message, else its JSON or text. */
export function describeReason(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  if (typeof reason === 'string') return reason;
  try {
    return JSON.stringify(reason) ?? String(reason);
  } catch {
    return String(reason);
  }
}
