/**
 * Reverse dependency edges (task -> its dependents), so a finished task wakes
 * only its own dependents, and the batch cycle check. Forward edges live with
 * each task; this keeps only what scheduling needs.
 */
export class DependencyGraph {
  readonly #dependents = new Map<string, string[]>();

  /** Records that `id` depends on each of `dependencies`. */
  add(id: string, dependencies: readonly string[]): void {
    for (const dependency of dependencies) {
      const list = this.#dependents.get(dependency);
      if (list === undefined) this.#dependents.set(dependency, [id]);
      else list.push(id);
    }
  }

  dependentsOf(id: string): readonly string[] {
    return this.#dependents.get(id) ?? EMPTY;
  }

  /** Forgets `id`: its own dependents list, and its place in its dependencies' lists. */
  remove(id: string, dependencies: readonly string[]): void {
    this.#dependents.delete(id);
    for (const dependency of dependencies) {
      const list = this.#dependents.get(dependency);
      if (list === undefined) continue;
      const index = list.indexOf(id);
      if (index !== -1) list.splice(index, 1);
      if (list.length === 0) this.#dependents.delete(dependency);
    }
  }
}

const EMPTY: readonly string[] = Object.freeze([]);

/**
 * Finds a cycle among a batch of new tasks, O(V + E) over the batch. Edges to
 * tasks outside the batch cannot close a cycle: a registered task never
 * depends on a newer one. Returns the cycle as ids (first id repeated at the
 * end), or undefined.
 */
export function findCycle(batch: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  for (const root of batch.keys()) {
    if (state.has(root)) continue;
    // Iterative DFS: a stack of (node, index of next dependency to visit).
    const path: string[] = [root];
    const next: number[] = [0];
    state.set(root, 1);
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top] as string;
      const dependencies = batch.get(node) ?? EMPTY;
      const index = next[top] as number;
      if (index >= dependencies.length) {
        state.set(node, 2);
        path.pop();
        next.pop();
        continue;
      }
      next[top] = index + 1;
      const dependency = dependencies[index] as string;
      if (!batch.has(dependency)) continue;
      const seen = state.get(dependency);
      if (seen === 1) return [...path.slice(path.indexOf(dependency)), dependency];
      if (seen === undefined) {
        state.set(dependency, 1);
        path.push(dependency);
        next.push(0);
      }
    }
  }
  return undefined;
}
