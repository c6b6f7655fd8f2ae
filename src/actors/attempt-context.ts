/**
 * The context one attempt's function receives. Its `signal`, `progress` and
 * `registerResource` are made on first use, so a task that never looks at
 * them costs no AbortController and no closures; destructuring
 * (`async ({ signal, progress }) => ...`) works because it reads the getters.
 */
import type { DependencyOutcome, TaskContext } from '../task-spec.js';

/** What the context calls back into; implemented by the supervisor. */
export interface AttemptHost {
  progress(context: AttemptContext, fraction: unknown, message: unknown): void;
  /** `details` undefined: alive, the checkpoint unchanged. */
  heartbeat(context: AttemptContext, details: unknown): void;
  registerResource(context: AttemptContext, dispose: unknown): void;
}

export class AttemptContext implements TaskContext {
  readonly id: string;
  readonly name: string;
  readonly attempt: number;
  /** The checkpoint an earlier attempt left (its last heartbeat details). */
  readonly lastHeartbeat: unknown;
  /** The dependencies' outcomes, or how to read them on first use (a task that never looks pays nothing). */
  #dependencies: readonly DependencyOutcome[] | (() => readonly DependencyOutcome[]);
  readonly #host: AttemptHost;
  #controller: AbortController | undefined;
  /** Set when the attempt was aborted before anyone looked at the signal. */
  #abortReason: unknown;
  #aborted = false;
  #progress: TaskContext['progress'] | undefined;
  #heartbeat: TaskContext['heartbeat'] | undefined;
  #onAbort: Array<(reason: unknown) => void> | undefined;
  #registerResource: TaskContext['registerResource'] | undefined;

  constructor(
    id: string,
    name: string,
    attempt: number,
    host: AttemptHost,
    dependencies: readonly DependencyOutcome[] | (() => readonly DependencyOutcome[]),
    lastHeartbeat?: unknown,
  ) {
    this.id = id;
    this.name = name;
    this.attempt = attempt;
    this.lastHeartbeat = lastHeartbeat;
    this.#dependencies = dependencies;
    this.#host = host;
  }

  get dependencies(): readonly DependencyOutcome[] {
    const dependencies = this.#dependencies;
    if (typeof dependencies !== 'function') return dependencies;
    return (this.#dependencies = dependencies());
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get progress(): TaskContext['progress'] {
    return (this.#progress ??= (fraction, message) => this.#host.progress(this, fraction, message));
  }

  get heartbeat(): TaskContext['heartbeat'] {
    return (this.#heartbeat ??= (details) => this.#host.heartbeat(this, details));
  }

  get registerResource(): TaskContext['registerResource'] {
    return (this.#registerResource ??= (dispose) => this.#host.registerResource(this, dispose));
  }

  /**
   * Calls `listener` once when the attempt is aborted (at once if it already
   * was): what `signal` tells, without an AbortController, for executors that
   * stop an attempt some other way (the pool terminates a thread).
   */
  whenAborted(listener: (reason: unknown) => void): void {
    if (this.#aborted) listener(this.#abortReason);
    else (this.#onAbort ??= []).push(listener);
  }

  /** Aborts the signal (now, or when it is first read) with `reason`; only the first abort counts. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#onAbort;
    this.#onAbort = undefined;
    if (listeners !== undefined) for (const listener of listeners) listener(reason);
  }
}
