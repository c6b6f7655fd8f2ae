/**
 * What a durable task's spec, result and error become on disk, and back.
 * Specs and results go through `v8.serialize` (the structured clone format:
 * Dates, Maps, Sets, typed arrays and BigInts survive; functions do not);
 * errors are JSON of their name, message, code, stack, cause and primitive
 * properties, and come back as `TaskChartError` when their code is one of ours.
 */
import { deserialize, serialize } from 'node:v8';
import { ErrorCode, TaskChartError } from '../errors.js';
import { deserializeError, serializeError, type SerializedError } from '../pool/protocol.js';
import { findUncloneable } from '../pool/cloneable.js';
import type { TaskKind } from '../executors/executor.js';
import { laneOf, type ResolvedTaskSpec } from '../task-spec.js';
import type { ResourceRequest } from '../scheduling/resources.js';
import type { TaskPriority } from '../status.js';

/** The durable part of a spec, in a fixed order (version first). */
type SpecTuple = [
  version: 1,
  kind: TaskKind,
  handler: string | undefined,
  module: string | undefined,
  exportName: string,
  args: readonly unknown[],
  priority: TaskPriority,
  dependencies: readonly string[],
  maxRetries: number,
  retryDelay: number,
  maxRetryDelay: number,
  jitter: number,
  timeout: number | undefined,
  resources: ResourceRequest,
  executor: string,
];

export function encodeSpec(spec: ResolvedTaskSpec): Uint8Array {
  const tuple: SpecTuple = [
    1, spec.kind, spec.handler, spec.module, spec.exportName, spec.args, spec.priority, spec.dependencies,
    spec.maxRetries, spec.retryDelay, spec.maxRetryDelay, spec.jitter, spec.timeout, spec.resources, spec.executor,
  ];
  return serialize(tuple);
}

/** The resolved spec of a stored task (no `fn`: durable tasks run by name). */
export function decodeSpec(id: string, name: string, bytes: Uint8Array): ResolvedTaskSpec {
  const tuple = deserialize(bytes) as SpecTuple;
  if (!Array.isArray(tuple) || tuple[0] !== 1) throw new Error(`unknown spec format ${JSON.stringify(Array.isArray(tuple) ? tuple[0] : typeof tuple)}`);
  const [, kind, handler, module, exportName, args, priority, dependencies, maxRetries, retryDelay, maxRetryDelay, jitter, timeout, resources, executor] = tuple;
  return {
    id, name, kind, fn: undefined, handler, module, exportName, args, priority,
    dependencies: Object.freeze([...dependencies]), maxRetries, retryDelay, maxRetryDelay, jitter, timeout, resources, executor,
    durable: true, lane: laneOf(executor, resources), transfer: [],
  };
}

/** Where `value` holds something the store cannot keep, e.g. `result.onDone is a function`; undefined when it can. */
export function unstorable(value: unknown, path: string): string | undefined {
  return findUncloneable(value, path);
}

export function encodeResult(value: unknown): Uint8Array {
  return serialize(value);
}

export function decodeResult(bytes: Uint8Array | null): unknown {
  return bytes === null ? undefined : deserialize(bytes);
}

export function encodeError(error: unknown): string | null {
  return error === undefined ? null : JSON.stringify(serializeError(error));
}

const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** The stored error, as a `TaskChartError` (with its `code`) when it was one of ours, else an `Error`. */
export function decodeError(text: string | null): Error | undefined {
  if (text === null) return undefined;
  return revive(JSON.parse(text) as SerializedError);
}

function revive(serialized: SerializedError): Error {
  if (typeof serialized.code !== 'string' || !CODES.has(serialized.code)) return deserializeError(serialized);
  const cause = serialized.cause === undefined ? undefined : revive(serialized.cause);
  const error = new TaskChartError(serialized.code as ErrorCode, serialized.message, cause === undefined ? undefined : { cause });
  error.name = serialized.name;
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  for (const [key, value] of Object.entries(serialized.props ?? {})) {
    if (!(key in error)) (error as unknown as Record<string, unknown>)[key] = value;
  }
  return error;
}
