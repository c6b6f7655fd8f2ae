import { describe, expect, it } from 'vitest';
import { TaskTimeoutError } from '../../src/index.js';
import { toJsonSafe } from '../../src/inspect/index.js';

describe('toJsonSafe', () => {
  it("keeps an error's name, message, code, stack, cause and own fields", () => {
    const error = new TaskTimeoutError('t1', 50, 2);
    const copy = toJsonSafe(new Error('outer', { cause: error })) as Record<string, unknown>;
    expect(copy).toMatchObject({ name: 'Error', message: 'outer', stack: expect.any(String) });
    expect(copy.cause).toMatchObject({ name: 'TaskTimeoutError', code: 'ERR_TASK_TIMEOUT', taskId: 't1', timeout: 50, attempt: 2 });
  });

  it('writes circular references, functions, symbols, bigints and non-finite numbers as strings', () => {
    const value: Record<string, unknown> = { n: 10n, f: function named() {}, s: Symbol('x'), inf: Infinity, nan: NaN, u: undefined };
    value.self = value;
    expect(toJsonSafe(value)).toEqual({ n: '10', f: '[function named]', s: 'Symbol(x)', inf: 'Infinity', nan: 'NaN', self: '[Circular]' });
  });

  it('keeps a value seen twice but not circular', () => {
    const shared = { a: 1 };
    expect(toJsonSafe({ x: shared, y: [shared, undefined] })).toEqual({ x: { a: 1 }, y: [{ a: 1 }, null] });
  });

  it('stops at maxDepth and survives throwing getters', () => {
    const deep = { a: { b: { c: { d: 1 } } } };
    expect(toJsonSafe(deep, 2)).toEqual({ a: { b: '[MaxDepth]' } });
    const hostile = {
      get boom(): never {
        throw new Error('no');
      },
      ok: 1,
    };
    expect(toJsonSafe(hostile)).toEqual({ boom: '[Unreadable]', ok: 1 });
  });

  it('writes dates, maps, sets, typed arrays and actor references readably', () => {
    expect(
      toJsonSafe({
        d: new Date(0),
        m: new Map([['k', 1]]),
        s: new Set([1, 2]),
        b: new Uint8Array(4),
        actor: { sessionId: 'x:3', send() {} },
      }),
    ).toEqual({ d: '1970-01-01T00:00:00.000Z', m: [['k', 1]], s: [1, 2], b: '[Uint8Array(4 bytes)]', actor: '[actor x:3]' });
  });
});
