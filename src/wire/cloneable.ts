/**
 * Finds the first value in a graph that the structured clone algorithm
 * refuses (functions, symbols, promises, weak collections, ...), and says
 * where it is, e.g. `args[0].onDone is a function`. Walks objects, arrays,
 * Maps and Sets once each (cycles are fine); binary data is not read, so
 * checking a large ArrayBuffer costs nothing.
 */

import { types } from 'node:util';

const REFUSED_TAGS: ReadonlySet<string> = new Set([
  'Promise',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'FinalizationRegistry',
  'Generator',
  'AsyncGenerator',
]);

export function findUncloneable(value: unknown, path: string): string | undefined {
  const seen = new Set<object>();
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length > 0) {
    const [current, where] = stack.pop() as [unknown, string];
    if (typeof current === 'function') return `${where} is a function`;
    if (typeof current === 'symbol') return `${where} is a symbol`;
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    if (types.isProxy(current)) return `${where} is a Proxy`;
    if (ArrayBuffer.isView(current) || current instanceof ArrayBuffer || current instanceof SharedArrayBuffer) continue;
    if (current instanceof Date || current instanceof RegExp || current instanceof Error) continue;
    const tag = Object.prototype.toString.call(current).slice(8, -1);
    if (REFUSED_TAGS.has(tag)) return `${where} is a ${tag}`;
    if (current instanceof Map) {
      let i = 0;
      for (const [key, item] of current) {
        stack.push([key, `${where}.keys()[${i}]`], [item, `${where}.get(${describeKey(key)})`]);
        i++;
      }
      continue;
    }
    if (current instanceof Set) {
      let i = 0;
      for (const item of current) stack.push([item, `${where}.values()[${i++}]`]);
      continue;
    }
    const isArray = Array.isArray(current);
    for (const key of Object.keys(current)) {
      // Own enumerable data only, as structured clone does; a getter is read as its value.
      stack.push([(current as Record<string, unknown>)[key], isArray ? `${where}[${key}]` : `${where}.${key}`]);
    }
  }
  return undefined;
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : typeof key === 'object' ? '{...}' : String(key);
}
