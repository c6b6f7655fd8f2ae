/**
 * Reverse dependency edges (task -> its dependents), so a finished task wakes
 * only its own dependents, and the batch cycle check. Forward edges live with
 * each task; this keeps only what scheduling needs.
 *
 * Invariant: `dependentsOf(id)` lists every remembered task that depends on
 * `id`, whether `id` itself is still remembered or was forgotten. So an id
 * that a remembered task still refers to is never free for a new task
 * (`isReferenced`), and a forgotten task's edges go away only with its last
 * dependent. Each list is a Set: forgetting one dependent of a hub is O(1).
 */
export class DependencyGraph {
  readonly #dependents = new Map<string, Set<string>>();

  /** Records that `id` depends on each of `dependencies`. */
  add(id: string, dependencies: readonly string[]): void {
    for (const dependency of dependencies) {
      const set = this.#dependents.get(dependency);
      if (set === undefined) this.#dependents.set(dependency, new Set([id]));
      else set.add(id);
    }
  }

  dependentsOf(id: string): Iterable<string> {
    return this.#dependents.get(id) ?? EMPTY;
  }

  /** Whether some remembered task depends on `id`. */
  isReferenced(id: string): boolean {
    return this.#dependents.has(id);
  }

  /** Forgets `id` as a dependent of each of its dependencies; its own dependents stay listed. */
  remove(id: string, dependencies: readonly string[]): void {
    for (const dependency of dependencies) {
      const set = this.#dependents.get(dependency);
      if (set === undefined) continue;
      set.delete(id);
      if (set.size === 0) this.#dependents.delete(dependency);
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
  const ids = [...batch.keys()];
  const index = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) index.set(ids[i] as string, i);
  const edges = new BatchEdges(ids.length);
  for (const dependencies of batch.values()) {
    for (const dependency of dependencies) {
      const target = index.get(dependency);
      if (target !== undefined) edges.add(target);
    }
    edges.endNode();
  }
  return edges.findCycle()?.map((i) => ids[i] as string);
}

/**
 * The in-batch dependency edges of a batch of tasks, in CSR form (node i's
 * dependencies are `edges[offsets[i] .. offsets[i + 1])`), filled node by
 * node in batch order while the batch is validated, so the cycle check
 * needs no second pass over the specs and no per-node allocation.
 */
export class BatchEdges {
  readonly #nodes: number;
  /** Allocated with the first edge: a batch without in-batch edges (one registerTask) allocates nothing. */
  #offsets: Int32Array | undefined;
  #edges: Int32Array | undefined;
  #count = 0;
  #node = 0;

  constructor(nodes: number) {
    this.#nodes = nodes;
  }

  /** An edge from the current node to the batch member at index `target`. */
  add(target: number): void {
    if (this.#edges === undefined) {
      // Nodes before this one have no edges: their offsets are 0, as allocated.
      this.#offsets = new Int32Array(this.#nodes + 1);
      this.#edges = new Int32Array(16);
    }
    if (this.#count === this.#edges.length) {
      const grown = new Int32Array(this.#edges.length * 2);
      grown.set(this.#edges);
      this.#edges = grown;
    }
    this.#edges[this.#count++] = target;
  }

  /** The current node's edges are all added; the next node begins. */
  endNode(): void {
    this.#node++;
    if (this.#offsets !== undefined) this.#offsets[this.#node] = this.#count;
  }

  /**
   * A cycle as batch indices (first repeated at the end), or undefined.
   * Iterative depth-first search on typed arrays: a 100,000-task chain
   * neither overflows the stack nor allocates per step.
   */
  findCycle(): number[] | undefined {
    const offsets = this.#offsets;
    const edges = this.#edges;
    if (offsets === undefined || edges === undefined) return undefined;
    const nodes = offsets.length - 1;
    const state = new Uint8Array(nodes); // 0: unseen, 1: on the current path, 2: done
    const path = new Int32Array(nodes);
    const next = new Int32Array(nodes);
    for (let root = 0; root < nodes; root++) {
      if (state[root] !== 0) continue;
      let depth = 0;
      path[0] = root;
      next[0] = offsets[root] as number;
      state[root] = 1;
      while (depth >= 0) {
        const node = path[depth] as number;
        const edge = next[depth] as number;
        if (edge >= (offsets[node + 1] as number)) {
          state[node] = 2;
          depth--;
          continue;
        }
        next[depth] = edge + 1;
        const dependency = edges[edge] as number;
        if (state[dependency] === 1) {
          const cycle: number[] = [];
          let i = depth;
          while (path[i] !== dependency) i--;
          for (; i <= depth; i++) cycle.push(path[i] as number);
          cycle.push(dependency);
          return cycle;
        }
        if (state[dependency] === 0) {
          state[dependency] = 1;
          depth++;
          path[depth] = dependency;
          next[depth] = offsets[dependency] as number;
        }
      }
    }
    return undefined;
  }
}
