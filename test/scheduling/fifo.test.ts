import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/scheduling/fifo.js';
import { exposeGc } from '../helpers.js';

/** Shifts everything out, in order. */
function drain<T>(fifo: Fifo<T>): T[] {
  const out: T[] = [];
  for (let item = fifo.shift(); item !== undefined; item = fifo.shift()) out.push(item);
  return out;
}

describe('Fifo', () => {
  it('is empty at first: size 0, and peek and shift give undefined', () => {
    const fifo = new Fifo<number>();
    expect(fifo.size).toBe(0);
    expect(fifo.peek()).toBeUndefined();
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.size).toBe(0);
  });

  it('gives items back first in, first out, and counts what is left after each push and shift', () => {
    const fifo = new Fifo<string>();
    fifo.push('a');
    fifo.push('b');
    fifo.push('c');
    expect(fifo.size).toBe(3);
    expect(fifo.shift()).toBe('a');
    expect(fifo.size).toBe(2);
    fifo.push('d');
    expect(fifo.size).toBe(3);
    expect(drain(fifo)).toEqual(['b', 'c', 'd']);
    expect(fifo.size).toBe(0);
  });

  it('peeks at the next item without taking it', () => {
    const fifo = new Fifo<number>();
    fifo.push(1);
    fifo.push(2);
    expect(fifo.peek()).toBe(1);
    expect(fifo.peek()).toBe(1);
    expect(fifo.size).toBe(2);
    expect(fifo.shift()).toBe(1);
    expect(fifo.peek()).toBe(2);
  });

  it('peeks nothing past the end, once every item was taken, and is reusable afterwards', () => {
    const fifo = new Fifo<number>();
    fifo.push(1);
    fifo.push(2);
    fifo.shift();
    fifo.shift();
    expect(fifo.peek()).toBeUndefined();
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.size).toBe(0);
    fifo.push(3);
    expect(fifo.size).toBe(1);
    expect(fifo.peek()).toBe(3);
    expect(drain(fifo)).toEqual([3]);
  });

  it('keeps order and size while it compacts a long-lived queue that never empties', () => {
    const fifo = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let i = 0; i < 5000; i++) fifo.push(next++);
    // Far past the compaction threshold, never empty: every shift must return the oldest item.
    for (let round = 0; round < 20_000; round++) {
      fifo.push(next++);
      fifo.push(next++);
      expect(fifo.shift()).toBe(expected++);
      expect(fifo.shift()).toBe(expected++);
      if (round % 997 === 0) {
        expect(fifo.size).toBe(next - expected);
        expect(fifo.peek()).toBe(expected);
      }
    }
    expect(fifo.size).toBe(5000);
    expect(drain(fifo)).toEqual(Array.from({ length: 5000 }, (_, i) => expected + i));
  });

  it('keeps push and shift cheap: a million items through a queue holding 100,000 at a time', () => {
    // Copying the backlog on every shift (quadratic) would take minutes here; amortised O(1) takes milliseconds.
    const fifo = new Fifo<number>();
    for (let i = 0; i < 100_000; i++) fifo.push(i);
    let sum = 0;
    for (let i = 100_000; i < 1_100_000; i++) {
      fifo.push(i);
      sum += fifo.shift() as number;
    }
    expect(fifo.size).toBe(100_000);
    expect(sum).toBe((1_000_000 * 999_999) / 2);
  });

  it.each([1, 5000])('does not grow with the items that passed through a queue that never empties (%i waiting)', (waiting) => {
    const gc = exposeGc();
    const fifo = new Fifo<number>();
    for (let i = 0; i < waiting; i++) fifo.push(i);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = waiting; i < waiting + 3_000_000; i++) {
      fifo.push(i);
      fifo.shift();
    }
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    // Without compaction the array would keep a slot for each of the 3,000,000 items shifted out: about 24 MB.
    expect(growth, `heap grew by ${(growth / 1e6).toFixed(1)} MB`).toBeLessThan(4e6);
    expect(fifo.size).toBe(waiting);
    expect(fifo.peek()).toBe(3_000_000);
  });
});
