import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheKeyError, defaultCacheKey } from '../../src/cache/cache-key.js';

/** The key of a task running `fn:t` on `args` after dependencies that returned `dependencies`. */
function keyOf(args: readonly unknown[], dependencies: readonly unknown[] = []): string {
  return defaultCacheKey({ what: 'fn:t', args, dependencies });
}

/** The CacheKeyError thrown for `args` (fails the test when none is). */
function refusal(args: readonly unknown[], dependencies: readonly unknown[] = []): CacheKeyError {
  try {
    keyOf(args, dependencies);
  } catch (error) {
    expect(error).toBeInstanceOf(CacheKeyError);
    return error as CacheKeyError;
  }
  throw new Error('expected a CacheKeyError, got a key');
}

const bytes = (...values: number[]) => new Uint8Array(values);
/** An array of `length` with only `items` set: the other indices are holes. */
const holey = (length: number, items: Record<number, unknown> = {}) => Object.assign(new Array<unknown>(length), items);

/** Values JSON (and a careless encoder) would confuse: every one must key apart from every other. */
const CONFUSABLE: ReadonlyArray<readonly [string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['0', 0],
  ['-0', -0],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['1', 1],
  ['"1"', '1'],
  ['1n', 1n],
  ['-1n', -1n],
  ['new Number(1)', new Number(1)],
  ['new String("1")', new String('1')],
  ['new Boolean(true)', new Boolean(true)],
  ['Object(1n)', Object(1n)],
  ['true', true],
  ['"true"', 'true'],
  ['""', ''],
  ['"null"', 'null'],
  ['"undefined"', 'undefined'],
  ['Date(0)', new Date(0)],
  ['its ISO string', new Date(0).toISOString()],
  ['Date(1)', new Date(1)],
  ['invalid Date', new Date(NaN)],
  ['{}', {}],
  ['[]', []],
  ['new Map()', new Map()],
  ['new Set()', new Set()],
  ['{ a: undefined }', { a: undefined }],
  ['{ a: null }', { a: null }],
  ['{ a: 1 }', { a: 1 }],
  ['{ "1": "a" }', { 1: 'a' }],
  ['["a"]', ['a']],
  ['[undefined]', [undefined]],
  ['[null]', [null]],
  ['[ , ] (a hole)', holey(1)],
  ['[undefined, 1]', [undefined, 1]],
  ['[ , 1]', holey(2, { 1: 1 })],
  ['["a", "b"]', ['a', 'b']],
  ['["a,b"]', ['a,b']],
  ['["a\\",\\"b"]', ['a","b']],
  ['[["a", 1]]', [['a', 1]]],
  ['Map { a => 1 }', new Map([['a', 1]])],
  ['Map { "a" => undefined }', new Map([['a', undefined]])],
  ['Set { "a" }', new Set(['a'])],
  ['Set { ["a", 1] }', new Set([['a', 1]])],
  ['Map { 1 => "a" }', new Map([[1, 'a']])],
  ['Map { "1" => "a" }', new Map([['1', 'a']])],
  ['Uint8Array [1, 2]', bytes(1, 2)],
  ['Int8Array [1, 2]', new Int8Array([1, 2])],
  ['Uint8ClampedArray [1, 2]', new Uint8ClampedArray([1, 2])],
  ['ArrayBuffer [1, 2]', bytes(1, 2).buffer],
  ['DataView [1, 2]', new DataView(bytes(1, 2).buffer)],
  ['Uint8Array [1, 2, 0]', bytes(1, 2, 0)],
  ['Uint16Array [513]', new Uint16Array([513])],
  ['Float64Array [0]', new Float64Array([0])],
  ['Float64Array [-0]', new Float64Array([-0])],
  ['/a/g', /a/g],
  ['/a/i', /a/i],
  ['/a/', /a/],
  ['"/a/g"', '/a/g'],
  ['/a\\/g/', /a\/g/],
  ['a lone surrogate "\\ud800"', '\ud800'],
  ['"\\ufffd", which UTF-8 makes of a lone surrogate', '\ufffd'],
  ['"\\\\ud800" (its JSON text)', '"\\ud800"'],
  ['"😀" (a surrogate pair)', '😀'],
  ['"\\ud83d\\ude00" split in two', ['\ud83d', '\ude00']],
  ['a string that looks like an encoding', 's1"a'],
  ['["s1\\"a"]', ['s1"a']],
  ['{ a: "b" } as a string key', { 's1"a:s1"b': 1 }],
];

describe('defaultCacheKey', () => {
  it('is "v1:" and a sha256 in hex', () => {
    expect(keyOf([1])).toMatch(/^v1:[0-9a-f]{64}$/);
  });

  it('gives the same key for the same input, call after call and for a fresh copy', () => {
    const make = () => [{ url: 'https://x', headers: new Map([['a', 1]]), at: new Date(5), body: bytes(1, 2, 3), tags: new Set(['x']) }];
    const first = keyOf(make(), [{ n: 1 }]);
    expect(keyOf(make(), [{ n: 1 }])).toBe(first);
    expect(keyOf(make(), [{ n: 1 }])).toBe(first);
  });

  it('ignores the key order of plain objects, at every depth', () => {
    expect(keyOf([{ a: 1, b: 2 }])).toBe(keyOf([{ b: 2, a: 1 }]));
    expect(keyOf([{ x: [{ p: 1, q: { r: 2, s: 3 } }], y: 0 }])).toBe(keyOf([{ y: 0, x: [{ q: { s: 3, r: 2 }, p: 1 }] }]));
    expect(keyOf([{ 2: 'a', b: 1, 1: 'c' }])).toBe(keyOf([{ b: 1, 1: 'c', 2: 'a' }]));
  });

  it('ignores the key order of objects with many keys', () => {
    const names = Array.from({ length: 30 }, (_, i) => `k${(i * 7) % 30}`);
    const forward = Object.fromEntries(names.map((name) => [name, name.length]));
    const backward = Object.fromEntries([...names].reverse().map((name) => [name, name.length]));
    expect(keyOf([forward])).toBe(keyOf([backward]));
    const mixed = ['b', 'B', 'a', '_', '10', '9', 'é', 'e', '😀', ''];
    expect(keyOf([Object.fromEntries(mixed.map((k) => [k, k]))])).toBe(keyOf([Object.fromEntries([...mixed].sort().map((k) => [k, k]))]));
  });

  it('counts an object with a null prototype as a plain object', () => {
    const bare = Object.assign(Object.create(null) as object, { b: 2, a: 1 });
    expect(keyOf([bare])).toBe(keyOf([{ a: 1, b: 2 }]));
  });

  it('ignores the insertion order of Maps and Sets', () => {
    expect(
      keyOf([
        new Map<unknown, unknown>([
          ['a', 1],
          [2, 'b'],
          [{ k: 1 }, [3]],
        ]),
      ]),
    ).toBe(
      keyOf([
        new Map<unknown, unknown>([
          [{ k: 1 }, [3]],
          [2, 'b'],
          ['a', 1],
        ]),
      ]),
    );
    expect(keyOf([new Set<unknown>([1, 'a', { b: 2 }])])).toBe(keyOf([new Set<unknown>([{ b: 2 }, 'a', 1])]));
  });

  it('keeps the order of arrays, of args and of dependencies', () => {
    expect(keyOf([[1, 2]])).not.toBe(keyOf([[2, 1]]));
    expect(keyOf([1, 2])).not.toBe(keyOf([2, 1]));
    expect(keyOf([], [1, 2])).not.toBe(keyOf([], [2, 1]));
  });

  it('tells what runs, the args and the dependencies apart', () => {
    expect(keyOf([1], [])).not.toBe(keyOf([], [1]));
    expect(keyOf([[1]], [])).not.toBe(keyOf([1], []));
    const what = (name: string) => defaultCacheKey({ what: name, args: [1], dependencies: [] });
    expect(what('handler:a')).not.toBe(what('handler:b'));
    expect(what('handler:a')).not.toBe(what('fn:a'));
  });

  it('keys every one of the values JSON would confuse apart from every other', () => {
    const byKey = new Map<string, string>();
    const clashes: string[] = [];
    for (const [label, value] of CONFUSABLE) {
      const key = keyOf([value]);
      const other = byKey.get(key);
      if (other !== undefined) clashes.push(`${label} = ${other}`);
      byKey.set(key, label);
    }
    expect(clashes).toEqual([]);
  });

  it.each([
    ['{ a: undefined } and {}', { a: undefined }, {}],
    ['undefined and null', undefined, null],
    ['-0 and 0', -0, 0],
    ['NaN and null', NaN, null],
    ['1, "1"', 1, '1'],
    ['1 and 1n', 1, 1n],
    ['a Date and its ISO string', new Date(0), '1970-01-01T00:00:00.000Z'],
    ['a Date and its time value', new Date(7), 7],
    ['an invalid Date and a valid one', new Date(NaN), new Date(0)],
    ['a Map and the object of its entries', new Map([['a', 1]]), { a: 1 }],
    ['a hole and undefined', holey(2, { 1: 1 }), [undefined, 1]],
  ])('keys %s apart (also inside an object)', (_label, a, b) => {
    expect(keyOf([a])).not.toBe(keyOf([b]));
    expect(keyOf([{ v: a }])).not.toBe(keyOf([{ v: b }]));
  });

  it('keys an invalid Date the same as another invalid Date', () => {
    expect(keyOf([new Date(NaN)])).toBe(keyOf([new Date('not a date')]));
  });

  it('keys a byte view by the bytes it sees, not its whole buffer', () => {
    expect(keyOf([bytes(9, 1, 2, 9).subarray(1, 3)])).toBe(keyOf([bytes(1, 2)]));
    expect(keyOf([new DataView(bytes(9, 1, 2).buffer, 1)])).toBe(keyOf([new DataView(bytes(1, 2).buffer)]));
    expect(keyOf([Buffer.from([1, 2])])).toBe(keyOf([bytes(1, 2)]));
  });

  it('keys a RegExp by source and flags, not lastIndex', () => {
    const used = /a/g;
    used.exec('aa');
    expect(used.lastIndex).toBe(1);
    expect(keyOf([used])).toBe(keyOf([/a/g]));
  });

  it('encodes a shared reference that is not circular at each place', () => {
    const shared = { x: 1 };
    expect(keyOf([[shared, shared], { a: shared, b: shared }])).toBe(keyOf([[{ x: 1 }, { x: 1 }], { a: { x: 1 }, b: { x: 1 } }]));
    expect(keyOf([shared], [shared])).toBe(keyOf([{ x: 1 }], [{ x: 1 }]));
  });

  it('is unaffected by a refusal before it (nothing is left over from a failed walk)', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const before = keyOf([{ a: 1 }]);
    expect(() => keyOf([circular])).toThrow(CacheKeyError);
    expect(keyOf([{ a: 1 }])).toBe(before);
  });
});

describe('defaultCacheKey refusals', () => {
  class Foo {
    x = 1;
  }

  it.each([
    ['a function', [1, { user: { callback: () => 1 } }], [], 'args[1].user.callback', 'a function'],
    ['a symbol', [[1, Symbol('s')]], [], 'args[0][1]', 'a symbol'],
    ['an instance of a class', [{ foo: new Foo() }], [], 'args[0].foo', 'an instance of Foo'],
    ['an Error', [new TypeError('x')], [], 'args[0]', 'an instance of TypeError'],
    ['a Promise', [], [{ pending: Promise.resolve(1) }], 'dependencies[0].pending', 'an instance of Promise'],
    ['a WeakMap', [new WeakMap()], [], 'args[0]', 'an instance of WeakMap'],
    ['a subclass of Array', [class Items extends Array {}.from([1])], [], 'args[0]', 'an instance of Items'],
    ['a key that is no identifier', [{ 'a b': { 'x-y': () => 1 } }], [], 'args[0]["a b"]["x-y"]', 'a function'],
    ['a Map value', [new Map([['k', () => 1]])], [], 'args[0].get("k")', 'a function'],
    [
      'a Map key',
      [
        new Map<unknown, string>([
          [1, 'a'],
          [Symbol('k'), 'b'],
        ]),
      ],
      [],
      'args[0].keys()[1]',
      'a symbol',
    ],
    ['a Set item', [new Set([1, 2, () => 3])], [], 'args[0].values()[2]', 'a function'],
    ['a boxed symbol', [Object(Symbol('s'))], [], 'args[0]', 'an instance of Symbol'],
  ])('refuses %s, naming its path', (_label, args, dependencies, path, what) => {
    const error = refusal(args, dependencies);
    expect(error.name).toBe('CacheKeyError');
    expect(error.path).toBe(path);
    expect(error.message).toContain(`${path} is ${what}`);
  });

  it('refuses a circular reference, naming where it closes', () => {
    const result: { items: unknown[] } = { items: [1, 2, 3] };
    result.items.push({ back: result });
    const error = refusal([], [{ result }]);
    expect(error.path).toBe('dependencies[0].result.items[3].back');
    expect(error.message).toContain('is a circular reference');
  });

  it('refuses an array that contains itself', () => {
    const items: unknown[] = [1];
    items.push(items);
    expect(refusal([items]).path).toBe('args[0][1]');
  });

  it('refuses a property with a symbol key, which it would otherwise drop', () => {
    const error = refusal([{ a: 1, [Symbol('secret')]: 2 }]);
    expect(error.path).toBe('args[0][Symbol(secret)]');
    expect(error.message).toContain('a property with a symbol key');
  });

  it('tells what to do in the message', () => {
    expect(refusal([() => 1]).message).toMatch(/cache\.key/);
  });
});

/** A small deterministic generator (mulberry32), so that a shuffle is replayed from fast-check's seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/**
 * A deep copy of `value` with every plain object's keys, Map's entries and Set's items put in another order, and
 * plain objects' prototypes swapped between Object.prototype and null at random: the same data.
 */
function reordered(value: unknown, next: () => number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) if (i in value) copy[i] = reordered(value[i], next);
    return copy;
  }
  if (value instanceof Map) return new Map(shuffled([...value], next).map(([k, v]) => [reordered(k, next), reordered(v, next)]));
  if (value instanceof Set) return new Set(shuffled([...value], next).map((item) => reordered(item, next)));
  if (value instanceof Date) return new Date(value.getTime());
  if (ArrayBuffer.isView(value)) {
    const view = value as unknown as { constructor: new (buffer: ArrayBuffer) => unknown };
    return new view.constructor(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer);
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return Object(value.valueOf()); // a boxed primitive
  const copy = (next() < 0.5 ? {} : Object.create(null)) as Record<string, unknown>;
  for (const key of shuffled(Object.keys(value), next)) {
    // defineProperty: a `__proto__` key stays an own property, as fast-check made it.
    Object.defineProperty(copy, key, {
      value: reordered((value as Record<string, unknown>)[key], next),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/**
 * The reference for "the same data": `value` with what isDeepStrictEqual tells apart but a cache key must not
 * normalised: a null prototype made Object.prototype, and an invalid Date (which isDeepStrictEqual finds unequal to
 * itself, its time value being NaN) made one symbol.
 */
const INVALID_DATE = Symbol('invalid Date');
function normalised(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) if (i in value) copy[i] = normalised(value[i]);
    return copy;
  }
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [normalised(k), normalised(v)]));
  if (value instanceof Set) return new Set([...value].map(normalised));
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? INVALID_DATE : value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value; // a typed array, a boxed primitive
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, {
      value: normalised((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** A deep copy of `value` with one of its nodes, the `pick`th (mod their count) in pre-order from the root, replaced. */
function replaced(value: unknown, pick: number, replacement: unknown): unknown {
  const nodes = copyReplacing(value, -1, undefined).nodes;
  return copyReplacing(value, pick % nodes, replacement).copy;
}

function copyReplacing(value: unknown, target: number, replacement: unknown): { copy: unknown; nodes: number } {
  let nodes = 0;
  const copy = (node: unknown): unknown => {
    if (nodes++ === target) return replacement;
    if (typeof node !== 'object' || node === null) return node;
    if (Array.isArray(node)) {
      const items: unknown[] = new Array(node.length);
      for (let i = 0; i < node.length; i++) if (i in node) items[i] = copy(node[i]);
      return items;
    }
    if (node instanceof Map) return new Map([...node].map(([k, v]) => [k, copy(v)]));
    if (node instanceof Set) return new Set([...node].map(copy));
    const proto = Object.getPrototypeOf(node) as object | null;
    if (proto !== Object.prototype && proto !== null) return node; // a Date, a typed array, a boxed primitive: a leaf
    const fields = Object.create(proto) as Record<string, unknown>;
    for (const key of Object.keys(node)) {
      Object.defineProperty(fields, key, {
        value: copy((node as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return fields;
  };
  return { copy: copy(value), nodes };
}

const UNCHANGED = Symbol('unchanged');

const EVERYTHING = {
  stringUnit: 'binary',
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withObjectString: true,
} as const;

describe('defaultCacheKey properties', () => {
  it('gives equal keys to the same data built in another key, entry and item order', () => {
    fc.assert(
      fc.property(fc.anything(EVERYTHING), fc.integer(), (value, seed) => {
        expect(keyOf([value])).toBe(keyOf([reordered(value, random(seed))]));
      }),
      { numRuns: 300 },
    );
  });

  it('gives equal keys exactly to the same data, for values nearly the same', () => {
    // Few keys and values, many of them confusable, small shapes; and `b` is `a` with its orders shuffled and, two
    // times in three, one node replaced: so that many pairs differ in one confusable place, and many are the same data.
    const confusable = fc.constantFrom<unknown>(0, -0, NaN, 1, '1', 1n, '', 'a', null, undefined, Infinity, true, 'true');
    const small = fc.anything({ ...EVERYTHING, key: fc.constantFrom('a', 'b'), values: [confusable], maxDepth: 2, maxKeys: 3 });
    const seen = { same: 0, different: 0 };
    const replacement = fc.option(fc.oneof({ arbitrary: confusable, weight: 3 }, small), { nil: UNCHANGED, freq: 3 });
    fc.assert(
      fc.property(small, fc.nat(), replacement, fc.integer(), (a, pick, by, seed) => {
        const b = reordered(by === UNCHANGED ? a : replaced(a, pick, by), random(seed));
        const same = isDeepStrictEqual(normalised(a), normalised(b));
        seen[same ? 'same' : 'different']++;
        expect(keyOf([a]) === keyOf([b])).toBe(same);
      }),
      { numRuns: 2000 },
    );
    // Neither side of the property was vacuous.
    expect(seen.same).toBeGreaterThan(100);
    expect(seen.different).toBeGreaterThan(100);
  });
});
