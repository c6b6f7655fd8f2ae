import { describe, expect, it } from 'vitest';
import { TaskEngine } from '../../src/index.js';
import { deferred, flush, recordEvents } from '../helpers.js';

describe('registered resources (disposers)', () => {
  it('runs each disposer once, last registered first, at the terminal status', async () => {
    const engine = new TaskEngine();
    const log: string[] = [];
    const gate = deferred();
    const id = engine.registerTask({
      name: 'holder',
      fn: async (ctx) => {
        ctx.registerResource(() => void log.push('first'));
        ctx.registerResource(async () => void log.push('second'));
        await gate.promise;
        return 'done';
      },
    });
    engine.registerResource(id, () => void log.push('engine'));
    engine.startTask(id);
    await flush();
    expect(log).toEqual([]);
    gate.resolve(undefined);
    await engine.waitForTask(id);
    await engine.cleanupTask(id);
    expect(log).toEqual(['second', 'first', 'engine']);
  });

  it('reports a disposer error as an event and keeps the outcome and the other disposers', async () => {
    const engine = new TaskEngine();
    const events = recordEvents(engine);
    const log: string[] = [];
    const id = engine.registerTask({
      name: 'leaky',
      fn: (ctx) => {
        ctx.registerResource(() => void log.push('still runs'));
        ctx.registerResource(() => {
          throw new Error('close failed');
        });
        return 'ok';
      },
    });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toBe('ok');
    await engine.cleanupTask(id);
    expect(log).toEqual(['still runs']);
    expect(events.filter((e) => e.type === 'resource-error')).toMatchObject([{ taskId: id, error: { message: 'close failed' } }]);
  });

  it('runs disposers on cancel and on failure too', async () => {
    const engine = new TaskEngine();
    const log: string[] = [];
    const cancelled = engine.registerTask({ name: 'c' });
    engine.registerResource(cancelled, () => void log.push('cancelled'));
    engine.cancelTask(cancelled);
    const failed = engine.registerTask({ name: 'f', fn: () => Promise.reject(new Error('x')) });
    engine.registerResource(failed, () => void log.push('failed'));
    engine.startTask(failed);
    await engine.waitForTask(failed).catch(() => {});
    await engine.cleanupTask(cancelled);
    await engine.cleanupTask(failed);
    expect(log.sort()).toEqual(['cancelled', 'failed']);
  });

  it('disposes at once a resource registered by an abandoned attempt after the end', async () => {
    const engine = new TaskEngine();
    const log: string[] = [];
    const gate = deferred();
    const id = engine.registerTask({
      name: 'abandoned',
      fn: async (ctx) => {
        await gate.promise;
        ctx.registerResource(() => void log.push('late disposer'));
      },
    });
    engine.startTask(id);
    engine.cancelTask(id);
    gate.resolve(undefined);
    await flush();
    expect(log).toEqual(['late disposer']);
  });
});
