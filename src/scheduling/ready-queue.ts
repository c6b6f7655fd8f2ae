/**
 * The ready queue: tasks that may run as soon as a slot, their executor and
 * their named resources allow. Tasks are split into lanes by what they need
 * (executor + resource signature), each lane a heap keyed by (priority desc,
 * start order asc). Every task in a lane needs the same things, so a lane whose
 * top cannot run is blocked as a whole, and dispatch compares only lane tops:
 * O(lanes + log n) per dispatch, and a busy resource never blocks other lanes.
 */
import { BinaryHeap } from './heap.js';

/** What the ready queue needs to know about an entry. */
export interface ReadyItem {
  readonly priority: number;
  /** Start order: smaller runs first within a priority level. */
  readonly seq: number;
  /** Entries with the same lane key need exactly the same executor and resources. */
  readonly lane: string;
}

/** True when `a` must run before `b`: higher priority first, then earlier start. */
export function runsBefore(a: ReadyItem, b: ReadyItem): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

export class ReadyQueue<T extends ReadyItem> {
  readonly #lanes = new Map<string, BinaryHeap<T>>();
  readonly #isLive: (item: T) => boolean;

  /** `isLive` lets entries that left the queue some other way (cancelled) be dropped lazily. */
  constructor(isLive: (item: T) => boolean) {
    this.#isLive = isLive;
  }

  push(item: T): void {
    let heap = this.#lanes.get(item.lane);
    if (heap === undefined) {
      heap = new BinaryHeap<T>(runsBefore);
      this.#lanes.set(item.lane, heap);
    }
    heap.push(item);
  }

  /**
   * Removes and returns the entry that runs first among the lanes whose top
   * `canRun` accepts, or undefined when no lane can run now.
   */
  take(canRun: (item: T) => boolean): T | undefined {
    let best: T | undefined;
    let bestHeap: BinaryHeap<T> | undefined;
    for (const [lane, heap] of this.#lanes) {
      const top = this.#liveTop(heap);
      if (top === undefined) {
        this.#lanes.delete(lane);
        continue;
      }
      if ((best === undefined || runsBefore(top, best)) && canRun(top)) {
        best = top;
        bestHeap = heap;
      }
    }
    bestHeap?.pop();
    return best;
  }

  /** Whether any live entry is queued. */
  get isEmpty(): boolean {
    for (const heap of this.#lanes.values()) if (this.#liveTop(heap) !== undefined) return false;
    return true;
  }

  #liveTop(heap: BinaryHeap<T>): T | undefined {
    let top = heap.peek();
    while (top !== undefined && !this.#isLive(top)) {
      heap.pop();
      top = heap.peek();
    }
    return top;
  }
}
