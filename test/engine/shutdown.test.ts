import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TaskEngine } from '../../src/index.js';
import { deferred, flush } from '../helpers.js';

describe('shutdown', () => {
  it('refuses new work with ERR_ENGINE_SHUT_DOWN and cancels every non-terminal task, running ones included', async () => {
    const engine = new TaskEngine();
    let signal: AbortSignal | undefined;
    const running = engine.registerTask({
      name: 'running',
      fn: (ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
    });
    const unstarted = engine.registerTask({ name: 'unstarted' });
    engine.startTask(running);
    const done = engine.shutdown();
    expect(engine.getTaskStatus(running)).toBe('CANCELLED');
    expect(engine.getTaskStatus(unstarted)).toBe('CANCELLED');
    expect(signal?.aborted).toBe(true);
    expect(() => engine.registerTask({ name: 'late' })).toThrow(expect.objectContaining({ code: 'ERR_ENGINE_SHUT_DOWN' }));
    await done;
    expect(engine.shutdown()).toBe(done);
  });

  it("in 'drain' mode lets started tasks finish, then cancels those never started", async () => {
    const engine = new TaskEngine();
    const gate = deferred<string>();
    const started = engine.registerTask({ name: 'started', fn: () => gate.promise });
    const dependent = engine.registerTask({ name: 'dependent', dependencies: [started], fn: () => 'dependent' });
    const unstarted = engine.registerTask({ name: 'unstarted' });
    engine.startTask(started);
    engine.startTask(dependent);
    const done = engine.shutdown({ mode: 'drain' });
    expect(() => engine.startTask(unstarted)).toThrow(expect.objectContaining({ code: 'ERR_ENGINE_SHUT_DOWN' }));
    await flush();
    expect(engine.getTaskStatus(started)).toBe('RUNNING');
    gate.resolve('finished');
    await done;
    expect(engine.getTaskResult(started)).toBe('finished');
    expect(engine.getTaskResult(dependent)).toBe('dependent');
    expect(engine.getTaskStatus(unstarted)).toBe('CANCELLED');
  });

  it('waits for disposers before resolving', async () => {
    const engine = new TaskEngine();
    const log: string[] = [];
    const id = engine.registerTask({ name: 'holder' });
    engine.registerResource(id, async () => {
      await flush();
      log.push('disposed');
    });
    await engine.shutdown();
    expect(log).toEqual(['disposed']);
  });

  it('refuses an unknown mode with a rejected promise, and stays open', async () => {
    const engine = new TaskEngine();
    await expect(engine.shutdown({ mode: 'later' as never })).rejects.toThrow(/`mode`.*`later`/);
    await expect(engine.shutdown({ mode: 'suspend' })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect(() => engine.registerTask({ name: 'still open' })).not.toThrow();
  });

  it('leaves no timers or handles behind: a process with timed tasks exits by itself', () => {
    const script = fileURLToPath(new URL('../fixtures/shutdown-exits.mjs', import.meta.url));
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 15_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('shut down');
    expect(result.status).toBe(0);
  });
});
