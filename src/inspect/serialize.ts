/**
 * JSON-safe copies of arbitrary values (events, contexts, errors) for the
 * inspection recorder. Never throws: whatever cannot be read becomes a marker string.
 */

/** A value `JSON.stringify` writes and `JSON.parse` reads back unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The shape an Error is recorded as. Own enumerable fields (e.g. `taskId`) are kept next to these. */
export interface SerializedError {
  name: string;
  message: string;
  code?: JsonValue;
  stack?: string;
  cause?: JsonValue;
}

/**
 * A JSON-safe copy of `value`: errors as `{ name, message, code, stack, cause }`,
 * bigints as strings, functions and symbols as `[function f]` / `Symbol(x)`,
 * circular references as `[Circular]`, anything nested deeper than `maxDepth` as `[MaxDepth]`,
 * actor references as `[actor <sessionId>]`, Maps and Sets as arrays.
 * `undefined` is dropped from objects (as JSON does) and becomes `null` in arrays.
 *
 * @example
 * toJsonSafe({ n: 1n, error: new Error('x') }); // { n: '1', error: { name: 'Error', message: 'x', stack: '...' } }
 */
export function toJsonSafe(value: unknown, maxDepth = 10): JsonValue | undefined {
  return copy(value, maxDepth, new Set());
}

function copy(value: unknown, depth: number, ancestors: Set<object>): JsonValue | undefined {
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return value.name ? `[function ${value.name}]` : '[function]';
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) return '[Circular]';
  if (depth <= 0) return '[MaxDepth]';
  ancestors.add(object);
  try {
    return copyObject(object, depth - 1, ancestors);
  } catch {
    return '[Unreadable]'; // a revoked proxy or a throwing trap
  } finally {
    ancestors.delete(object);
  }
}

function copyObject(object: object, depth: number, ancestors: Set<object>): JsonValue {
  const item = (v: unknown): JsonValue => copy(v, depth, ancestors) ?? null;
  if (Array.isArray(object)) return object.map(item);
  if (object instanceof Error) return copyError(object, depth, ancestors);
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
  if (object instanceof Map) return [...object].map(([k, v]) => [item(k), item(v)]);
  if (object instanceof Set) return [...object].map(item);
  if (ArrayBuffer.isView(object)) return `[${object.constructor.name}(${object.byteLength} bytes)]`;
  if (isActorRef(object)) return `[actor ${object.sessionId}]`;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return item((object as { toJSON(): unknown }).toJSON());
  return copyFields(object, {}, depth, ancestors);
}

function copyError(error: Error, depth: number, ancestors: Set<object>): JsonValue {
  const out: Record<string, JsonValue> = { name: String(read(() => error.name)), message: String(read(() => error.message)) };
  const code = read(() => (error as { code?: unknown }).code);
  if (code !== undefined) out.code = copy(code, depth, ancestors) ?? null;
  const stack = read(() => error.stack);
  if (typeof stack === 'string') out.stack = stack;
  if ('cause' in error)
    out.cause =
      copy(
        read(() => error.cause),
        depth,
        ancestors,
      ) ?? null;
  return copyFields(error, out, depth, ancestors);
}

function copyFields(object: object, out: Record<string, JsonValue>, depth: number, ancestors: Set<object>): Record<string, JsonValue> {
  for (const key of Object.keys(object)) {
    if (key in out) continue;
    const field = copy(
      read(() => (object as Record<string, unknown>)[key]),
      depth,
      ancestors,
    );
    if (field !== undefined) out[key] = field;
  }
  return out;
}

function isActorRef(object: object): object is { sessionId: string } {
  const ref = object as { sessionId?: unknown; send?: unknown };
  return typeof ref.sessionId === 'string' && typeof ref.send === 'function';
}

const UNREADABLE = '[Unreadable]';

/** Reads one field, turning a throwing getter into a marker. */
function read(get: () => unknown): unknown {
  try {
    return get();
  } catch {
    return UNREADABLE;
  }
}
