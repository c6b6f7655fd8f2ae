/**
 * The engine option `runtime` ('xstate' | 'compiled'): validated at the boundary, taken from TASKCHART_RUNTIME
 * when absent, forced to 'xstate' by `inspect`; and one small DAG (a retry, a timeout, a non-retryable failure,
 * a dependency failure, a cancel) giving the same statuses, events and results under both runtimes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NonRetryableError, TaskChartError, TaskEngine, type TaskEvent } from '../../src/index.js';
import { recordEvents, simulatedEngine } from '../helpers.js';

const RUNTIME_VARIABLE = 'TASKCHART_RUNTIME';

describe('the runtime option', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env[RUNTIME_VARIABLE];
    delete process.env[RUNTIME_VARIABLE];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[RUNTIME_VARIABLE];
    else process.env[RUNTIME_VARIABLE] = saved;
  });

  it.each([['XState'], [''], ['interpreted'], [1], [null], [{}], [true]])(
    'refuses %j with ERR_INVALID_OPTION naming `runtime`',
    (value) => {
      const create = () => new TaskEngine({ runtime: value as never });
      expect(create).toThrow(TaskChartError);
      expect(create).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('`runtime`') }));
    },
  );

  it("defaults to 'xstate', and takes either runtime when asked", async () => {
    for (const [options, expected] of [
      [{}, 'xstate'],
      [{ runtime: undefined }, 'xstate'],
      [{ runtime: 'xstate' }, 'xstate'],
      [{ runtime: 'compiled' }, 'compiled'],
    ] as const) {
      const engine = new TaskEngine(options);
      expect(engine.runtime).toBe(expected);
      await engine.shutdown();
    }
  });

  it('takes TASKCHART_RUNTIME when the option is absent, and the option over it', async () => {
    process.env[RUNTIME_VARIABLE] = 'compiled';
    const fromEnvironment = new TaskEngine();
    expect(fromEnvironment.runtime).toBe('compiled');
    const fromOption = new TaskEngine({ runtime: 'xstate' });
    expect(fromOption.runtime).toBe('xstate');
    process.env[RUNTIME_VARIABLE] = '';
    const empty = new TaskEngine();
    expect(empty.runtime).toBe('xstate');
    await Promise.all([fromEnvironment.shutdown(), fromOption.shutdown(), empty.shutdown()]);
  });

  it('refuses a bad TASKCHART_RUNTIME naming it, unless the option decides', async () => {
    process.env[RUNTIME_VARIABLE] = 'fast';
    const create = () => new TaskEngine();
    expect(create).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('TASKCHART_RUNTIME') }));
    expect(create).toThrow(/`fast`|'fast'|"fast"/);
    const engine = new TaskEngine({ runtime: 'compiled' });
    expect(engine.runtime).toBe('compiled');
    await engine.shutdown();
  });

  it("runs on 'xstate' whenever inspect is set (the inspector sees real actors)", async () => {
    const inspected: unknown[] = [];
    const asked = new TaskEngine({ runtime: 'compiled', inspect: (event) => void inspected.push(event) });
    expect(asked.runtime).toBe('xstate');
    process.env[RUNTIME_VARIABLE] = 'compiled';
    const fromEnvironment = new TaskEngine({ inspect: { next: () => {} } });
    expect(fromEnvironment.runtime).toBe('xstate');
    const id = asked.registerTask({ name: 'seen', fn: () => 1 });
    asked.startTask(id);
    await asked.waitForTask(id);
    expect(inspected.length).toBeGreaterThan(0);
    await Promise.all([asked.shutdown(), fromEnvironment.shutdown()]);
  });
});

// ---- One DAG under both runtimes -------------------------------------------------------------------------------

/** What a run of the DAG shows from outside: each event (errors by code or message) and each task's outcome. */
interface Outcome {
  readonly events: readonly unknown[];
  readonly tasks: Readonly<Record<string, unknown>>;
}

const describeError = (error: unknown): unknown =>
  error instanceof Error ? { code: (error as { code?: unknown }).code, message: error.message } : error;

function observable(event: TaskEvent): unknown {
  const { timestamp, type, taskId } = event;
  switch (event.type) {
    case 'status':
      return { timestamp, type, taskId, previous: event.previous, status: event.status, error: describeError(event.error) };
    case 'retry':
      return { timestamp, type, taskId, attempt: event.attempt, delay: event.delay, error: describeError(event.error) };
    case 'progress':
      return { timestamp, type, taskId, progress: event.progress, message: event.message };
    default:
      return { timestamp, type, taskId };
  }
}

/**
 * fetch fails its first attempt and succeeds after 30 ms on its retry; parse (after fetch) hangs past its 50 ms
 * timeout once, then succeeds; store (after fetch) fails with a NonRetryableError; notify (after store) fails
 * without running; publish (after parse) completes; extra (after parse) is cancelled while it waits.
 */
async function runDag(runtime: 'xstate' | 'compiled'): Promise<Outcome> {
  const { engine, clock, advance } = simulatedEngine({ runtime, concurrency: 2 });
  expect(engine.runtime).toBe(runtime);
  const events = recordEvents(engine);
  const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => clock.setTimeout(() => resolve(value), ms));
  const [fetch, parse, store, notify, publish, extra] = engine.registerTasks([
    {
      id: 'fetch',
      name: 'fetch',
      maxRetries: 1,
      retryDelay: 100,
      fn: (ctx) => (ctx.attempt === 1 ? Promise.reject(new Error('flaky')) : later(30, 'data')),
    },
    {
      id: 'parse',
      name: 'parse',
      dependencies: ['fetch'],
      timeout: 50,
      maxRetries: 1,
      retryDelay: 10,
      fn: (ctx) => {
        ctx.progress(0.5, `attempt ${ctx.attempt}`);
        return ctx.attempt === 1 ? new Promise(() => {}) : later(5, `parsed ${String(engine.getTaskResult('fetch'))}`);
      },
    },
    { id: 'store', name: 'store', dependencies: ['fetch'], maxRetries: 2, fn: () => Promise.reject(new NonRetryableError('disk says no')) },
    { id: 'notify', name: 'notify', dependencies: ['store'], fn: () => 'sent' },
    { id: 'publish', name: 'publish', dependencies: ['parse'], fn: () => later(1, 'published') },
    { id: 'extra', name: 'extra', dependencies: ['parse'], fn: () => 'never' },
  ]) as [string, string, string, string, string, string];
  for (const id of [notify, publish, extra, parse, store, fetch]) engine.startTask(id);
  const settled = [fetch, parse, store, notify, publish, extra].map((id) =>
    engine.waitForTask(id).then(
      (value) => ({ value }),
      (error: unknown) => ({ error: describeError(error) }),
    ),
  );
  for (let elapsed = 0; elapsed < 400; elapsed += 5) {
    if (elapsed === 150) engine.cancelTask(extra, 'not needed');
    await advance(5);
  }
  const results = await Promise.all(settled);
  const tasks: Record<string, unknown> = {};
  [fetch, parse, store, notify, publish, extra].forEach((id, index) => {
    const info = engine.getTask(id);
    tasks[id] = { status: info.status, attempts: info.attempts, settled: results[index] };
  });
  await engine.shutdown();
  return { events: events.map(observable), tasks };
}

describe('one DAG under both runtimes', () => {
  it('gives the same statuses, events and results', async () => {
    const xstate = await runDag('xstate');
    expect(xstate.tasks).toEqual({
      fetch: { status: 'COMPLETED', attempts: 2, settled: { value: 'data' } },
      parse: { status: 'COMPLETED', attempts: 2, settled: { value: 'parsed data' } },
      store: { status: 'FAILED', attempts: 1, settled: { error: { code: 'ERR_NON_RETRYABLE', message: 'disk says no' } } },
      notify: { status: 'FAILED', attempts: 0, settled: { error: expect.objectContaining({ code: 'ERR_DEPENDENCY_FAILED' }) } },
      publish: { status: 'COMPLETED', attempts: 1, settled: { value: 'published' } },
      extra: { status: 'CANCELLED', attempts: 0, settled: { error: expect.objectContaining({ code: 'ERR_TASK_CANCELLED' }) } },
    });
    expect(xstate.events).toContainEqual(
      expect.objectContaining({ type: 'retry', taskId: 'parse', error: expect.objectContaining({ code: 'ERR_TASK_TIMEOUT' }) }),
    );
    const compiled = await runDag('compiled');
    expect(compiled).toEqual(xstate);
  });
});
