/**
 * Named resource pools: each has a capacity in units; a task holds the units
 * it asks for while it runs. Invariant: 0 <= used <= capacity for every pool.
 */
export type ResourceRequest = ReadonlyArray<readonly [name: string, units: number]>;

export class ResourcePools {
  readonly #capacity: Map<string, number>;
  readonly #used = new Map<string, number>();

  constructor(capacity: ReadonlyMap<string, number>) {
    this.#capacity = new Map(capacity);
    for (const name of capacity.keys()) this.#used.set(name, 0);
  }

  capacityOf(name: string): number | undefined {
    return this.#capacity.get(name);
  }

  usedOf(name: string): number {
    return this.#used.get(name) ?? 0;
  }

  canAcquire(request: ResourceRequest): boolean {
    for (const [name, units] of request) {
      if ((this.#used.get(name) ?? 0) + units > (this.#capacity.get(name) ?? 0)) return false;
    }
    return true;
  }

  acquire(request: ResourceRequest): void {
    for (const [name, units] of request) this.#used.set(name, (this.#used.get(name) ?? 0) + units);
  }

  release(request: ResourceRequest): void {
    for (const [name, units] of request) this.#used.set(name, (this.#used.get(name) ?? 0) - units);
  }

  /** A snapshot of use per pool, for stats and the dashboard. */
  usage(): Record<string, { used: number; capacity: number }> {
    const out: Record<string, { used: number; capacity: number }> = Object.create(null);
    for (const [name, capacity] of this.#capacity) out[name] = { used: this.#used.get(name) ?? 0, capacity };
    return out;
  }
}
