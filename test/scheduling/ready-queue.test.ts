import { describe, expect, it } from 'vitest';
import { ReadyQueue, type ReadyItem } from '../../src/scheduling/ready-queue.js';

interface Item extends ReadyItem {
  id: string;
  live: boolean;
}
const item = (id: string, priority: number, seq: number, lane = 'async'): Item => ({ id, priority, seq, lane, live: true });

describe('ReadyQueue', () => {
  it('takes the highest priority first and FIFO by start order within a level', () => {
    const queue = new ReadyQueue<Item>((i) => i.live);
    queue.push(item('low', 0, 1));
    queue.push(item('normal-2', 1, 3));
    queue.push(item('critical', 3, 5));
    queue.push(item('normal-1', 1, 2));
    queue.push(item('high', 2, 4));
    const order: string[] = [];
    for (let next = queue.take(() => true); next; next = queue.take(() => true)) order.push(next.id);
    expect(order).toEqual(['critical', 'high', 'normal-1', 'normal-2', 'low']);
  });

  it('skips a blocked lane without blocking the others', () => {
    const queue = new ReadyQueue<Item>((i) => i.live);
    queue.push(item('db-critical', 3, 1, 'db'));
    queue.push(item('plain-low', 0, 2));
    expect(queue.take((i) => i.lane !== 'db')?.id).toBe('plain-low');
    expect(queue.take((i) => i.lane !== 'db')).toBeUndefined();
    expect(queue.take(() => true)?.id).toBe('db-critical');
  });

  it('drops entries that left the queue some other way', () => {
    const queue = new ReadyQueue<Item>((i) => i.live);
    const cancelled = item('cancelled', 3, 1);
    queue.push(cancelled);
    queue.push(item('kept', 1, 2));
    cancelled.live = false;
    expect(queue.take(() => true)?.id).toBe('kept');
    expect(queue.isEmpty).toBe(true);
  });

  it('is empty only when no live entry is left', () => {
    const queue = new ReadyQueue<Item>((i) => i.live);
    expect(queue.isEmpty).toBe(true);
    const only = item('only', 1, 1);
    queue.push(only);
    expect(queue.isEmpty).toBe(false);
    only.live = false;
    expect(queue.isEmpty).toBe(true);
  });

  it('keeps one heap per lane: 100,000 entries of one lane come out in order, each in logarithmic time', () => {
    // One heap per entry would make every take scan them all (quadratic: minutes here); one per lane takes milliseconds.
    const queue = new ReadyQueue<Item>((i) => i.live);
    for (let seq = 1; seq <= 100_000; seq++) queue.push(item(`t${seq}`, seq % 4, seq));
    let previous: Item | undefined;
    let taken = 0;
    for (let next = queue.take(() => true); next !== undefined; next = queue.take(() => true)) {
      if (
        previous !== undefined &&
        (next.priority > previous.priority || (next.priority === previous.priority && next.seq < previous.seq))
      ) {
        throw new Error(`${next.id} came out after ${previous.id}`);
      }
      previous = next;
      taken++;
    }
    expect(taken).toBe(100_000);
    expect(queue.isEmpty).toBe(true);
  });
});
