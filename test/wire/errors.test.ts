/** Errors as data (src/wire/errors.ts): what crosses a pool thread, a remote job and the store comes back as it left. */
import { describe, expect, it } from 'vitest';
import * as taskchart from '../../src/index.js';
import { ErrorCode, ModuleLoadError, TaskChartError, TaskTimeoutError, UnknownHandlerError } from '../../src/index.js';
import { deserializeError, serializeError } from '../../src/wire/errors.js';

/** Through JSON, as a remote job's result and the store carry it (a thread's structured clone keeps at least as much). */
function roundTrip(error: unknown): Error {
  return deserializeError(JSON.parse(JSON.stringify(serializeError(error))));
}

describe('error serialisation', () => {
  it.each(Object.values(ErrorCode))('brings %s back as its own exported TaskChartError class', (code) => {
    const revived = roundTrip(Object.assign(new Error('from elsewhere'), { code }));
    expect(revived).toBeInstanceOf(TaskChartError);
    expect(revived.constructor).not.toBe(TaskChartError);
    const exported = (taskchart as Record<string, unknown>)[revived.constructor.name];
    expect(exported).toBe(revived.constructor);
    expect(revived).toMatchObject({ code, message: 'from elsewhere' });
  });

  it('gives every code a class of its own', () => {
    const classes = Object.values(ErrorCode).map((code) => roundTrip(Object.assign(new Error('x'), { code })).constructor);
    expect(new Set(classes).size).toBe(Object.values(ErrorCode).length);
  });

  it('keeps name, message, stack, fields and a cause chain of mixed classes', () => {
    const importError = Object.assign(new Error('Cannot find module x'), { code: 'ERR_MODULE_NOT_FOUND', url: 'file:///x.mjs' });
    const original = new ModuleLoadError({ id: 't1', name: 'load' }, 'file:///x.mjs', { cause: importError });
    const revived = roundTrip(original) as ModuleLoadError;
    expect(revived).toBeInstanceOf(ModuleLoadError);
    expect(revived).toMatchObject({
      name: 'ModuleLoadError',
      code: 'ERR_MODULE_LOAD',
      taskId: 't1',
      module: 'file:///x.mjs',
      message: original.message,
    });
    expect(revived.stack).toBe(original.stack);
    expect(revived.cause).not.toBeInstanceOf(TaskChartError);
    expect(revived.cause).toMatchObject({ message: 'Cannot find module x', code: 'ERR_MODULE_NOT_FOUND', url: 'file:///x.mjs' });
  });

  it('keeps a taskchart cause as its class under a foreign error', () => {
    const outer = new Error('wrapped', { cause: new TaskTimeoutError('t2', 50, 1) });
    const revived = roundTrip(outer);
    expect(revived.constructor).toBe(Error);
    expect(revived.cause).toBeInstanceOf(TaskTimeoutError);
    expect(revived.cause).toMatchObject({ timeout: 50, attempt: 1 });
  });

  it('keeps a user error with a code of its own as a plain Error with that code', () => {
    const revived = roundTrip(Object.assign(new RangeError('odd'), { code: 'E_ODD', line: 7 }));
    expect(revived).not.toBeInstanceOf(TaskChartError);
    expect(revived).toMatchObject({ name: 'RangeError', message: 'odd', code: 'E_ODD', line: 7 });
  });

  it('describes a thrown non-Error value', () => {
    expect(roundTrip({ reason: 'nope' })).toMatchObject({ name: 'Error', message: 'Non-error value thrown: {"reason":"nope"}' });
  });

  it('names the handler and where it was looked for', () => {
    const error = new UnknownHandlerError({ id: 'job-1', name: 'render' }, 'render', 'this taskchart worker (its handlers: echo)');
    expect(error.message).toBe(
      'Expected handler `render` of task `render` (job-1) to be defined in this taskchart worker (its handlers: echo), got none of that name',
    );
  });
});
