/**
 * Started tasks that nothing will ever run: WAITING while the engine is idle, because some dependency (directly, or
 * through dependencies that wait in turn) was registered but never started. `onIdle()` resolves with them waiting
 * (nothing is running), so the engine says so with one `stalled` event per task, once per idle period.
 */
import type { EventStream } from '../monitor/event-stream.js';
import type { TaskRecord } from './task-record.js';

/** What the reporter reads from the supervisor. */
export interface StallHost {
  readonly records: ReadonlyMap<string, TaskRecord>;
  readonly stream: EventStream;
  now(): number;
  /** WAITING tasks now (the stats' count): none, nothing to look for. */
  waiting(): number;
  isIdle(): boolean;
  halted(): boolean;
}

/**
 * Emits the `stalled` events. An idle period is told from the last by the attempts begun in between: a task still
 * stalled after other work ran is reported again, one reported in this period is not.
 */
export class StallReporter {
  readonly #host: StallHost;
  #attemptsBegun = 0;
  #checkScheduled = false;

  constructor(host: StallHost) {
    this.#host = host;
  }

  attemptBegun(): void {
    this.#attemptsBegun++;
  }

  /** The engine is idle and someone awaits it: report now, before they hear of it. */
  report(): void {
    const host = this.#host;
    if (host.waiting() === 0 || host.halted() || !host.stream.observed) return;
    const period = this.#attemptsBegun;
    for (const { record, waitingOn } of findStalls(host.records, (record) => record.stalledPeriod === period)) {
      record.stalledPeriod = period;
      host.stream.emit({ type: 'stalled', taskId: record.id, name: record.name, timestamp: host.now(), waitingOn });
    }
  }

  /**
   * After a drain nobody awaits: if the engine is idle with WAITING tasks, report on a microtask, after the caller's
   * synchronous code (a loop of startTask calls whose last one starts the dependency).
   */
  check(): void {
    if (this.#checkScheduled || this.#host.waiting() === 0 || !this.#host.isIdle()) return;
    this.#checkScheduled = true;
    queueMicrotask(() => {
      this.#checkScheduled = false;
      if (this.#host.isIdle()) this.report();
    });
  }
}

/** A stalled task and the never-started tasks it waits on, in dependency order (depth first), each once. */
export interface Stall {
  readonly record: TaskRecord;
  readonly waitingOn: readonly string[];
}

/**
 * The WAITING tasks among `records` and what each waits on, skipping those `reported` says were reported in this
 * idle period. O(waiting tasks + their edges): each task's never-started set is computed once.
 */
export function findStalls(records: ReadonlyMap<string, TaskRecord>, reported: (record: TaskRecord) => boolean): Stall[] {
  const memo = new Map<TaskRecord, readonly string[]>();
  const stalls: Stall[] = [];
  for (const record of records.values()) {
    if (record.state !== 'waiting' || reported(record)) continue;
    const waitingOn = neverStarted(record, records, memo);
    if (waitingOn.length > 0) stalls.push({ record, waitingOn });
  }
  return stalls;
}

/**
 * The never-started tasks a WAITING task waits on. A forgotten dependency had COMPLETED; one that is queued, running
 * or in backoff would make the engine busy, so only `pending` (never started) and `waiting` ones are seen here.
 * Iterative, so a 100,000-task chain of WAITING tasks does not overflow the stack.
 */
function neverStarted(
  start: TaskRecord,
  records: ReadonlyMap<string, TaskRecord>,
  memo: Map<TaskRecord, readonly string[]>,
): readonly string[] {
  const stack: Array<{ record: TaskRecord; next: number }> = [{ record: start, next: 0 }];
  const found: Array<Set<string>> = [new Set()];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { record: TaskRecord; next: number };
    const own = found[found.length - 1] as Set<string>;
    const id = top.record.dependencies[top.next++];
    if (id === undefined) {
      stack.pop();
      found.pop();
      const result = [...own];
      memo.set(top.record, result);
      const parent = found[found.length - 1];
      if (parent !== undefined) for (const waiting of result) parent.add(waiting);
      continue;
    }
    const dependency = records.get(id);
    if (dependency === undefined) continue;
    if (dependency.state === 'pending') own.add(id);
    else if (dependency.state === 'waiting') {
      const known = memo.get(dependency);
      if (known !== undefined) for (const waiting of known) own.add(waiting);
      else {
        stack.push({ record: dependency, next: 0 });
        found.push(new Set());
      }
    }
  }
  return memo.get(start) ?? [];
}
