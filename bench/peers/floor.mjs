/**
 * The hand-written floor: the cost of scheduling at all, with no statechart.
 *
 * A Kahn scheduler over plain arrays: each task is an index, with its function,
 * its priority, a count of unmet dependencies and a list of dependents. A task
 * whose count is zero goes to one FIFO per priority (highest first); a counter
 * caps how many run at once. It really runs every (async) function, honours the
 * concurrency limit and the priority order, and wakes dependents as each task
 * finishes. It has none of the rest: no validation, no events, no errors,
 * retries, timeouts, cancellation, results or status queries.
 */
const LEVELS = 4;
const EMPTY = [];

export class Floor {
  #concurrency;
  #running = 0;
  #fns = [];
  #priority = [];
  /** Unmet dependencies per task; -1 once it finished. */
  #unmet = [];
  /** Dependents per task, allocated only for tasks that have some. */
  #dependents = [];
  /** One FIFO (array + head) per priority level, 3 = highest. */
  #ready = Array.from({ length: LEVELS }, () => ({ items: [], head: 0 }));
  #readyCount = 0;
  #idle = [];

  constructor({ concurrency }) {
    this.#concurrency = concurrency;
  }

  /**
   * Adds and starts a task; `dependencies` are indices of tasks added before it
   * (finished or not). Returns its index.
   */
  add(fn, priority = 1, dependencies = EMPTY) {
    const index = this.#fns.length;
    this.#fns.push(fn);
    this.#priority.push(priority);
    this.#dependents.push(undefined);
    let unmet = 0;
    for (const dependency of dependencies) {
      if (this.#unmet[dependency] === -1) continue;
      unmet++;
      (this.#dependents[dependency] ??= []).push(index);
    }
    this.#unmet.push(unmet);
    if (unmet === 0) this.#enqueue(index);
    this.#pump();
    return index;
  }

  onIdle() {
    if (this.#running === 0 && this.#readyCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #enqueue(index) {
    this.#ready[this.#priority[index]].items.push(index);
    this.#readyCount++;
  }

  #dequeue() {
    for (let level = LEVELS - 1; level >= 0; level--) {
      const fifo = this.#ready[level];
      if (fifo.head === fifo.items.length) continue;
      const index = fifo.items[fifo.head++];
      if (fifo.head === fifo.items.length) {
        fifo.items.length = 0;
        fifo.head = 0;
      }
      this.#readyCount--;
      return index;
    }
    return -1;
  }

  #pump() {
    while (this.#running < this.#concurrency && this.#readyCount > 0) {
      const index = this.#dequeue();
      const fn = this.#fns[index];
      this.#fns[index] = undefined;
      this.#running++;
      let result;
      try {
        result = fn();
      } catch {
        result = undefined;
      }
      const finish = () => this.#finish(index);
      Promise.resolve(result).then(finish, finish);
    }
  }

  #finish(index) {
    this.#running--;
    this.#unmet[index] = -1;
    const dependents = this.#dependents[index];
    if (dependents !== undefined) {
      this.#dependents[index] = undefined;
      for (const dependent of dependents) if (--this.#unmet[dependent] === 0) this.#enqueue(dependent);
    }
    this.#pump();
    if (this.#running === 0 && this.#readyCount === 0 && this.#idle.length > 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }
}
