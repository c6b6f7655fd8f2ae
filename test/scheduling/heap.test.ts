import { describe, expect, it } from 'vitest';
import { BinaryHeap } from '../../src/scheduling/heap.js';

describe('BinaryHeap', () => {
  it('pops items in comparator order whatever the insertion order', () => {
    const heap = new BinaryHeap<number>((a, b) => a < b);
    const values = [5, 3, 9, 1, 7, 3, 8, 2, 6, 4, 0];
    for (const value of values) heap.push(value);
    const out: number[] = [];
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
    expect(out).toEqual([...values].sort((a, b) => a - b));
  });

  it('peeks without removing and reports its size', () => {
    const heap = new BinaryHeap<number>((a, b) => a < b);
    expect(heap.peek()).toBeUndefined();
    heap.push(2);
    heap.push(1);
    expect(heap.peek()).toBe(1);
    expect(heap.size).toBe(2);
  });
});
