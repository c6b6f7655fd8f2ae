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
  /** The same heaps as `#lanes`, in an array: `take` runs once per dispatch and walks it without an iterator. */
  readonly #heaps: Array<BinaryHeap<T>> = [];
  readonly #laneOf = new Map<BinaryHeap<T>, string>();
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
      this.#heaps.push(heap);
      this.#laneOf.set(heap, item.lane);
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
    const heaps = this.#heaps;
    for (let i = 0; i < heaps.length;) {
      const heap = heaps[i] as BinaryHeap<T>;
      const top = this.#liveTop(heap);
      if (top === undefined) {
        this.#dropLane(i); // the last lane moves to `i`, which is looked at next
        continue;
      }
      if ((best === undefined || runsBefore(top, best)) && canRun(top)) {
        best = top;
        bestHeap = heap;
      }
      i++;
    }
    bestHeap?.pop();
    return best;
  }

  /** Whether any live entry is queued. */
  get isEmpty(): boolean {
    for (const heap of this.#heaps) if (this.#liveTop(heap) !== undefined) return false;
    return true;
  }

  /** Forgets the empty lane at index `i` (swapped with the last). */
  #dropLane(i: number): void {
    const heaps = this.#heaps;
    const heap = heaps[i] as BinaryHeap<T>;
    const last = heaps.pop() as BinaryHeap<T>;
    if (last !== heap) heaps[i] = last;
    this.#lanes.delete(this.#laneOf.get(heap) as string);
    this.#laneOf.delete(heap);
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
