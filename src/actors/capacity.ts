/**
 * The capacity ledger: what a task holds while its attempt is with an executor, kept in one place.
 * Invariants:
 * - a task holds one concurrency slot and its resource units exactly while it is in state `running` or
 *   `dispatched`: taken when it is dispatched (`take`, or `retake` for an attempt `restore()` re-attached to),
 *   released when it leaves those states (`release`);
 * - `running` never exceeds `concurrency`, except for re-attached attempts, which were in flight already;
 * - an executor slot is held from dispatch until the attempt's promise settles (`settled`), which may be after
 *   the task left `running` (a timed-out attempt still occupies its worker until it stops).
 */
import type { Executor } from '../executors/executor.js';
import { ResourcePools } from '../scheduling/resources.js';
import type { ResolvedTaskSpec } from '../task-spec.js';
import { ExecutorSlots, type ExecutorSlot } from './executor-slots.js';

type Needs = Pick<ResolvedTaskSpec, 'executor' | 'resources'>;

export class CapacityLedger {
  readonly resources: ResourcePools;
  readonly executors = new ExecutorSlots();
  readonly #concurrency: number;
  #running = 0;

  constructor(concurrency: number, resources: ReadonlyMap<string, number>) {
    this.#concurrency = concurrency;
    this.resources = new ResourcePools(resources);
  }

  /** Tasks holding a slot (running or dispatched). */
  get running(): number {
    return this.#running;
  }

  /** Whether a concurrency slot is free. */
  get hasSlot(): boolean {
    return this.#running < this.#concurrency;
  }

  /** Whether the task's executor has room and its resource units are free (a slot aside). */
  readonly fits = (task: { readonly spec: Needs }): boolean =>
    this.executors.hasRoom(task.spec.executor) && this.resources.canAcquire(task.spec.resources);

  addExecutor(name: string, executor: Executor): void {
    this.executors.add(name, executor);
  }

  /** Dispatching: a slot, the resource units and the executor slot; returns the executor's slot. */
  take(needs: Needs): ExecutorSlot {
    this.#running++;
    this.resources.acquire(needs.resources);
    const slot = this.executors.slot(needs.executor);
    slot.inFlight++;
    return slot;
  }

  /** Leaving `running` or `dispatched`: the slot and the resource units are free at once. */
  release(needs: Needs): void {
    this.#running--;
    this.resources.release(needs.resources);
  }

  /** An attempt's promise settled: its executor slot is free; true when that frees room a queued task may wait for. */
  settled(slot: ExecutorSlot): boolean {
    return this.executors.release(slot);
  }
}
