/**
 * What a durable engine holds back until the tick's commit: once a durable task
 * reaches a terminal state, its status event, its `waitForTask` settlement and
 * everything emitted after them wait, in order, until that state is on disk.
 * An in-memory engine never defers anything.
 */
export class CommitGate {
  #deferred: Array<() => void> = [];

  /** Whether effects are waiting for the commit (then every later event waits too, to keep the order). */
  get holding(): boolean {
    return this.#deferred.length > 0;
  }

  defer(effect: () => void): void {
    this.#deferred.push(effect);
  }

  /** After a commit: carries out the held effects in order. Effects deferred meanwhile wait for the next commit. */
  release(): void {
    const effects = this.#deferred;
    if (effects.length === 0) return;
    this.#deferred = [];
    for (const effect of effects) effect();
  }

  /** The engine stopped without committing: the held effects never happen. */
  discard(): void {
    this.#deferred = [];
  }
}
