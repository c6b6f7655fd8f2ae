/**
 * What a durable task's spec, result and error become on disk, and back.
 * Specs and results go through `v8.serialize` (the structured clone format:
 * Dates, Maps, Sets, typed arrays and BigInts survive; functions do not);
 * errors are JSON of their SerializedError (src/wire/errors.ts): name, message,
 * code, stack, cause and primitive properties, back as `TaskChartError` when
 * their code is one of ours.
 */
import { deserialize, serialize } from 'node:v8';
import { laneOf, type DependencyOutcome, type ResolvedTaskSpec, type TaskKind } from '../task-spec.js';
import { fromWire, toWire, type WireDependency } from '../wire/dependencies.js';
import { deserializeError, serializeError, type SerializedError } from '../wire/errors.js';
import type { ResourceRequest } from '../scheduling/resources.js';
import type { TaskPriority } from '../status.js';
import { DEFAULT_TRIGGER, type TriggerRule } from '../machines/trigger-rules.js';
import { NO_CLAIMS } from '../limits.js';
import type { RerunDefaults, ResolvedCache } from '../long-running.js';
import type { LimitClaim } from '../scheduling/key-limits.js';

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
  /** Added after the first stores were written: absent there, and then the default. */
  trigger?: TriggerRule,
  limits?: readonly LimitClaim[],
  /** Long and repeated work (absent in stores written before it: none, and the default free re-runs). */
  heartbeatTimeout?: number,
  cache?: ResolvedCache,
  deadline?: number,
  maxInterruptions?: number,
  maxCrashes?: number,
];

export function encodeSpec(spec: ResolvedTaskSpec): Uint8Array {
  const tuple: SpecTuple = [
    1,
    spec.kind,
    spec.handler,
    spec.module,
    spec.exportName,
    spec.args,
    spec.priority,
    spec.dependencies,
    spec.maxRetries,
    spec.retryDelay,
    spec.maxRetryDelay,
    spec.jitter,
    spec.timeout,
    spec.resources,
    spec.executor,
    spec.trigger,
    spec.limits,
    spec.heartbeatTimeout,
    spec.cache,
    spec.deadline,
    spec.maxInterruptions,
    spec.maxCrashes,
  ];
  return serialize(tuple);
}

/**
 * The resolved spec of a stored task (no `fn`: durable tasks run by name). `reruns`: the free re-runs of a spec
 * stored before it had its own (before schema 3), which are the restoring engine's, as for a spec registered now.
 */
export function decodeSpec(id: string, name: string, bytes: Uint8Array, reruns: RerunDefaults): ResolvedTaskSpec {
  const tuple = deserialize(bytes) as SpecTuple;
  if (!Array.isArray(tuple) || tuple[0] !== 1)
    throw new Error(`unknown spec format ${JSON.stringify(Array.isArray(tuple) ? tuple[0] : typeof tuple)}`);
  const [
    ,
    kind,
    handler,
    module,
    exportName,
    args,
    priority,
    dependencies,
    maxRetries,
    retryDelay,
    maxRetryDelay,
    jitter,
    timeout,
    resources,
    executor,
    trigger,
    limits,
    heartbeatTimeout,
    cache,
    deadline,
    maxInterruptions,
    maxCrashes,
  ] = tuple;
  return {
    id,
    name,
    kind,
    fn: undefined,
    handler,
    module,
    exportName,
    args,
    priority,
    dependencies: Object.freeze([...dependencies]),
    trigger: trigger ?? DEFAULT_TRIGGER,
    maxRetries,
    retryDelay,
    maxRetryDelay,
    jitter,
    timeout,
    heartbeatTimeout,
    cache: cache === undefined ? undefined : Object.freeze({ key: cache.key, ttl: cache.ttl }),
    deadline,
    maxInterruptions: maxInterruptions ?? reruns.maxInterruptions,
    maxCrashes: maxCrashes ?? reruns.maxCrashes,
    resources,
    // The limiters are the restoring engine's: a claim on one it does not have is not held back by it.
    limits: limits === undefined || limits.length === 0 ? NO_CLAIMS : Object.freeze(limits.map((claim) => Object.freeze({ ...claim }))),
    executor,
    durable: true,
    lane: laneOf(executor, resources),
    transfer: [],
  };
}

export function encodeResult(value: unknown): Uint8Array {
  return serialize(value);
}

export function decodeResult(bytes: Uint8Array | null): unknown {
  return bytes === null ? undefined : deserialize(bytes);
}

/** A heartbeat's checkpoint for its row (null when none). */
export function encodeCheckpoint(checkpoint: unknown): Uint8Array | null {
  return checkpoint === undefined ? null : serialize(checkpoint);
}

export function decodeCheckpoint(bytes: Uint8Array | null | undefined): unknown {
  return bytes === null || bytes === undefined ? undefined : deserialize(bytes);
}

export function encodeError(error: unknown): string | null {
  return error === undefined ? null : JSON.stringify(serializeError(error));
}

/** The stored error: of its taskchart class (with its `code`) when it was one of ours, else an `Error`. */
export function decodeError(text: string | null): Error | undefined {
  if (text === null) return undefined;
  return deserializeError(JSON.parse(text) as SerializedError);
}

/** How a task's forgotten dependencies ended, for its row (null when none was forgotten while it was live). */
export function encodeForgotten(outcomes: ReadonlyMap<string, DependencyOutcome> | undefined): Uint8Array | null {
  return outcomes === undefined ? null : serialize(toWire([...outcomes.values()]));
}

export function decodeForgotten(bytes: Uint8Array | null | undefined): Map<string, DependencyOutcome> | undefined {
  if (bytes === null || bytes === undefined) return undefined;
  return new Map(fromWire(deserialize(bytes) as WireDependency[]).map((outcome) => [outcome.id, outcome]));
}
