import { describe, expect, it } from 'vitest';
import { ResourcePools } from '../../src/scheduling/resources.js';

describe('ResourcePools', () => {
  it('grants units up to capacity and frees them on release', () => {
    const pools = new ResourcePools(
      new Map([
        ['db', 2],
        ['gpu', 1],
      ]),
    );
    expect(pools.canAcquire([['db', 2]])).toBe(true);
    pools.acquire([['db', 1]]);
    expect(pools.canAcquire([['db', 2]])).toBe(false);
    expect(
      pools.canAcquire([
        ['db', 1],
        ['gpu', 1],
      ]),
    ).toBe(true);
    pools.release([['db', 1]]);
    expect(pools.usage()).toEqual({ db: { used: 0, capacity: 2 }, gpu: { used: 0, capacity: 1 } });
  });

  it('adds up the units of every holder, and reports them in use until released', () => {
    const pools = new ResourcePools(new Map([['db', 3]]));
    pools.acquire([['db', 1]]);
    pools.acquire([['db', 1]]);
    expect(pools.usedOf('db')).toBe(2);
    expect(pools.usage()).toEqual({ db: { used: 2, capacity: 3 } });
    expect(pools.canAcquire([['db', 1]])).toBe(true);
    pools.acquire([['db', 1]]);
    expect(pools.canAcquire([['db', 1]])).toBe(false);
    pools.release([['db', 2]]);
    expect(pools.usage()).toEqual({ db: { used: 1, capacity: 3 } });
  });

  it('grants nothing of a pool it does not have, and says so', () => {
    const pools = new ResourcePools(new Map([['db', 1]]));
    expect(pools.canAcquire([['gpu', 1]])).toBe(false);
    expect(pools.capacityOf('gpu')).toBeUndefined();
    expect(pools.usedOf('gpu')).toBe(0);
    expect(pools.capacityOf('db')).toBe(1);
  });
});
