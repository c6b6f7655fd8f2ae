/**
 * Run-to-completion for the supervisor, as XState's Mailbox is for an actor. Every event to a task is a step
 * (`enter` … `leave`); effects that must not run inside a transition (telling dependents, running an attempt,
 * filling free slots) are queued during the step and carried out by `drain` once the outermost step has
 * returned, iteratively, in this order: propagation to dependents first, then attempts to run, then the pump.
 * A timer callback is a step too (`wrapClock`), so its effects are carried out as soon as it returns,
 * synchronously, as for a verb.
 * Invariant: `drain` never runs inside a step or inside itself.
 */
import type { TaskMachineEvent } from '../machines/task.machine.js';
import type { Clock } from '../options.js';
import { Fifo } from '../scheduling/fifo.js';
import type { TaskRecord } from './task-record.js';

/** An event for a dependent, sent once the step that ended its dependency is over. */
export interface Propagation {
  readonly record: TaskRecord;
  readonly event: TaskMachineEvent;
}

/** An attempt to run once the step that dispatched it is over (a durable one once it is committed). */
export interface PendingAttempt {
  readonly record: TaskRecord;
  readonly attempt: number;
  /** The store's commit count when it was queued: a durable attempt runs only after a later commit. */
  readonly commitCount: number;
  /** An earlier process had handed it to its executor already (restore). */
  readonly resumed: boolean;
}

/** What the queue carries out, provided by the supervisor. */
export interface EffectHost {
  send(record: TaskRecord, event: TaskMachineEvent): void;
  /** Whether `attempt` may run now (a durable attempt: once committed). */
  mayRun(attempt: PendingAttempt): boolean;
  run(attempt: PendingAttempt): void;
  /** Fills free slots from the ready queue. */
  pump(): void;
  /** A drain finished (the store commits what it did; idle waiters hear of it). */
  drained(): void;
  /** The engine stopped: nothing more is carried out. */
  halted(): boolean;
}

export class EffectQueue {
  readonly #host: EffectHost;
  readonly #propagation = new Fifo<Propagation>();
  readonly #attempts = new Fifo<PendingAttempt>();
  #depth = 0;
  #draining = false;
  #drainScheduled = false;
  #pumpRequested = false;

  constructor(host: EffectHost) {
    this.#host = host;
  }

  /** Attempts queued and not yet run. */
  get pendingAttempts(): number {
    return this.#attempts.size;
  }

  /** Inside a step or a drain: effects queued now are carried out when it is over. */
  get busy(): boolean {
    return this.#depth > 0 || this.#draining;
  }

  enter(): void {
    this.#depth++;
  }

  leave(): void {
    this.#depth--;
  }

  /** After a step: drains unless another step is still open (the outermost one drains). */
  settle(): void {
    if (this.#depth === 0) this.drain();
  }

  propagate(record: TaskRecord, event: TaskMachineEvent): void {
    this.#propagation.push({ record, event });
  }

  runAttempt(attempt: PendingAttempt): void {
    this.#attempts.push(attempt);
  }

  /** A slot, a resource or an executor slot may be free: fill free slots at the next drain. */
  requestPump(): void {
    this.#pumpRequested = true;
  }

  /** Forgets everything queued (the engine stopped). */
  clear(): void {
    while (this.#attempts.shift() !== undefined);
    while (this.#propagation.shift() !== undefined);
  }

  drain(): void {
    if (this.#draining || this.#host.halted()) return;
    this.#draining = true;
    try {
      for (;;) {
        const next = this.#propagation.shift();
        if (next !== undefined) {
          this.#host.send(next.record, next.event);
          continue;
        }
        const attempt = this.#attempts.peek();
        if (attempt !== undefined && this.#host.mayRun(attempt)) {
          this.#attempts.shift();
          this.#host.run(attempt);
          continue;
        }
        if (this.#pumpRequested) {
          this.#pumpRequested = false;
          this.#host.pump();
          continue;
        }
        break;
      }
    } finally {
      this.#draining = false;
    }
    this.#host.drained();
  }

  /** Drains on a microtask (an effect queued outside any step: not expected, but never left undone). */
  scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(() => {
      this.#drainScheduled = false;
      this.drain();
    });
  }

  /**
   * `base` with every timer callback run as a step: a timer's transition (an attempt timeout, a backoff end)
   * has its effects (failing dependents, dispatching) carried out right after it, synchronously, before any
   * promise the transition settled can react: "at once", as for a verb.
   */
  wrapClock(base: Clock): Clock {
    return {
      setTimeout: (fn, ms) =>
        base.setTimeout((...args: unknown[]) => {
          this.enter();
          try {
            fn(...args);
          } finally {
            this.leave();
          }
          this.settle();
        }, ms),
      clearTimeout: (id) => base.clearTimeout(id),
    };
  }
}
