/**
 * The executors by name, each with the number of attempts it holds now.
 * Invariant: `inFlight` counts attempts dispatched to the executor whose
 * promise has not settled; it never exceeds the executor's `concurrency`, so
 * an executor never queues work of its own (the queue stays in the supervisor).
 */
import type { Executor } from '../executors/executor.js';

export interface ExecutorSlot {
  readonly executor: Executor;
  /** Attempts this executor may hold at once (Infinity: unlimited). */
  readonly limit: number;
  inFlight: number;
}

export class ExecutorSlots {
  readonly #slots = new Map<string, ExecutorSlot>();

  add(name: string, executor: Executor): void {
    this.#slots.set(name, { executor, limit: executor.concurrency ?? Infinity, inFlight: 0 });
  }

  get(name: string): Executor | undefined {
    return this.#slots.get(name)?.executor;
  }

  /** The slot of an executor the spec validation made sure exists. */
  slot(name: string): ExecutorSlot {
    return this.#slots.get(name) as ExecutorSlot;
  }

  hasRoom(name: string): boolean {
    const slot = this.#slots.get(name);
    return slot !== undefined && slot.inFlight < slot.limit;
  }

  /** An attempt settled; true when that frees room a queued task may be waiting for. */
  release(slot: ExecutorSlot): boolean {
    slot.inFlight--;
    return slot.limit !== Infinity;
  }

  /** Closes every executor; one that fails to close is reported as a process warning and does not stop the others. */
  async closeAll(): Promise<void> {
    const entries = [...this.#slots];
    const results = await Promise.allSettled(entries.map(async ([, slot]) => slot.executor.close?.()));
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      process.emitWarning(`taskchart: executor \`${entries[i]?.[0]}\` failed to close: ${reason}`, { code: 'TASKCHART_EXECUTOR_CLOSE' });
    });
  }
}
