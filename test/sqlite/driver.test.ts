import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { loadDriver, requireDriver } from '../../src/sqlite/driver.js';

describe('loading better-sqlite3', () => {
  it('says how to install it when it is missing', () => {
    const missing = Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
    const load = (): never => {
      throw missing;
    };
    expect(() => requireDriver(load)).toThrow(StoreError);
    expect(() => requireDriver(load)).toThrow(
      'SqliteStore needs the better-sqlite3 package, which is not installed: run `npm install better-sqlite3@12`',
    );
  });

  it('passes on why it could not load an installed one', () => {
    const load = (): never => {
      throw new Error('was compiled against a different Node.js version');
    };
    expect(() => requireDriver(load)).toThrow(
      /could not load better-sqlite3 \(expected version 12, built for this Node.js\): was compiled against/,
    );
  });

  it('loads the installed one', () => {
    expect(typeof loadDriver()).toBe('function');
  });
});
