/**
 * Bad input for the boundary fuzz (bad-input.test.ts): values of the wrong
 * type or range, objects with prototype-polluting keys, and hostile values
 * (getters and Proxy traps that throw, revoked Proxies). Hostile values are
 * generated as recipes, made fresh inside the property by `materialize`, so
 * that fast-check can print and shrink a counterexample without touching them.
 */
import fc from 'fast-check';

/** Keys that pollute a prototype when a careless merge assigns them. */
export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Field names of every surface, so generated objects hit real fields too. */
export const SPEC_FIELDS = [
  'id',
  'name',
  'fn',
  'handler',
  'args',
  'priority',
  'dependencies',
  'maxRetries',
  'retryDelay',
  'maxRetryDelay',
  'jitter',
  'timeout',
  'resources',
  'executor',
  'durable',
  'module',
  'export',
  'transfer',
] as const;
export const OPTION_FIELDS = ['concurrency', 'resources', 'retention', 'pool', 'inspect', 'executors', 'clock', 'now'] as const;
const INNER_FIELDS = [
  'maxFinished',
  'finishedTtl',
  'maxWorkers',
  'minWorkers',
  'execute',
  'validate',
  'close',
  'setTimeout',
  'clearTimeout',
  'next',
  'error',
  'complete',
  'mode',
  'db',
  'length',
  '0',
  'then',
  'toJSON',
  'toString',
  'valueOf',
];

/** Object keys: polluting ones, real field names, short strings. */
export const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...POLLUTING_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...SPEC_FIELDS, ...OPTION_FIELDS, ...INNER_FIELDS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 4 }) },
);

export const badNumberArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    -1,
    0.5,
    -0.5,
    1e-300,
    1e308,
    -1e308,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    -Number.MAX_SAFE_INTEGER,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    1.0000001,
    4,
  ),
  fc.double(),
  fc.integer({ min: -10, max: 10 }),
);

export const badStringArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '__proto__',
    'constructor',
    'prototype',
    'async',
    'pool',
    'remote',
    'NaN',
    '-1',
    'file:',
    'file://host:1/x.mjs',
    'file:///nonexistent/x.mjs',
    'http://example.com/x.mjs',
    '../x.mjs',
    'x'.repeat(300),
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ maxLength: 6 }).map((s) => `file:${s}`),
);

const symbolArb = fc.constantFrom(Symbol('bad'), Symbol.iterator, Symbol.for('taskchart'), Symbol());

const oddObjectArb = fc
  .constantFrom(
    () => new Date(NaN),
    () => /re/g,
    () => new URL('http://example.com/'),
    () => new URL('file:///tmp/x.mjs'),
    () => new ArrayBuffer(4),
    () => new Uint8Array(2),
    () => new Error('an error as a value'),
    () => Promise.resolve(1),
    () => new WeakMap(),
    () => Object.create({ polluted: true }) as object,
    () => Object.create(null) as object,
    () =>
      new (class Custom {
        a = 1;
      })(),
    () => Object.assign(() => 1, { execute: () => 1 }),
    function named() {
      return 1;
    },
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    () => Math.max as Function,
    () => async function* gen() {},
    () => class K {},
  )
  .map((make) => make());

/**
 * Ordinary bad values: anything of the wrong type or range, objects with
 * prototype-polluting own keys, symbols, BigInts, odd built-ins.
 */
export const ordinaryBadArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.anything({
      key: keyArb,
      maxDepth: 2,
      maxKeys: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withTypedArray: true,
      withSparseArray: true,
    }),
  },
  { weight: 2, arbitrary: badNumberArb },
  { weight: 2, arbitrary: badStringArb },
  { weight: 1, arbitrary: symbolArb },
  { weight: 1, arbitrary: fc.bigInt() },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false) },
  { weight: 1, arbitrary: oddObjectArb },
  { weight: 1, arbitrary: fc.dictionary(keyArb, badNumberArb, { maxKeys: 3 }) },
);

/** The error hostile values throw; seeing it escape a verb means the engine let user code's exception through. */
export class HostileAccessError extends Error {
  override name = 'HostileAccessError';
}

/** A hostile value, made fresh by `materialize`; prints as its recipe. */
export class Hostile {
  constructor(
    readonly label: string,
    readonly make: () => unknown,
  ) {}
  [fc.toStringMethod](): string {
    return this.label;
  }
}

const boom = (what: string): never => {
  throw new HostileAccessError(`hostile ${what}`);
};

function withThrowingGetters(target: object, keys: readonly string[]): object {
  for (const key of keys) Object.defineProperty(target, key, { enumerable: true, configurable: true, get: () => boom(`getter ${key}`) });
  return target;
}

const ALL_TRAPS = [
  'get',
  'set',
  'has',
  'ownKeys',
  'getOwnPropertyDescriptor',
  'defineProperty',
  'deleteProperty',
  'getPrototypeOf',
  'setPrototypeOf',
  'isExtensible',
  'preventExtensions',
  'apply',
  'construct',
] as const;

function throwingProxy<T extends object>(target: T): T {
  const handler: ProxyHandler<T> = {};
  for (const trap of ALL_TRAPS) (handler as Record<string, unknown>)[trap] = () => boom(`proxy trap ${trap}`);
  return new Proxy(target, handler);
}

function revoked<T extends object>(target: T): T {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

const throwingConversions = () => ({
  [Symbol.toPrimitive]: () => boom('toPrimitive'),
  toString: () => boom('toString'),
  valueOf: () => boom('valueOf'),
  toJSON: () => boom('toJSON'),
});

const throwingGetterKeys = [...SPEC_FIELDS, ...OPTION_FIELDS, ...INNER_FIELDS];

const hostileRecipes: readonly Hostile[] = [
  new Hostile('objectWithThrowingGetters()', () => withThrowingGetters({}, throwingGetterKeys)),
  new Hostile('nullProtoObjectWithThrowingGetters()', () => withThrowingGetters(Object.create(null) as object, throwingGetterKeys)),
  new Hostile('arrayWithThrowingIndexGetter()', () => withThrowingGetters(['dep-done'], ['0'])),
  new Hostile('functionWithThrowingName()', () => withThrowingGetters(function fn() {}, ['name'])),
  new Hostile('objectWithThrowingConversions()', throwingConversions),
  new Hostile('throwingProxy({})', () => throwingProxy({})),
  new Hostile('throwingProxy([])', () => throwingProxy([])),
  new Hostile('throwingProxy(function)', () => throwingProxy(function target() {})),
  new Hostile('revokedProxy({})', () => revoked({})),
  new Hostile('revokedProxy([])', () => revoked([])),
  new Hostile('revokedProxy(function)', () => revoked(function target() {})),
  new Hostile('transparentProxy({ db: 1 })', () => new Proxy({ db: 1 }, {})),
  new Hostile("transparentProxy(['dep-done'])", () => new Proxy(['dep-done'], {})),
  new Hostile('transparentProxy(() => 1)', () => new Proxy(() => 1, {})),
];

const recipes: ReadonlySet<unknown> = new Set(hostileRecipes);

/**
 * The real value of a generated one: hostile recipes are made here, everything
 * else is itself. A Set lookup, because `instanceof` would run a Proxy's traps.
 */
export const materialize = (value: unknown): unknown => (recipes.has(value) ? (value as Hostile).make() : value);

/** Hostile values: user objects whose own code throws when the engine looks at them. */
export const hostileArb: fc.Arbitrary<Hostile> = fc.constantFrom(...hostileRecipes);

/** Bad values of every kind, hostile ones included. */
export const anyBadArb: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: ordinaryBadArb }, { weight: 1, arbitrary: hostileArb });

/** An array of `length` with only `value` at `index`: holes elsewhere. */
function sparse(length: number, index: number, value: unknown): unknown[] {
  const array = new Array<unknown>(length);
  array[index] = value;
  return array;
}

/** An object whose own keys include `__proto__` (JSON.parse defines it; an assignment would set the prototype). */
const ownProto = (value: unknown): Record<string, unknown> =>
  JSON.parse(`{"__proto__": ${JSON.stringify(value)}}`) as Record<string, unknown>;

/**
 * Near misses per field, path or verb argument: values one step from valid
 * (off by a unit, the right type boxed, a reserved name, a malformed URL).
 * Made fresh for each run.
 */
const NEAR_MISSES: Readonly<Record<string, () => readonly unknown[]>> = {
  // task spec
  id: () => ['', ' ', '__proto__', 'constructor', 'toString', 'dep-done', new String('x'), 7],
  name: () => ['', 0, ['x'], new String('x'), null],
  fn: () => ['() => 1', {}, null, 0, Math.max, Function.prototype.bind.call(() => 1, null)],
  handler: () => ['', 'constructor', '__proto__', 'toString', 'unknown-handler', new String('known')],
  args: () => ['a', { length: 1, 0: 'a' }, new Set([1]), null, 0],
  priority: () => [-1, 4, 1.5, '1', 'NORMAL', NaN, null, new Number(1), 1n],
  dependencies: () => [
    'dep-done',
    [''],
    [' '],
    ['__proto__'],
    ['constructor'],
    ['missing'],
    [1],
    [undefined],
    sparse(2, 1, 'dep-done'),
    new Set(['dep-done']),
  ],
  maxRetries: () => [-1, 1.5, NaN, Infinity, '1', -Infinity, null, 1n],
  retryDelay: () => [-1, NaN, Infinity, '10', -Number.MIN_VALUE, null],
  maxRetryDelay: () => [-1, NaN, -Infinity, '10', null],
  jitter: () => [-0.1, 1.1, NaN, Infinity, '0.5', null],
  timeout: () => [0, -0, -1, NaN, Infinity, '10', null, 1n],
  resources: () => [
    { db: 0 },
    { db: 3 },
    { db: 1.5 },
    { gpu: 2 },
    { db: '1' },
    { db: NaN },
    ownProto(1),
    { constructor: 1 },
    { toString: 1 },
    [],
    new Map([['db', 1]]),
  ],
  executor: () => ['', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'POOL', 'async ', new String('async')],
  durable: () => ['true', 0, 1, null, new Boolean(true)],
  module: () => [
    '',
    'file://host:1/x.mjs',
    'file://[/x.mjs',
    'file://a b/x.mjs',
    'http://example.com/x.mjs',
    new URL('http://example.com/x.mjs'),
    { href: 'file:///x.mjs', protocol: 'file:' },
    0,
  ],
  export: () => ['', 0, null, '__proto__', new String('default')],
  transfer: () => [[new SharedArrayBuffer(8)], [new Uint8Array(2)], new ArrayBuffer(8), [{}], [null], 'buffer'],
  // engine options (paths below the options object)
  concurrency: () => [0, -1, 1.5, NaN, Infinity, '4', null, 1n, new Number(4)],
  'resources.db': () => [0, -1, 1.5, '2', Infinity, NaN, null],
  'retention.maxFinished': () => [-1, 1.5, NaN, '3', null, -Infinity],
  'retention.finishedTtl': () => [-1, NaN, Infinity, '10', null],
  retention: () => [0, 'x', [], null, { maxFinished: 1, ttl: 5 }],
  pool: () => [0, 'x', [], null, { maxWorkers: 1, minWorkers: 2 }, { workers: 1 }],
  'pool.maxWorkers': () => [0, -1, 1.5, Infinity, NaN, '2', null],
  'pool.minWorkers': () => [-1, 1.5, 99, NaN, '0', null],
  inspect: () => [42, 'x', [], null, { next: 42 }, { next: 'x' }, { error: 1 }, { complete: 'x' }, new Map()],
  'inspect.next': () => [42, 'x', {}, null, true],
  executors: () => [
    [],
    null,
    'remote',
    { async: { execute: () => 1 } },
    { pool: { execute: () => 1 } },
    { x: {} },
    { x: { execute: 1 } },
    { x: null },
    { x: () => {} },
  ],
  'executors.remote': () => [{}, { execute: 'x' }, null, 1, () => {}, []],
  'executors.remote.concurrency': () => [0, -1, NaN, 1.5, '2', null, Infinity],
  'executors.remote.validate': () => [1, 'x', {}, null, true],
  'executors.remote.close': () => [1, 'x', {}, null, true],
  clock: () => [{}, { setTimeout: () => 0 }, { setTimeout: 1, clearTimeout: 1 }, () => 0, null, 'clock'],
  'clock.setTimeout': () => [1, null, 'x', {}],
  now: () => [Date.now(), 'x', {}, null, new Date()],
  // verb arguments
  verbId: () => [
    '',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    new String('pending'),
    ['pending'],
    { toString: () => 'pending' },
  ],
  fraction: () => [-0, -1e-9, 1 + 1e-9, NaN, Infinity, -Infinity, '0.5', 0n, new Number(0.5), null],
  message: () => [0, null, {}, new String('x'), ['x'], Symbol('m')],
  dispose: () => ['x', null, {}, 0, Promise.resolve()],
  handlerName: () => ['', '__proto__', 'constructor', 'toString', 'known', new String('h'), 0, null],
  mode: () => ['suspend', 'CANCEL', 'Drain', '', null, 0, ['drain'], new String('drain')],
  shutdownOptions: () => [
    'drain',
    ['drain'],
    { mode: 'suspend' },
    ownProto({ mode: 'drain' }),
    Object.create({ mode: 'drain' }) as object,
    { mode: 'drain', polluted: 1 },
    null,
    0,
  ],
};

/** Bad values for one field: generic ones, and that field's near misses. */
export function badFor(field: string, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const nearMisses = NEAR_MISSES[field];
  if (nearMisses === undefined) return bad;
  const count = nearMisses().length;
  return fc.oneof({ weight: 1, arbitrary: bad }, { weight: 2, arbitrary: fc.nat(count - 1).map((i) => nearMisses()[i]) });
}
