/** The error contract in the main-thread runtime (AsyncExecutor): the same checks and classes as in a pool thread or a remote worker. */
import { afterEach, describe, expect, it } from 'vitest';
import { AsyncExecutor } from '../../src/executors/async-executor.js';
import type { AttemptRequest } from '../../src/executors/executor.js';
import { InvalidOptionError, TaskEngine, UnknownHandlerError, type TaskContext } from '../../src/index.js';

const engines: TaskEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown()));
});

function engine(): TaskEngine {
  const created = new TaskEngine();
  engines.push(created);
  return created;
}

/** What `body(ctx)` throws inside a running task, as { name, code, field }. */
async function thrownInTask(body: (ctx: TaskContext) => void): Promise<unknown> {
  const e = engine();
  const id = e.registerTask({
    name: 'probe',
    fn: (ctx) => {
      try {
        body(ctx);
        return undefined;
      } catch (error) {
        return error;
      }
    },
  });
  e.startTask(id);
  return e.waitForTask(id);
}

describe('async runtime: errors', () => {
  it('refuses a progress fraction outside [0, 1] with ERR_INVALID_OPTION naming `fraction`', async () => {
    const error = await thrownInTask((ctx) => ctx.progress(1.5));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', field: 'fraction' });
  });

  it('refuses a disposer that is not a function with ERR_INVALID_OPTION naming `dispose`', async () => {
    const error = await thrownInTask((ctx) => ctx.registerResource(42 as never));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', field: 'dispose' });
  });

  it("keeps a task function's own error as the task's error, the same object", async () => {
    const e = engine();
    const thrown = Object.assign(new Error('no such row'), { code: 'E_ROW' });
    const id = e.registerTask({
      name: 'own',
      fn: () => {
        throw thrown;
      },
    });
    e.startTask(id);
    await expect(e.waitForTask(id)).rejects.toBe(thrown);
  });

  it('fails an attempt whose handler is missing with ERR_UNKNOWN_HANDLER', async () => {
    const request = { taskId: 't', name: 'render', attempt: 1, args: [], fn: undefined, handler: 'render' } as unknown as AttemptRequest;
    const error = await new AsyncExecutor().execute(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownHandlerError);
    expect(error).toMatchObject({ code: 'ERR_UNKNOWN_HANDLER', handler: 'render', taskId: 't' });
  });
});
