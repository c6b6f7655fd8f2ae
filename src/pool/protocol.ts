/**
 * What crosses the thread boundary between the pool executor and the worker
 * entry: the attempt to run, progress messages, and the result envelope.
 * Everything is plain data: errors travel as SerializedError (src/wire/errors.ts)
 * and come back as the same class with the same code.
 */
import type { SerializedError } from '../wire/errors.js';
import type { WireDependency } from '../wire/dependencies.js';

/** The one method the worker entry exposes (not `run`: that name is workerpool's own for `exec(fn)`). */
export const RUN_METHOD = 'taskchart.run';

/** What a pool task's result must be to leave its thread (the message of ERR_RESULT_NOT_CLONEABLE). */
export const CLONEABLE_RESULT =
  'structured-cloneable (plain data, Map, Set, Date, ArrayBuffers, typed arrays; not functions, symbols, promises or class instances with behaviour) to leave its worker thread';

export interface WorkerAttempt {
  readonly taskId: string;
  readonly name: string;
  readonly attempt: number;
  /** A file URL (href) of the module to import, or undefined for an inline `fn`. */
  readonly module: string | undefined;
  readonly exportName: string;
  /** Source text of a self-contained inline `fn`. */
  readonly source: string | undefined;
  readonly args: readonly unknown[];
  /** `ctx.dependencies` (absent for a task without dependencies): results cloned, errors serialized. */
  readonly dependencies?: readonly WireDependency[];
  /** `ctx.lastHeartbeat`: an earlier attempt's checkpoint (absent when none). */
  readonly lastHeartbeat?: unknown;
  /** The attempt's trace context (W3C), when the engine is instrumented: its span is active around the function. */
  readonly trace?: Readonly<Record<string, string>>;
}

export interface ProgressMessage {
  readonly kind: 'taskchart.progress';
  readonly taskId: string;
  readonly attempt: number;
  readonly progress: number;
  readonly message: string | undefined;
}

/** `ctx.heartbeat(details)` in the worker (`details` absent: alive, the checkpoint unchanged). */
export interface HeartbeatMessage {
  readonly kind: 'taskchart.heartbeat';
  readonly taskId: string;
  readonly attempt: number;
  readonly details?: unknown;
}

export function isHeartbeatMessage(value: unknown): value is HeartbeatMessage {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'taskchart.heartbeat';
}

export type ResultEnvelope = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError };

export function isProgressMessage(value: unknown): value is ProgressMessage {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'taskchart.progress';
}

/** A disposer registered in the worker threw: the engine reports it as a `resource-error` event, as for its own. */
export interface ResourceErrorMessage {
  readonly kind: 'taskchart.resource-error';
  readonly taskId: string;
  readonly attempt: number;
  readonly error: SerializedError;
}

export function isResourceErrorMessage(value: unknown): value is ResourceErrorMessage {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'taskchart.resource-error';
}
