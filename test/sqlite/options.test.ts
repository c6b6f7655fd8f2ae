import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { SqliteStore } from '../../src/sqlite/index.js';
import { captureError, useTestFiles } from './helpers.js';

describe('SqliteStore options', () => {
  const temp = useTestFiles();

  it.each([
    ['options', undefined, 'Expected `options` to be a plain object with a `path`, got `undefined` (undefined)'],
    ['options', 'tasks.db', 'Expected `options` to be a plain object with a `path`, got `tasks.db` (string)'],
    ['path', {}, 'Expected `path` to be a non-empty string, got `undefined` (undefined)'],
    ['path', { path: '' }, 'Expected `path` to be a non-empty string, got `` (string)'],
    ['path', { path: 42 }, 'Expected `path` to be a non-empty string, got `42` (number)'],
    ['synchronous', { path: 'x.db', synchronous: 'OFF' }, "Expected `synchronous` to be 'NORMAL' or 'FULL', got `OFF` (string)"],
    ['options.cache', { path: 'x.db', cache: 1 }, 'Unknown field `cache` in `options`; expected one of `path`, `synchronous`'],
  ])('refuses a bad `%s` with InvalidOptionError: %j', (field, options, message) => {
    const error = captureError(() => new SqliteStore(options as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', field, message });
  });

  it('touches no file at construction; open() creates it', () => {
    const store = temp.store({ synchronous: 'FULL' });
    expect(existsSync(temp.file())).toBe(false);
    expect(store.open()).toEqual({ tasks: 0 });
    expect(existsSync(temp.file())).toBe(true);
  });

  it('resolves a relative path at construction', () => {
    const store = new SqliteStore({ path: 'relative.db' });
    expect(isAbsolute(store.path)).toBe(true);
    expect(store.path.endsWith('relative.db')).toBe(true);
    expect(existsSync(store.path)).toBe(false);
  });
});
