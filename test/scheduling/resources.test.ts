import { describe, expect, it } from 'vitest';
import { ResourcePools } from '../../src/scheduling/resources.js';

describe('ResourcePools', () => {
  it('grants units up to capacity and frees them on release', () => {
    const pools = new ResourcePools(new Map([['db', 2], ['gpu', 1]]));
    expect(pools.canAcquire([['db', 2]])).toBe(true);
    pools.acquire([['db', 1]]);
    expect(pools.canAcquire([['db', 2]])).toBe(false);
    expect(pools.canAcquire([['db', 1], ['gpu', 1]])).toBe(true);
    pools.release([['db', 1]]);
    expect(pools.usage()).toEqual({ db: { used: 0, capacity: 2 }, gpu: { used: 0, capacity: 1 } });
  });
});
