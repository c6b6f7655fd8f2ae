/**
 * What `registerTask(s)` checks before anything is registered: every spec resolved (validated), ids new (not
 * registered, not still named as a dependency, not twice in the batch), dependencies registered or in the batch,
 * durable tasks depending only on durable ones, and no cycle. All or nothing: it throws before the supervisor
 * sees any of the batch.
 */
import type { Supervisor } from './actors/supervisor.js';
import { DependencyCycleError, DuplicateTaskError, InvalidOptionError, taskLabel, UnknownDependencyError } from './errors.js';
import { BatchEdges } from './scheduling/dependency-graph.js';
import { resolveTaskSpec, type ResolvedTaskSpec, type SpecEnvironment } from './task-spec.js';
import { readingInput } from './validate.js';

/** The batch's specs resolved, in order, or the first reason to refuse it. */
export function resolveBatch(specs: readonly unknown[], supervisor: Supervisor, environment: SpecEnvironment): ResolvedTaskSpec[] {
  // One task (registerTask, the usual case) needs no batch bookkeeping: its dependencies are registered already,
  // or are itself (a cycle of one).
  if (specs.length === 1) {
    const resolved = resolveNew(specs[0], undefined, supervisor, environment);
    for (const dependency of resolved.dependencies) {
      if (dependency === resolved.id) throw new DependencyCycleError([dependency, dependency]);
      checkRegisteredDependency(resolved, dependency, supervisor);
    }
    return [resolved];
  }
  const batch = new Map<string, ResolvedTaskSpec>();
  /** Position of each id in the batch: a dependency on a later (or the same) position is a forward reference. */
  const position = new Map<string, number>();
  for (const spec of specs) {
    const resolved = resolveNew(spec, batch, supervisor, environment);
    position.set(resolved.id, batch.size);
    batch.set(resolved.id, resolved);
  }
  // In-batch edges are collected while checking ids; only a batch with a forward reference can hold a cycle,
  // and only then is the O(V + E) search run.
  const edges = new BatchEdges(batch.size);
  let forwardReferences = false;
  let at = 0;
  for (const spec of batch.values()) {
    for (const dependency of spec.dependencies) {
      const dependencyAt = position.get(dependency);
      if (dependencyAt === undefined) {
        checkRegisteredDependency(spec, dependency, supervisor);
        continue;
      }
      if (spec.durable && !(batch.get(dependency) as ResolvedTaskSpec).durable) throw notDurableDependency(spec, dependency);
      if (dependencyAt >= at) forwardReferences = true;
      edges.add(dependencyAt);
    }
    edges.endNode();
    at++;
  }
  if (forwardReferences) {
    const cycle = edges.findCycle();
    if (cycle !== undefined) {
      const ids = [...batch.keys()];
      throw new DependencyCycleError(cycle.map((i) => ids[i] as string));
    }
  }
  return [...batch.values()];
}

/** Validates a spec whose id must be new: not registered, not named as a dependency, not earlier in `batch`. */
function resolveNew(
  spec: unknown,
  batch: ReadonlyMap<string, ResolvedTaskSpec> | undefined,
  supervisor: Supervisor,
  environment: SpecEnvironment,
): ResolvedTaskSpec {
  const resolved = readingInput('spec', () => resolveTaskSpec(spec, environment));
  if (supervisor.records.has(resolved.id) || batch?.has(resolved.id) === true) throw new DuplicateTaskError(resolved.id);
  if (supervisor.dependencies.graph.isReferenced(resolved.id)) {
    throw new DuplicateTaskError(resolved.id, supervisor.dependencies.graph.dependentsOf(resolved.id)[Symbol.iterator]().next().value);
  }
  return resolved;
}

/** A dependency outside the batch must be registered, and durable when the task is. */
function checkRegisteredDependency(spec: ResolvedTaskSpec, dependency: string, supervisor: Supervisor): void {
  const record = supervisor.records.get(dependency);
  if (record === undefined) throw new UnknownDependencyError(spec, dependency);
  if (spec.durable && !record.durable) throw notDurableDependency(spec, dependency);
}

function notDurableDependency(spec: ResolvedTaskSpec, dependency: string): InvalidOptionError {
  return new InvalidOptionError(
    'dependencies',
    `Expected the dependencies of durable task ${taskLabel(spec)} to be durable, but \`${dependency}\` has \`durable: false\` (it would be missing after a restore); make both durable or neither`,
  );
}
