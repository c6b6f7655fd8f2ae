/**
 * The error contract in the pool runtime: every error that settles a pool task is a TaskChartError of its own
 * class and code, rebuilt as that class on the main thread; a task's own error stays its error.
 * The worker entry runs from dist/ (`npm run build` first).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  MissingExportError,
  ModuleLoadError,
  NonRetryableError,
  ResultNotCloneableError,
  TaskChartError,
  TaskEngine,
} from '../../src/index.js';
import { recordEvents } from '../helpers.js';

const errorsModule = new URL('../fixtures/pool-errors.mjs', import.meta.url);
const tasksModule = new URL('../fixtures/pool-tasks.mjs', import.meta.url);
const engines: TaskEngine[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown()));
});

/** Runs one pool task to its end and returns its error (or its result, if it completed). */
async function outcome(spec: {
  name: string;
  module: URL;
  export?: string;
  maxRetries?: number;
}): Promise<{ error: unknown; result: unknown; attempts: number }> {
  const engine = new TaskEngine({ pool: { maxWorkers: 1 } });
  engines.push(engine);
  const id = engine.registerTask({ ...spec, retryDelay: 1 });
  engine.startTask(id);
  let result: unknown;
  let error: unknown;
  try {
    result = await engine.waitForTask(id);
  } catch (e) {
    error = e;
  }
  return { error, result, attempts: engine.getTask(id).attempts };
}

describe('pool runtime: errors that settle a task', () => {
  it('fails with ERR_MODULE_LOAD when the module does not exist, keeping the import error as cause', async () => {
    const missing = new URL('../fixtures/does-not-exist.mjs', import.meta.url);
    const { error } = await outcome({ name: 'load', module: missing });
    expect(error).toBeInstanceOf(ModuleLoadError);
    expect(error).toMatchObject({ code: 'ERR_MODULE_LOAD', name: 'ModuleLoadError', module: missing.href });
    expect((error as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('fails with ERR_MODULE_LOAD when the module throws while it loads, naming the module and its error', async () => {
    const throwing = new URL('../fixtures/pool-throws-on-load.mjs', import.meta.url);
    const { error } = await outcome({ name: 'load', module: throwing });
    expect(error).toBeInstanceOf(ModuleLoadError);
    expect((error as Error).message).toContain(throwing.href);
    expect((error as Error).message).toContain('cannot start: TASK_CONFIG is not set');
    expect((error as Error).cause).toMatchObject({ message: 'cannot start: TASK_CONFIG is not set' });
  });

  it('fails with ERR_MISSING_EXPORT naming the export and what the module does export', async () => {
    const { error } = await outcome({ name: 'export', module: tasksModule, export: 'nope' });
    expect(error).toBeInstanceOf(MissingExportError);
    expect(error).toMatchObject({ code: 'ERR_MISSING_EXPORT', exportName: 'nope', module: tasksModule.href });
    expect((error as Error).message).toMatch(/its exports: .*whereAmI/);
  });

  it('fails with ERR_MISSING_EXPORT when the export is not a function', async () => {
    const { error } = await outcome({ name: 'export', module: tasksModule, export: 'notAFunction' });
    expect(error).toBeInstanceOf(MissingExportError);
    expect((error as Error).message).toMatch(/`notAFunction` is not a function/);
  });

  it('fails with ERR_RESULT_NOT_CLONEABLE naming where in the result the function is, without retries', async () => {
    const { error, attempts } = await outcome({ name: 'result', module: errorsModule, export: 'returnsDeepFunction', maxRetries: 2 });
    expect(error).toBeInstanceOf(ResultNotCloneableError);
    expect(error).toMatchObject({ code: 'ERR_RESULT_NOT_CLONEABLE', problem: 'result.rows[1].format is a function' });
    expect(attempts).toBe(1); // the same code would return the same result
  });

  it('fails with ERR_RESULT_NOT_CLONEABLE when structured clone refuses what the check let through', async () => {
    const { error } = await outcome({ name: 'result', module: errorsModule, export: 'returnsMessagePort' });
    expect(error).toBeInstanceOf(ResultNotCloneableError);
    expect((error as Error).message).toMatch(/structured clone refused it/);
  });

  it('refuses a progress fraction past 1 and a non-function disposer with the same error as the main thread', async () => {
    const progress = await outcome({ name: 'progress', module: errorsModule, export: 'progressPastOne' });
    expect(progress.result).toEqual({ name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION', field: 'fraction' });
    const dispose = await outcome({ name: 'dispose', module: errorsModule, export: 'registerNonFunction' });
    expect(dispose.result).toEqual({ name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION', field: 'dispose' });
    const escaped = await outcome({ name: 'escaped', module: errorsModule, export: 'progressThrowsOut' });
    expect(escaped.error).toBeInstanceOf(InvalidOptionError);
    expect(escaped.error).toMatchObject({ field: 'fraction' });
  });

  it('rebuilds a TaskChartError thrown by the task as its own class, and does not retry a NonRetryableError', async () => {
    const { error, attempts } = await outcome({ name: 'fatal', module: errorsModule, export: 'throwsNonRetryable', maxRetries: 2 });
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(error).toBeInstanceOf(TaskChartError);
    expect(error).toMatchObject({ code: 'ERR_NON_RETRYABLE', message: 'the input will never parse' });
    expect(attempts).toBe(1);
  });

  it('reports a disposer that throws in the worker thread as a resource-error event, the task still COMPLETED', async () => {
    const engine = new TaskEngine({ pool: { maxWorkers: 1 } });
    engines.push(engine);
    const events = recordEvents(engine);
    const id = engine.registerTask({ name: 'socket', module: errorsModule, export: 'disposerThrows' });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toBe('done');
    await engine.shutdown(); // disposals settled
    const reported = events.filter((event) => event.type === 'resource-error');
    expect(reported).toEqual([
      expect.objectContaining({ taskId: id, name: 'socket', error: expect.objectContaining({ message: 'could not close the socket' }) }),
    ]);
    expect(engine.getTaskStatus(id)).toBe('COMPLETED');
  });
});
