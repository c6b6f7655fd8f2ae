/**
 * A store restored by a process set up differently: a stored unfinished task whose executor is missing here, whose
 * resource pool is missing or smaller here, or whose handler is not defined, fails with ERR_INVALID_OPTION naming
 * the field and why (finished tasks are restored as they were); with `{ unrunnable: 'refuse' }`, restore() lists
 * them (five, and how many more) and restores nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Executor } from '../../src/index.js';
import { flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

/** An executor whose attempts never end (the first process is stopped with them running). */
const hanging: Executor = { execute: () => new Promise(() => {}) };

/** A store holding unfinished tasks on a custom executor and with resources, one finished task, and `extra` more. */
async function storeWithWork(path: string, extra = 0): Promise<void> {
  const first = durableEngine(path, { executors: { gpu: hanging }, resources: { db: 2, cache: 1 } });
  first.engine.defineTask('work', () => new Promise(() => {}));
  first.engine.defineTask('done', () => 'finished before');
  first.engine.registerTasks([
    { id: 'render', name: 'render', handler: 'work', executor: 'gpu' },
    { id: 'load', name: 'load', handler: 'work', resources: { db: 2 } },
    { id: 'warm', name: 'warm', handler: 'work', resources: { cache: 1 } },
    { id: 'plain', name: 'plain', handler: 'work' },
    { id: 'finished', name: 'finished', handler: 'done', priority: 3 },
    ...Array.from({ length: extra }, (_, i) => ({ id: `more-${i}`, name: `more-${i}`, handler: 'work', executor: 'gpu' })),
  ]);
  first.engine.startTasks(['render', 'load', 'warm', 'plain', 'finished']);
  await flush();
  first.crash();
}

describe('restoring tasks this process cannot run', () => {
  it('fails each with ERR_INVALID_OPTION naming the missing executor, the missing or smaller pool', async () => {
    const path = tempDbPath();
    await storeWithWork(path);
    const second = durableEngine(path, { resources: { db: 1 } });
    second.engine.defineTask('done', () => 'ran again');
    const report = await second.engine.restore();
    expect(report).toMatchObject({ restored: 5, finished: 1, unrunnable: 4 });
    expect(second.engine.getTaskError('render')).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      field: 'executor',
      message: 'Task `render` runs on executor `gpu`, which this engine does not have (restored from the store)',
    });
    expect(second.engine.getTaskError('load')).toMatchObject({
      field: 'resources.db',
      message: 'Task `load` needs 2 unit(s) of resource pool `db`, which this engine has only 1 of (restored from the store)',
    });
    expect(second.engine.getTaskError('warm')).toMatchObject({
      field: 'resources.cache',
      message: 'Task `warm` needs 1 unit(s) of resource pool `cache`, which this engine does not have (restored from the store)',
    });
    expect(second.engine.getTaskError('plain')).toMatchObject({
      field: 'handler',
      message: 'Task `plain` names handler `work`, which this process has not defined with engine.defineTask() before restore()',
    });
    expect(second.engine.getTaskResult('finished')).toBe('finished before');
    await second.engine.shutdown();
  });

  it('judges them runnable when the executor is there and the pools are as large, or larger', async () => {
    const path = tempDbPath();
    await storeWithWork(path);
    const second = durableEngine(path, { executors: { gpu: hanging }, resources: { db: 3, cache: 1 } });
    second.engine.defineTask('work', () => 'ran');
    second.engine.defineTask('done', () => 'ran again');
    expect(await second.engine.restore()).toMatchObject({ unrunnable: 0, interrupted: 4, rerunFree: 4 });
    // Runnable here: their attempts were interrupted by the first process's end and run again, not refused.
    for (const id of ['render', 'load', 'warm', 'plain'])
      expect(second.engine.getTask(id)).toMatchObject({ state: 'retrying', interruptions: 1 });
    await second.engine.shutdown();
  });

  it("with { unrunnable: 'refuse' }, lists the first five and counts the others", async () => {
    const path = tempDbPath();
    await storeWithWork(path, 4);
    const second = durableEngine(path, { resources: { db: 2, cache: 1 } });
    second.engine.defineTask('done', () => 'ran again');
    const refused = await second.engine.restore({ unrunnable: 'refuse' }).catch((error: unknown) => error as Error & { field: string });
    expect(refused).toMatchObject({ code: 'ERR_INVALID_OPTION', field: 'unrunnable' });
    const message = (refused as Error).message;
    expect(message).toMatch(/^restore\(\) found 8 unfinished stored task\(s\) this process cannot run, and restored nothing: Task /);
    expect(message.match(/Task `[^`]+` (runs on|names)/g)).toHaveLength(5);
    expect(message.match(/\(restored from the store\); Task|restore\(\); Task/g)).toHaveLength(4);
    expect(message).toMatch(/; and 3 more$/);
    await second.engine.shutdown();
  });

  it("with { unrunnable: 'refuse' } and five or fewer, lists them all", async () => {
    const path = tempDbPath();
    await storeWithWork(path, 1);
    const second = durableEngine(path, { resources: { db: 2, cache: 1 } });
    second.engine.defineTask('done', () => 'ran again');
    const refused = (await second.engine.restore({ unrunnable: 'refuse' }).catch((error: unknown) => error)) as Error;
    expect(refused.message).toMatch(/found 5 unfinished/);
    expect(refused.message).toMatch(/\(restored from the store\)$/);
    expect(refused.message.match(/Task `[^`]+` (runs on|names)/g)).toHaveLength(5);
    await second.engine.shutdown();
  });
});
