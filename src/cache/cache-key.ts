/**
 * The default cache key of a task: `v1:` and the sha256 (hex) of a canonical encoding of what runs (a string the
 * caller builds: `handler:fetchPage`, `module:file:///x.mjs#default`, `fn:taskName`), its args, and its dependencies'
 * results in order. Canonical: two inputs get the same encoding exactly when they hold the same data, whatever the key
 * order of their plain objects (a null prototype counts as plain) or the insertion order of their Maps and Sets; and
 * what JSON would confuse stays apart: `undefined`, `null` and an absent property; NaN, ±Infinity, -0 and 0; `1`,
 * `'1'` and `1n`; a Date (by time value, an invalid one too) and its ISO string; a Map, a Set, an object and an array;
 * a hole and `undefined`; typed arrays, DataViews and ArrayBuffers by type and bytes; a RegExp by source and flags;
 * boxed primitives and their primitives. What is not data is refused with a {@link CacheKeyError} naming where it
 * is: a function, a symbol, a symbol-keyed property, a circular reference, an instance of any other class (an Error,
 * a Promise, a WeakMap, a subclass of Array or Map, a caller's class). A shared reference that is not circular is
 * encoded at each place it appears. Not part of the key: an array's non-index properties, a RegExp's `lastIndex`,
 * the extra properties of a boxed primitive, and whether a byte view is a Buffer or a Uint8Array.
 *
 * Why no library: safe-stable-stringify (`strict`, `deterministic`), the nearest fit, is JSON with sorted keys: it
 * gives `[undefined]` and `[null]`, `{ a: undefined }` and `{}`, -0 and 0, `1n` and `1` (with `bigint`), a Date and
 * its ISO string, and a Map, a Set and `{}` one encoding each, and its refusals name no path. object-hash hashes a
 * function by its source and a circular reference as a marker instead of refusing them, and gives -0 and 0 one hash;
 * canonicalize and json-stable-stringify are JSON only. So: one recursive walk pushing strings to one array, hashed
 * once, since every cache hit pays for it: nothing is stringified whole and parsed again, strings go in as they are
 * behind their length, and a path is built only to throw (measured: ~1.5 µs for a URL and an options object, ~18 µs
 * for a result of 20 rows, ~120 values).
 *
 * Keys outlive the process (a durable store keeps its cache by key): any change to the encoding must change `v1:`.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';
import { ErrorCode, TaskChartError } from '../errors/base.js';

/** What {@link defaultCacheKey} hashes. */
export interface CacheKeyParts {
  /** What runs, as the caller names it, e.g. `handler:fetchPage` or `module:file:///x.mjs#default`. */
  readonly what: string;
  readonly args: readonly unknown[];
  /** The dependencies' results, in the task's order of dependencies. */
  readonly dependencies: readonly unknown[];
}

/**
 * A value in a task's args or dependencies' results that a cache key cannot encode; `path` says where it is. Never
 * thrown at the user: the task runs uncached, and this is the error of its `cache-skipped` event.
 */
export class CacheKeyError extends TaskChartError {
  /** Where the refused value is, e.g. `args[1].user.callback`. */
  readonly path: string;

  constructor(path: string, what: string) {
    super(ErrorCode.CACHE_KEY, `Cannot compute a cache key: ${path} is ${what}; pass only data, or give the task its own \`cache.key\``);
    this.name = 'CacheKeyError';
    this.path = path;
  }
}

/**
 * The default cache key of a task (see the header for what makes two keys equal).
 *
 * @throws {CacheKeyError} when the args or the dependencies' results hold a value that is not data.
 * @example
 * defaultCacheKey({ what: 'handler:fetchPage', args: [{ url, retries: 2 }], dependencies: [] });
 * // 'v1:3f1c…' (64 hex digits), the same for `{ retries: 2, url }`
 */
export function defaultCacheKey(parts: CacheKeyParts): string {
  const out: string[] = [encodeString(parts.what)];
  encodeRoot(parts.args, 'args', out);
  encodeRoot(parts.dependencies, 'dependencies', out);
  // The joined text is well-formed UTF-16 (see encodeString), so its UTF-8 bytes, hashed, tell it apart from any other.
  return `v1:${sha256(out.join(''))}`;
}

/** sha256 in hex: `crypto.hash` where Node has it (20.12 on: one call, no Hash object), `createHash` before. */
const sha256: (text: string) => string =
  typeof nodeCrypto.hash === 'function'
    ? (text) => nodeCrypto.hash('sha256', text, 'hex')
    : (text) => nodeCrypto.createHash('sha256').update(text).digest('hex');

/** Pushes the encoding of an instance of a built-in class; `ancestors` are the objects being encoded around it. */
type Encode = (value: object, out: string[], ancestors: Set<object>) => void;

/** A step of a path: an array index, an object key, or a step into a Map or Set. */
type Step = number | string | symbol | { readonly in: 'mapKey' | 'mapValue' | 'setItem'; readonly index: number; readonly key?: unknown };

/**
 * A refused value on its way up to encodeRoot, which makes it a CacheKeyError: each container it passes adds its
 * step (innermost first), so that no path is kept while nothing is refused (a try costs nothing until it catches).
 */
class Refusal {
  readonly steps: Step[] = [];
  constructor(readonly what: string) {}
}

function encodeRoot(values: readonly unknown[], root: string, out: string[]): void {
  try {
    encode(values, out, new Set());
  } catch (error) {
    if (error instanceof Refusal) throw new CacheKeyError(renderPath(root, error.steps.reverse()), error.what);
    throw error; // a getter's or a proxy's own error
  }
}

/** Encodes the value found at `step` of a container, adding the step to a refusal from inside it. */
function encodeAt(value: unknown, step: Step, out: string[], ancestors: Set<object>): void {
  try {
    encode(value, out, ancestors);
  } catch (error) {
    if (error instanceof Refusal) error.steps.push(step);
    throw error;
  }
}

/**
 * The encoding, where `e` is any encoding: `u` undefined, `n` null, `t`/`f`, `d<number>` (`d-0`, `dNaN`,
 * `dInfinity`), `b<bigint>`, a string as `s<length>"<its code units>` (see encodeString), `[e,…]` with `_` for a
 * hole, `{s…:e,…}` sorted by key, `D<time value>`, `R<source as a string><flags>`, `M{e:e,…}` and `S{e,…}` sorted
 * by their entries' encodings, `V<type>(<base64>)` for a typed array or DataView, `A(…)` and `H(…)` for an
 * ArrayBuffer and a SharedArrayBuffer, `O<e>` for a boxed primitive. Every encoding ends where it is known to (by a
 * length, a quote or a bracket), or is followed by one of `,:]})`, which no number, bigint or flags text holds: so
 * concatenations read back one way only.
 */
function encode(value: unknown, out: string[], ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(encodeString(value));
      return;
    case 'number':
      out.push(Object.is(value, -0) ? 'd-0' : `d${value}`);
      return;
    case 'boolean':
      out.push(value ? 't' : 'f');
      return;
    case 'undefined':
      out.push('u');
      return;
    case 'bigint':
      out.push(`b${value}`);
      return;
    case 'function':
      throw new Refusal('a function');
    case 'symbol':
      throw new Refusal('a symbol');
  }
  if (value === null) out.push('n');
  else encodeObject(value as object, out, ancestors);
}

/**
 * `s<length>"` and the string as it is (cheaper than JSON's escaping, and as unambiguous), when it is well-formed
 * UTF-16; a string with a lone surrogate, which UTF-8 would turn into U+FFFD like any other, is JSON (`"\\ud800"`).
 */
function encodeString(value: string): string {
  return (value as unknown as WellFormed).isWellFormed() ? `s${value.length}"${value}` : JSON.stringify(value);
}

/** String.prototype.isWellFormed: in Node 20, typed from ES2024, past this project's `lib`. */
interface WellFormed {
  isWellFormed(): boolean;
}

function encodeObject(value: object, out: string[], ancestors: Set<object>): void {
  if (ancestors.has(value)) throw new Refusal('a circular reference');
  const proto = Object.getPrototypeOf(value) as object | null;
  ancestors.add(value);
  if (proto === Object.prototype || proto === null) encodePlain(value as Record<string, unknown>, out, ancestors);
  else if (proto === Array.prototype) encodeArray(value as readonly unknown[], out, ancestors);
  else if (ArrayBuffer.isView(value)) out.push(`V${viewType(value)}(${base64(value.buffer, value.byteOffset, value.byteLength)})`);
  else {
    const encodeBuiltIn = BUILT_INS.get(proto);
    if (encodeBuiltIn === undefined) throw new Refusal(`an instance of ${className(proto)}`);
    encodeBuiltIn(value, out, ancestors);
  }
  ancestors.delete(value);
}

function encodePlain(value: Record<string, unknown>, out: string[], ancestors: Set<object>): void {
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    if (!Object.prototype.propertyIsEnumerable.call(value, symbol)) continue;
    const refusal = new Refusal('a property with a symbol key');
    refusal.steps.push(symbol);
    throw refusal;
  }
  const keys = sortStrings(Object.keys(value));
  out.push('{');
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out.push(',');
    out.push(encodeString(key), ':');
    encodeAt(value[key], key, out, ancestors);
  }
  out.push('}');
}

/**
 * Sorts `items` in place by UTF-16 code units, as Array#sort does: by insertion while short (an object's keys are
 * few, and this measured ~15% of a key faster than Array#sort's generic path on them).
 */
function sortStrings(items: string[]): string[] {
  if (items.length > 12) return items.sort();
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as string;
    let j = i - 1;
    for (; j >= 0 && (items[j] as string) > item; j--) items[j + 1] = items[j] as string;
    items[j + 1] = item;
  }
  return items;
}

function encodeArray(value: readonly unknown[], out: string[], ancestors: Set<object>): void {
  out.push('[');
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out.push(',');
    if (i in value) encodeAt(value[i], i, out, ancestors);
    else out.push('_');
  }
  out.push(']');
}

function encodeMap(value: object, out: string[], ancestors: Set<object>): void {
  const entries: string[] = [];
  let index = 0;
  for (const [key, item] of value as Map<unknown, unknown>) {
    const entry: string[] = [];
    encodeAt(key, { in: 'mapKey', index }, entry, ancestors);
    entry.push(':');
    encodeAt(item, { in: 'mapValue', index, key }, entry, ancestors);
    entries.push(entry.join(''));
    index++;
  }
  out.push(`M{${entries.sort().join(',')}}`);
}

function encodeSet(value: object, out: string[], ancestors: Set<object>): void {
  const items: string[] = [];
  let index = 0;
  for (const item of value as Set<unknown>) {
    const encoded: string[] = [];
    encodeAt(item, { in: 'setItem', index: index++ }, encoded, ancestors);
    items.push(encoded.join(''));
  }
  out.push(`S{${items.sort().join(',')}}`);
}

/** Encodes a boxed primitive by its primitive, read with its class's own `valueOf`. */
function boxed(valueOf: (this: object) => unknown): Encode {
  return (value, out, ancestors) => {
    out.push('O');
    encode(valueOf.call(value), out, ancestors);
  };
}

/** The classes whose instances are data, by prototype (a subclass is refused: its instances may hold more). */
const BUILT_INS: ReadonlyMap<object, Encode> = new Map<object, Encode>([
  [Date.prototype, (value, out) => out.push(`D${(value as Date).getTime()}`)],
  [RegExp.prototype, (value, out) => out.push(`R${encodeString((value as RegExp).source)}${(value as RegExp).flags}`)],
  [Map.prototype, encodeMap],
  [Set.prototype, encodeSet],
  [ArrayBuffer.prototype, (value, out) => out.push(`A(${base64(value as ArrayBuffer, 0, (value as ArrayBuffer).byteLength)})`)],
  [
    SharedArrayBuffer.prototype,
    (value, out) => out.push(`H(${base64(value as SharedArrayBuffer, 0, (value as SharedArrayBuffer).byteLength)})`),
  ],
  [Number.prototype, boxed(Number.prototype.valueOf)],
  [String.prototype, boxed(String.prototype.valueOf)],
  [Boolean.prototype, boxed(Boolean.prototype.valueOf)],
  [BigInt.prototype, boxed(BigInt.prototype.valueOf)],
]);

/** `Uint8Array`, `Float64Array`, `DataView`, ... (a Buffer is its Uint8Array). */
function viewType(view: ArrayBufferView): string {
  return Object.prototype.toString.call(view).slice(8, -1);
}

function base64(buffer: ArrayBufferLike, offset: number, length: number): string {
  return Buffer.from(buffer, offset, length).toString('base64');
}

function className(proto: object): string {
  try {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? name : 'an anonymous class';
  } catch {
    return 'an unreadable class';
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `args[1].user.callback`, `dependencies[0]["a b"]`, `args[0].get("k").values()[2]`. */
function renderPath(root: string, steps: readonly Step[]): string {
  let path = root;
  for (const step of steps) {
    if (typeof step === 'number') path += `[${step}]`;
    else if (typeof step === 'string') path += IDENTIFIER.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
    else if (typeof step === 'symbol') path += `[${step.toString()}]`;
    else if (step.in === 'mapKey') path += `.keys()[${step.index}]`;
    else if (step.in === 'mapValue') path += `.get(${describeMapKey(step.key, step.index)})`;
    else path += `.values()[${step.index}]`;
  }
  return path;
}

/** A Map key as a path shows it: a primitive as written in code, an object by its place (a Map has no -0 key). */
function describeMapKey(key: unknown, index: number): string {
  if (typeof key === 'string') return JSON.stringify(key);
  if (typeof key === 'bigint') return `${key}n`;
  return typeof key === 'object' && key !== null ? `keys()[${index}]` : String(key);
}
