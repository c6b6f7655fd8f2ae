import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { ofType, type ProgressEvent } from '../../src/index.js';
import { recordEvents } from '../helpers.js';
import { threadExecArgv } from '../../src/pool/pool-executor.js';
import { poolEngine, simulatedPoolEngine } from './engines.js';

const tasks = new URL('../fixtures/pool-tasks.mjs', import.meta.url);
/** Fixtures that wait for each other or for the test through SharedArrayBuffer and Atomics, not for time. */
const syncTasks = new URL('./fixtures/sync-tasks.mjs', import.meta.url);
/** `Atomics.waitAsync` (Node 16+; typed only from lib es2024, above this project's target). */
const waitAsync = (Atomics as unknown as { waitAsync(view: Int32Array, index: number, value: number): { value: Promise<string> | string } })
  .waitAsync;
/** Resolves with `view[index]` once a worker has stored a non-zero value there, without blocking the event loop. */
async function untilSet(view: Int32Array, index: number): Promise<number> {
  while (Atomics.load(view, index) === 0) await waitAsync(view, index, 0).value;
  return Atomics.load(view, index);
}

describe('pool executor: tasks in worker threads', () => {
  it('runs a module export in a worker thread, not the main thread', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const id = engine.registerTask({ name: 'where', module: tasks, export: 'whereAmI' });
    engine.startTask(id);
    const where = await engine.waitForTask<{ isMainThread: boolean; threadId: number }>(id);
    expect(where.isMainThread).toBe(false);
    expect(where.threadId).toBeGreaterThan(0);
  });

  it('runs tasks in parallel on two workers, never more than two at once', async () => {
    const engine = poolEngine({ concurrency: 8, pool: { maxWorkers: 2 } });
    const flags = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT); // in body now, peak, entered
    // Each task returns only once another one is in its body at the same time (or gives up after 10 s and says so).
    const ids = Array.from({ length: 6 }, (_, i) =>
      engine.registerTask({ name: `pair ${i}`, module: syncTasks, export: 'rendezvousInPairs', args: [flags] }),
    );
    for (const id of ids) engine.startTask(id);
    const runs = await Promise.all(ids.map((id) => engine.waitForTask<{ threadId: number; entry: number; metPartner: boolean }>(id)));
    expect(runs.map((r) => r.metPartner)).toEqual([true, true, true, true, true, true]);
    expect(runs.map((r) => r.entry).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(runs.map((r) => r.threadId)).size).toBe(2);
    expect(Array.from(new Int32Array(flags))).toEqual([0, 2, 6]); // none left in a body; at most two at once
  });

  it('terminates a busy-looping worker on timeout, then runs its retry and later tasks on fresh workers', async () => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const flags = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT); // the thread id of the attempt looping now
    const view = new Int32Array(flags);
    const stuck = engine.registerTask({
      name: 'stuck',
      module: syncTasks,
      export: 'markThenLoop',
      args: [flags, 0],
      timeout: 300,
      maxRetries: 1,
      retryDelay: 10,
    });
    const after = engine.registerTask({ name: 'after', module: tasks, export: 'whereAmI' });
    engine.startTask(stuck);
    engine.startTask(after);
    const firstThread = await untilSet(view, 0);
    Atomics.store(view, 0, 0);
    await advance(300);
    expect(engine.getTask(stuck)).toMatchObject({ status: 'PENDING', state: 'retrying', attempts: 1 });
    const running = events.find((e) => e.type === 'status' && e.taskId === stuck && e.status === 'RUNNING');
    const retry = events.find((e) => e.type === 'retry' && e.taskId === stuck);
    expect(retry?.timestamp).toBe((running?.timestamp ?? NaN) + 300);
    await advance(10);
    // The retry loops on the only worker allowed: the first looping thread was terminated, not waited for.
    const secondThread = await untilSet(view, 0);
    expect(secondThread).not.toBe(firstThread);
    await advance(300);
    await expect(engine.waitForTask(stuck)).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT', attempt: 2 });
    expect(engine.getTask(stuck).attempts).toBe(2);
    const { threadId } = await engine.waitForTask<{ threadId: number }>(after); // it may run before or after the retry
    expect(threadId).not.toBe(firstThread);
  });

  it('cancels a running pool task at once and runs the next one', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const stuck = engine.registerTask({ name: 'stuck', module: tasks, export: 'loopForever' });
    const next = engine.registerTask({ name: 'next', module: tasks, export: 'whereAmI' });
    engine.startTask(stuck);
    engine.startTask(next);
    engine.cancelTask(stuck, 'enough');
    expect(engine.getTaskStatus(stuck)).toBe('CANCELLED');
    await expect(engine.waitForTask(next)).resolves.toMatchObject({ isMainThread: false });
  });

  it.each([
    ['exitProcess', /died/],
    ['throwInTimer', /boom in a timer/],
  ])('fails the attempt with ERR_WORKER_CRASHED when the worker dies (%s), and queued tasks do not stall', async (exportName, message) => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const crash = engine.registerTask({ name: 'crash', module: tasks, export: exportName });
    const queued = [1, 2, 3].map((i) => engine.registerTask({ name: `queued ${i}`, module: tasks, export: 'whereAmI' }));
    engine.startTask(crash);
    for (const id of queued) engine.startTask(id);
    const error = await engine.waitForTask(crash).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'ERR_WORKER_CRASHED' });
    expect(String((error as Error).message) + String(((error as Error).cause as Error)?.message)).toMatch(message);
    await Promise.all(queued.map((id) => expect(engine.waitForTask(id)).resolves.toMatchObject({ isMainThread: false })));
  });

  it('retries a crashed attempt on a fresh worker', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const first = engine.registerTask({ name: 'first', module: tasks, export: 'whereAmI' });
    engine.startTask(first);
    const { threadId: before } = await engine.waitForTask<{ threadId: number }>(first);
    const id = engine.registerTask({ name: 'crash once', module: tasks, export: 'exitOnFirstAttempt', maxRetries: 1, retryDelay: 1 });
    engine.startTask(id);
    const threadId = await engine.waitForTask<number>(id);
    expect(threadId).not.toBe(before);
    expect(engine.getTask(id).attempts).toBe(2);
  });

  it('keeps name, message, code, extra fields and cause of an error thrown in the worker', async () => {
    const engine = poolEngine();
    const id = engine.registerTask({ name: 'odd', module: tasks, export: 'throwCustomError' });
    engine.startTask(id);
    const error = (await engine.waitForTask(id).catch((e: unknown) => e)) as Error & { code: string; line: number };
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'OddInputError', message: 'the input was odd', code: 'E_ODD', line: 7 });
    expect(error.cause).toMatchObject({ message: 'root cause', code: 'E_ROOT' });
    expect(error.stack).toContain('throwCustomError');
  });

  it('does not retry a NonRetryableError thrown in the worker', async () => {
    const engine = poolEngine();
    const id = engine.registerTask({ name: 'fatal', module: tasks, export: 'throwNonRetryable', maxRetries: 3, retryDelay: 1 });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).rejects.toMatchObject({ name: 'NonRetryableError', message: 'do not try again' });
    expect(engine.getTask(id).attempts).toBe(1);
  });

  it('delivers progress from the worker as progress events, in order', async () => {
    const engine = poolEngine();
    const events = recordEvents(engine);
    const id = engine.registerTask({ name: 'steps', module: tasks, export: 'progressSteps', args: [50] });
    engine.startTask(id);
    await engine.waitForTask(id);
    const progress = events.filter((e): e is ProgressEvent => e.type === 'progress' && e.taskId === id);
    expect(progress.map((e) => e.progress)).toEqual(Array.from({ length: 50 }, (_, i) => (i + 1) / 50));
    expect(progress[49]?.message).toBe('step 50');
  });

  it('fails with a clear error naming a missing module or export, without hanging', async () => {
    const engine = poolEngine();
    const missingModule = engine.registerTask({ name: 'mm', module: new URL('./does-not-exist.mjs', tasks) });
    const missingExport = engine.registerTask({ name: 'me', module: tasks, export: 'nope' });
    const notFunction = engine.registerTask({ name: 'nf', module: tasks, export: 'notAFunction' });
    for (const id of [missingModule, missingExport, notFunction]) engine.startTask(id);
    await expect(engine.waitForTask(missingModule)).rejects.toThrow(/Cannot load module `file:.*does-not-exist.mjs`/);
    await expect(engine.waitForTask(missingExport)).rejects.toThrow(/no function export `nope` \(its exports: .*whereAmI/);
    await expect(engine.waitForTask(notFunction)).rejects.toMatchObject({ code: 'ERR_MISSING_EXPORT' });
  });

  it('runs worker-side disposers in the worker when the attempt ends, also on cancel', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 2 } });
    const flags = new SharedArrayBuffer(8);
    const view = new Int32Array(flags);
    const normal = engine.registerTask({ name: 'normal', module: tasks, export: 'disposeIntoSharedMemory', args: [flags, 0, 1] });
    const cancelled = engine.registerTask({
      name: 'cancelled',
      module: tasks,
      export: 'disposeIntoSharedMemory',
      args: [flags, 1, 60_000],
    });
    // Cancel only once the worker has registered its disposer (its progress says so), not before.
    const registered = firstValueFrom(
      engine.events.pipe(
        ofType('progress'),
        filter((e) => e.taskId === cancelled && e.message === 'registered'),
      ),
    );
    engine.startTask(normal);
    engine.startTask(cancelled);
    await engine.waitForTask(normal);
    expect(Atomics.load(view, 0)).toBe(1);
    await registered;
    expect(Atomics.load(view, 1)).toBe(0);
    engine.cancelTask(cancelled);
    await engine.shutdown();
    expect(Atomics.load(view, 1)).toBe(1);
  });

  it('refuses pool task arguments that cannot cross to a worker, naming where they are', () => {
    const engine = poolEngine();
    const error = (() => {
      try {
        engine.registerTask({ name: 'bad args', module: tasks, export: 'whereAmI', args: [{ options: { onDone: () => 1 } }] });
      } catch (e) {
        return e as Error & { code?: string };
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(error?.message).toMatch(/`args`.*args\[0\]\.options\.onDone is a function/);
    expect(() => engine.registerTask({ name: 'promise', module: tasks, args: [Promise.resolve(1)] })).toThrow(/args\[0\] is a Promise/);
    expect(() =>
      engine.registerTask({ name: 'symbol', executor: 'pool', fn: (_ctx, s) => s, args: [new Map([['k', Symbol('s')]])] }),
    ).toThrow(/is a symbol/);
    // Plain data, binary data and cycles are fine.
    const cyclic: Record<string, unknown> = { bytes: new Uint8Array(4), when: new Date(0) };
    cyclic.self = cyclic;
    expect(() => engine.registerTask({ name: 'ok', module: tasks, args: [cyclic, new Set([1]), null] })).not.toThrow();
  });

  it('fails with a clear error when the result cannot be sent back, and the worker takes the next task', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const bad = engine.registerTask({ name: 'bad result', module: tasks, export: 'returnFunction' });
    const next = engine.registerTask({ name: 'next', module: tasks, export: 'whereAmI' });
    engine.startTask(bad);
    engine.startTask(next);
    await expect(engine.waitForTask(bad)).rejects.toMatchObject({
      code: 'ERR_RESULT_NOT_CLONEABLE',
      message: expect.stringMatching(/result\.onDone is a function/),
    });
    await expect(engine.waitForTask(next)).resolves.toMatchObject({ isMainThread: false });
  });

  it("counts a pool task's timeout from RUNNING, not from startTask while it waits for a worker", async () => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const flags = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const view = new Int32Array(flags);
    const first = engine.registerTask({ name: 'first', module: syncTasks, export: 'waitForFlag', args: [flags, 0] });
    const second = engine.registerTask({ name: 'second', module: tasks, export: 'whereAmI', timeout: 300 });
    engine.startTask(first);
    engine.startTask(second);
    await advance(1000); // the second waits for the only worker far longer than its timeout
    expect(engine.getTask(second)).toMatchObject({ status: 'PENDING', attempts: 0 });
    Atomics.store(view, 0, 1);
    Atomics.notify(view, 0);
    await expect(engine.waitForTask(first)).resolves.toMatchObject({ released: true });
    await expect(engine.waitForTask(second)).resolves.toMatchObject({ isMainThread: false });
  });

  it('gets a looping thread out of the way after its timeout: the next task runs on a fresh thread', async () => {
    const { engine, advance } = simulatedPoolEngine({ pool: { maxWorkers: 1 } });
    const flags = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const stuck = engine.registerTask({ name: 'stuck', module: syncTasks, export: 'markThenLoop', args: [flags, 0], timeout: 200 });
    const next = engine.registerTask({ name: 'next', module: tasks, export: 'whereAmI' });
    engine.startTask(stuck);
    engine.startTask(next);
    const loopingThread = await untilSet(new Int32Array(flags), 0);
    expect(engine.getTaskStatus(next)).toBe('PENDING');
    await advance(200);
    await expect(engine.waitForTask(stuck)).rejects.toMatchObject({ code: 'ERR_TASK_TIMEOUT' });
    // With one worker allowed, the next task can only run once the looping thread is gone.
    const { threadId } = await engine.waitForTask<{ threadId: number }>(next);
    expect(threadId).not.toBe(loopingThread);
  });

  it('never runs the body of a pool task cancelled while it was queued', async () => {
    const engine = poolEngine({ pool: { maxWorkers: 1 } });
    const flags = new SharedArrayBuffer(8);
    const busy = engine.registerTask({ name: 'busy', module: tasks, export: 'busyFor', args: [100] });
    const queued = engine.registerTask({ name: 'queued', module: tasks, export: 'markStarted', args: [flags, 0] });
    const after = engine.registerTask({ name: 'after', module: tasks, export: 'markStarted', args: [flags, 1] });
    for (const id of [busy, queued, after]) engine.startTask(id);
    engine.cancelTask(queued);
    await engine.waitForTask(after);
    expect(Array.from(new Int32Array(flags))).toEqual([0, 1]);
  });

  it('moves ArrayBuffers instead of copying when asked, both ways', async () => {
    const engine = poolEngine();
    const buffer = new Uint8Array(1024).fill(2).buffer;
    const sum = engine.registerTask({ name: 'sum', module: tasks, export: 'sumBytes', args: [buffer], transfer: [buffer] });
    engine.startTask(sum);
    await expect(engine.waitForTask(sum)).resolves.toBe(2048);
    expect(buffer.byteLength).toBe(0);
    const make = engine.registerTask({ name: 'make', module: tasks, export: 'makeBytes', args: [4096] });
    engine.startTask(make);
    const bytes = await engine.waitForTask<Uint8Array>(make);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBe(4096);
    expect(() => engine.registerTask({ name: 'x', module: tasks, args: [buffer], transfer: [buffer], maxRetries: 1 })).toThrow(
      /maxRetries: 0/,
    );
  });

  it('runs a self-contained inline fn in a worker, and explains a closure variable', async () => {
    const engine = poolEngine();
    // Built from a string so that the test runner does not rewrite its import(): users' functions are not rewritten.
    const inline = new Function(
      'ctx',
      'a',
      'b',
      "ctx.progress(1); return import('node:worker_threads').then((m) => ({ sum: a + b, isMainThread: m.isMainThread }));",
    );
    const ok = engine.registerTask({
      name: 'inline',
      executor: 'pool',
      fn: inline as (ctx: unknown, a: number, b: number) => Promise<unknown>,
      args: [2, 3],
    });
    const secret = 7;
    const closure = engine.registerTask({ name: 'closure', executor: 'pool', fn: (_ctx, x: number) => x * secret, args: [2] });
    engine.startTask(ok);
    engine.startTask(closure);
    await expect(engine.waitForTask(ok)).resolves.toEqual({ sum: 5, isMainThread: false });
    await expect(engine.waitForTask(closure)).rejects.toThrow(/secret is not defined.*without its closure.*`args`/);
    const holder = {
      method(_ctx: unknown) {
        return 1;
      },
    };
    expect(() => engine.registerTask({ name: 'method', executor: 'pool', fn: holder.method })).toThrow(/`fn`.*source text/);
    expect(() => engine.registerTask({ name: 'bound', executor: 'pool', fn: ((x: number) => x).bind(null) as never })).toThrow(/`fn`/);
  });

  it('defaults maxWorkers to os.availableParallelism()', async () => {
    const engine = poolEngine({ concurrency: 64 });
    const workers = availableParallelism();
    const ids = Array.from({ length: workers + 1 }, (_, i) =>
      engine.registerTask({ name: `loop ${i}`, module: tasks, export: 'loopForever' }),
    );
    for (const id of ids) engine.startTask(id);
    expect(engine.getStats().running).toBe(workers);
    expect(engine.getStats().queued).toBe(1);
  });
});

describe('pool lifecycle in a real process', () => {
  const run = (fixture: string) =>
    spawnSync(process.execPath, [fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url))], { encoding: 'utf8', timeout: 15_000 });

  it('starts no worker until a pool task runs (the process exits without shutdown)', () => {
    const result = run('pool-lazy.mjs');
    expect(result.stdout.trim()).toBe('async');
    expect(result.status).toBe(0);
  });

  it('terminates every worker on shutdown, even one stuck in a loop, and the process exits by itself', () => {
    const result = run('pool-shutdown.mjs');
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('CANCELLED');
    expect(result.status).toBe(0);
  });

  it('runs pool tasks in a program given to node as -e source with --input-type=module, which threads cannot take', () => {
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    const script = `
      const { TaskEngine } = await import(${JSON.stringify(dist)});
      const engine = new TaskEngine();
      const id = engine.registerTask({ name: 'double', executor: 'pool', fn: (ctx, n) => n * 2, args: [21] });
      engine.startTask(id);
      console.log(await engine.waitForTask(id));
      await engine.shutdown();`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('42');
  });
});

describe('threadExecArgv', () => {
  it("keeps the process's Node options for the threads but --input-type, in either form", () => {
    expect(threadExecArgv(['--input-type=module', '--enable-source-maps', '--input-type', 'commonjs', '--conditions=dev'])).toEqual([
      '--enable-source-maps',
      '--conditions=dev',
    ]);
    expect(threadExecArgv([])).toEqual([]);
  });
});
