import { describe, expect, it } from 'vitest';
import { findUncloneable } from '../../src/wire/cloneable.js';

describe('findUncloneable', () => {
  it('accepts what structured clone accepts: plain data, binary data, Map, Set, Date, errors and cycles', () => {
    const cyclic: Record<string, unknown> = { n: 1, s: 'x', big: 2n, nested: [new Float64Array(2), new ArrayBuffer(8)] };
    cyclic.self = cyclic;
    const value = [cyclic, new Map([['k', new Set([new Date(0), /re/g])]]), new Error('e'), null, undefined];
    expect(findUncloneable(value, 'args')).toBeUndefined();
    expect(() => structuredClone(value)).not.toThrow();
  });

  it.each([
    [[{ a: { b: () => 1 } }], 'args[0].a.b is a function'],
    [[Symbol('s')], 'args[0] is a symbol'],
    [[Promise.resolve()], 'args[0] is a Promise'],
    [[new WeakMap()], 'args[0] is a WeakMap'],
    [[new Map([['key', () => 1]])], 'args[0].get("key") is a function'],
    [[new Set([1, Symbol('x')])], 'args[0].values()[1] is a symbol'],
    [[new Proxy({}, {})], 'args[0] is a Proxy'],
  ])('names where the first uncloneable value of %o is', (value, message) => {
    expect(findUncloneable(value, 'args')).toBe(message);
    expect(() => structuredClone(value)).toThrow();
  });
});
