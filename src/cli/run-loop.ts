/**
 * The middle of a run: start what was left never-started, wait for the engine to be idle, again while
 * running tasks register more, until everything is done, a signal stops the run, or the store fails.
 */
import type { Subscription } from 'rxjs';
import { InvalidTransitionError, ofType, StoreError, TaskStatus, type TaskEngine } from '../index.js';
import type { RunProgress } from './run-progress.js';

/** How the run ended. */
export type RunEnding =
  | { readonly kind: 'done' }
  /** A signal stopped it (exit code 130 or 143); the engine was shut down with the run's stop mode. */
  | { readonly kind: 'signal'; readonly code: number }
  /** The store failed (a `store-error` event): the engine halted every task where it stood. */
  | { readonly kind: 'store-failed'; readonly error: unknown };

/** Watches for the engine's `store-error` event; `failed` is set synchronously when it arrives. */
export class StoreWatch {
  failed = false;
  error: unknown = undefined;
  /** Resolves at the first `store-error` event. */
  readonly failure: Promise<void>;
  readonly #subscription: Subscription;

  constructor(engine: TaskEngine) {
    let resolve: () => void = () => {};
    this.failure = new Promise((r) => (resolve = r));
    this.#subscription = engine.events.pipe(ofType('store-error')).subscribe((event) => {
      if (this.failed) return;
      this.failed = true;
      this.error = event.error;
      resolve();
    });
  }

  stop(): void {
    this.#subscription.unsubscribe();
  }
}

/** What ends a run early, and how a signal stops the engine. */
export interface RunStops {
  /** Resolves with 130 / 143 at the first SIGINT / SIGTERM. */
  readonly interrupted: Promise<number>;
  readonly store: StoreWatch;
  /** `'suspend'` on a durable engine (the next run resumes), else `'cancel'`. */
  readonly mode: 'cancel' | 'suspend';
}

/**
 * Starts never-started tasks and waits for idleness, again while tasks registered meanwhile
 * (by running tasks) are left to start. On a signal, shuts the engine down with `stops.mode`
 * and resolves once it has stopped.
 */
export async function runToEnd(engine: TaskEngine, progress: RunProgress, stops: RunStops): Promise<RunEnding> {
  let signalled: { code: number; stopped: Promise<void> } | undefined;
  void stops.interrupted.then((code) => {
    // After a store failure the engine has halted on its own: the signal only ends the wait.
    signalled = { code, stopped: stops.store.failed ? Promise.resolve() : engine.shutdown({ mode: stops.mode }) };
  });
  // A signal that came earlier (while the graph module's function ran) is seen here before anything starts:
  // its reaction above was queued when `then` was called, ahead of this continuation.
  await Promise.resolve();
  const ending = (): RunEnding | undefined => {
    if (stops.store.failed) return { kind: 'store-failed', error: stops.store.error };
    return signalled && { kind: 'signal', code: signalled.code };
  };
  let checked = 0;
  while (ending() === undefined) {
    startNeverStarted(engine, progress.ids.slice(checked), stops.store);
    checked = progress.ids.length;
    if (ending() !== undefined) break;
    await Promise.race([engine.onIdle(), stops.interrupted, stops.store.failure]);
    if (ending() === undefined && progress.ids.length === checked) break;
  }
  await signalled?.stopped;
  return ending() ?? { kind: 'done' };
}

/**
 * `startTask` on each PENDING task; a task already started (queued, retrying) refuses with
 * ERR_INVALID_TRANSITION. Stops when the store fails (the engine then refuses with ERR_STORE).
 */
function startNeverStarted(engine: TaskEngine, ids: readonly string[], store: StoreWatch): void {
  for (const id of ids) {
    if (store.failed) return;
    if (engine.getTaskStatus(id) !== TaskStatus.PENDING) continue;
    try {
      engine.startTask(id);
    } catch (error) {
      if (error instanceof StoreError && store.failed) return;
      if (!(error instanceof InvalidTransitionError)) throw error;
    }
  }
}
