/**
 * What a durable task's spec, result and error become on disk, and back.
 * Specs and results go through `v8.serialize` (the structured clone format:
 * Dates, Maps, Sets, typed arrays and BigInts survive; functions do not);
 * errors are JSON of their name, message, code, stack, cause and primitive
 * properties, and come back as `TaskChartError` when their code is one of ours.
 */
import { deserialize, serialize } from 'node:v8';
import {
  DependencyCycleError,
  DependencyFailedError,
  DuplicateTaskError,
  EngineShutDownError,
  ErrorCode,
  InterruptedError,
  InvalidOptionError,
  InvalidTransitionError,
  NonRetryableError,
  StoreError,
  TaskCancelledError,
  TaskChartError,
  TaskNotFoundError,
  TaskTimeoutError,
  UnknownDependencyError,
  WorkerCrashedError,
  ExecutorUnavailableError,
} from '../errors.js';
import { deserializeError, serializeError, type SerializedError } from '../pool/protocol.js';
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

export function encodeResult(value: unknown): Uint8Array {
  return serialize(value);
}

export function decodeResult(bytes: Uint8Array | null): unknown {
  return bytes === null ? undefined : deserialize(bytes);
}

export function encodeError(error: unknown): string | null {
  return error === undefined ? null : JSON.stringify(serializeError(error));
}

/** The class of each of our codes, so that a restored error is `instanceof` what it was (its constructor is not re-run). */
const CLASS_OF_CODE: ReadonlyMap<string, { prototype: TaskChartError }> = new Map<string, { prototype: TaskChartError }>([
  [ErrorCode.TASK_NOT_FOUND, TaskNotFoundError],
  [ErrorCode.INVALID_TRANSITION, InvalidTransitionError],
  [ErrorCode.DUPLICATE_TASK, DuplicateTaskError],
  [ErrorCode.UNKNOWN_DEPENDENCY, UnknownDependencyError],
  [ErrorCode.DEPENDENCY_CYCLE, DependencyCycleError],
  [ErrorCode.DEPENDENCY_FAILED, DependencyFailedError],
  [ErrorCode.TASK_TIMEOUT, TaskTimeoutError],
  [ErrorCode.TASK_CANCELLED, TaskCancelledError],
  [ErrorCode.WORKER_CRASHED, WorkerCrashedError],
  [ErrorCode.EXECUTOR_UNAVAILABLE, ExecutorUnavailableError],
  [ErrorCode.INTERRUPTED, InterruptedError],
  [ErrorCode.STORE, StoreError],
  [ErrorCode.ENGINE_SHUT_DOWN, EngineShutDownError],
  [ErrorCode.INVALID_OPTION, InvalidOptionError],
  [ErrorCode.NON_RETRYABLE, NonRetryableError],
]);

/** The stored error: of its taskchart class (with its `code`) when it was one of ours, else an `Error`. */
export function decodeError(text: string | null): Error | undefined {
  if (text === null) return undefined;
  return revive(JSON.parse(text) as SerializedError);
}

function revive(serialized: SerializedError): Error {
  const errorClass = typeof serialized.code === 'string' ? CLASS_OF_CODE.get(serialized.code) : undefined;
  if (errorClass === undefined) return deserializeError(serialized);
  const error = Object.create(errorClass.prototype) as TaskChartError;
  const own = (key: string, value: unknown) => Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: key !== 'message' && key !== 'stack' });
  own('message', serialized.message);
  own('code', serialized.code);
  own('name', serialized.name);
  if (serialized.stack !== undefined) own('stack', serialized.stack);
  if (serialized.cause !== undefined) Object.defineProperty(error, 'cause', { value: revive(serialized.cause), writable: true, configurable: true, enumerable: false });
  for (const [key, value] of Object.entries(serialized.props ?? {})) {
    if (!(key in error)) own(key, value);
  }
  return error;
}
