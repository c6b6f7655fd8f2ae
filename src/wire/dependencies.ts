/**
 * `ctx.dependencies` on its way to where the attempt runs. In the engine's thread the outcomes are handed over as
 * they are; to a pool thread (structured clone) or a remote worker (JSON) each error travels as a SerializedError and
 * comes back as the same class with the same code, as the attempt's own errors do.
 */
import type { TaskStatus } from '../status.js';
import { deserializeError, serializeError, type SerializedError } from './errors.js';

/** How one of a task's dependencies ended (or stands, under a `one_*` trigger rule that did not wait for it). */
export interface DependencyOutcome {
  readonly id: string;
  readonly name: string;
  readonly status: TaskStatus;
  /** Its result when COMPLETED, else undefined. */
  readonly result: unknown;
  /** Its error when FAILED or CANCELLED, else undefined. */
  readonly error: unknown;
}

/** One dependency's outcome as it travels. */
export interface WireDependency {
  readonly id: string;
  readonly name: string;
  readonly status: TaskStatus;
  readonly result?: unknown;
  readonly error?: SerializedError;
}

/** The outcomes of a task without dependencies: shared, frozen. */
export const NO_DEPENDENCIES: readonly DependencyOutcome[] = Object.freeze([]);

export function toWire(outcomes: readonly DependencyOutcome[]): WireDependency[] {
  return outcomes.map(({ id, name, status, result, error }) => {
    const wire: { -readonly [K in keyof WireDependency]: WireDependency[K] } = { id, name, status };
    if (result !== undefined) wire.result = result;
    if (error !== undefined) wire.error = serializeError(error);
    return wire;
  });
}

/** The outcomes on the worker's side (frozen, as in the engine's thread); absent: no dependencies. */
export function fromWire(wire: readonly WireDependency[] | undefined): readonly DependencyOutcome[] {
  if (wire === undefined || wire.length === 0) return NO_DEPENDENCIES;
  return Object.freeze(
    wire.map(({ id, name, status, result, error }) =>
      Object.freeze({ id, name, status, result, error: error === undefined ? undefined : deserializeError(error) }),
    ),
  );
}
