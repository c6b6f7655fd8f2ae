/**
 * What a task function's `ctx` does for the attempt that is running, and nothing for one that is over: progress is
 * reported (with its message) only by the current attempt; a resource registered by an attempt that is over (timed
 * out and retried, or whose task was completed from outside and cleaned up) is disposed at once, not kept for later.
 */
import { describe, expect, it } from 'vitest';
import type { TaskContext, TaskEngine } from '../../src/index.js';
import { deferred, flush, recordEvents, simulatedEngine } from '../helpers.js';

/**
 * Starts a task whose first attempt hangs until its 100 ms timeout and whose second (after a 10 ms backoff) ends
 * when the test says; returns each attempt's ctx and the second attempt's gate.
 */
function startRetried(engine: TaskEngine, id: string) {
  const contexts: TaskContext[] = [];
  const second = deferred();
  engine.registerTask({
    id,
    name: id,
    maxRetries: 1,
    retryDelay: 10,
    timeout: 100,
    fn: (ctx: TaskContext) => {
      contexts.push(ctx);
      return ctx.attempt === 1 ? new Promise(() => {}) : second.promise;
    },
  });
  engine.startTask(id);
  return { contexts, second };
}

describe('ctx of the running attempt, and of one that is over', () => {
  it('reports progress with its message, from the current attempt only', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    const { contexts, second } = startRetried(engine, 'slow');
    await advance(0);
    contexts[0]?.progress(0.5, 'half way');
    expect(events.filter((e) => e.type === 'progress')).toEqual([
      expect.objectContaining({ taskId: 'slow', progress: 0.5, message: 'half way' }),
    ]);
    expect(engine.getTask('slow')).toMatchObject({ progress: 0.5, message: 'half way' });
    await advance(100); // attempt 1 times out
    await advance(10); // attempt 2 starts
    expect(contexts).toHaveLength(2);
    contexts[0]?.progress(0.9, 'late');
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(1);
    contexts[1]?.progress(0.25);
    expect(engine.getTask('slow')).toMatchObject({ progress: 0.25, message: undefined });
    second.resolve('done');
    await expect(engine.waitForTask('slow')).resolves.toBe('done');
  });

  it('disposes at once a resource that an attempt registers after it timed out, while the task retries', async () => {
    const { engine, advance } = simulatedEngine();
    const log: string[] = [];
    const { contexts, second } = startRetried(engine, 'retried');
    await advance(100);
    await advance(10);
    contexts[0]?.registerResource(() => void log.push('late resource of attempt 1'));
    contexts[1]?.registerResource(() => void log.push('resource of attempt 2'));
    await flush();
    expect(log).toEqual(['late resource of attempt 1']);
    second.resolve('ok');
    await engine.waitForTask('retried');
    await flush();
    expect(log).toEqual(['late resource of attempt 1', 'resource of attempt 2']);
  });

  it('disposes at once a resource that an abandoned attempt registers after its task was cleaned up', async () => {
    const { engine, advance } = simulatedEngine();
    const errors: unknown[] = [];
    engine.events.subscribe((e) => e.type === 'resource-error' && errors.push(e));
    const log: string[] = [];
    let ctx: TaskContext | undefined;
    engine.registerTask({ id: 'abandoned', name: 'abandoned', fn: (c: TaskContext) => ((ctx = c), new Promise(() => {})) });
    engine.startTask('abandoned');
    await advance(0);
    engine.completeTask('abandoned', 'from outside');
    await engine.cleanupTask('abandoned');
    ctx?.registerResource(() => void log.push('disposed'));
    ctx?.registerResource(() => {
      throw new Error('close failed');
    });
    expect(() => ctx?.progress(0.5, 'still going')).not.toThrow(); // ignored: its task is gone
    await flush();
    expect(log).toEqual(['disposed']);
    expect(errors).toEqual([expect.objectContaining({ taskId: 'abandoned', name: 'abandoned' })]);
  });
});
