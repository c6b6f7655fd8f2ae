import { describe, expect, it } from 'vitest';
import { TaskStatus, type TaskContext } from '../../src/index.js';
import { flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

describe('shutdown on a durable engine: stopping is not cancelling', () => {
  it('suspend aborts running attempts without counting them, records nothing as CANCELLED, and the next process resumes everything', async () => {
    const path = tempDbPath();
    const first = durableEngine(path, { concurrency: 1 });
    const signals: AbortSignal[] = [];
    const disposed: string[] = [];
    first.engine.defineTask('work', (ctx: TaskContext) => {
      signals.push(ctx.signal);
      ctx.registerResource(() => {
        disposed.push(ctx.id);
      });
      return new Promise(() => {});
    });
    first.engine.registerTasks([
      { id: 'running', name: 'running', handler: 'work', maxRetries: 0 },
      { id: 'queued', name: 'queued', handler: 'work' },
      { id: 'waiting', name: 'waiting', handler: 'work', dependencies: ['queued'] },
      { id: 'never', name: 'never started', handler: 'work' },
    ]);
    for (const id of ['running', 'queued', 'waiting']) first.engine.startTask(id);
    await flush();
    const waited = first.engine.waitForTask('running');
    const statuses: string[] = [];
    first.engine.events.subscribe((e) => e.type === 'status' && statuses.push(`${e.taskId} ${e.status}`));
    await first.engine.shutdown({ mode: 'suspend' });
    expect(signals[0]?.aborted).toBe(true);
    expect(disposed).toEqual(['running']);
    expect(statuses).toEqual([]);
    await expect(waited).rejects.toMatchObject({ code: 'ERR_ENGINE_SHUT_DOWN', message: expect.stringContaining('suspended') });
    await first.engine.onIdle(); // nothing runs any more: resolves although tasks were RUNNING and queued

    const second = durableEngine(path, { concurrency: 1 });
    const attempts: string[] = [];
    second.engine.defineTask('work', (ctx: TaskContext) => {
      attempts.push(`${ctx.id}#${ctx.attempt}`);
      return ctx.id;
    });
    const report = await second.engine.restore();
    expect(report).toMatchObject({ restored: 4, pending: 1, resumed: 3, interrupted: 0 });
    await second.engine.onIdle();
    // The suspended attempt was not counted: the resumed run is attempt 1 again, and no retry was needed.
    expect(attempts).toEqual(['running#1', 'queued#1', 'waiting#1']);
    expect(second.engine.getTaskStatus('never')).toBe(TaskStatus.PENDING);
    await second.engine.shutdown();
  });

  it('cancel on a durable engine records CANCELLED, and the next process sees it', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('work', () => new Promise(() => {}));
    first.engine.registerTask({ id: 't', name: 't', handler: 'work' });
    first.engine.startTask('t');
    await first.engine.shutdown({ mode: 'cancel' });

    const second = durableEngine(path);
    second.engine.defineTask('work', () => 1);
    expect(await second.engine.restore()).toMatchObject({ finished: 1 });
    expect(second.engine.getTaskStatus('t')).toBe(TaskStatus.CANCELLED);
    await second.engine.shutdown();
  });

  it('refuses every verb after suspend, as after any shutdown', async () => {
    const { engine } = durableEngine(tempDbPath());
    engine.registerTask({ id: 'ext', name: 'ext' });
    engine.startTask('ext');
    await engine.shutdown({ mode: 'suspend' });
    expect(() => engine.registerTask({ name: 'late' })).toThrow(expect.objectContaining({ code: 'ERR_ENGINE_SHUT_DOWN' }));
    expect(() => engine.completeTask('ext', 1)).toThrow(expect.objectContaining({ code: 'ERR_ENGINE_SHUT_DOWN' }));
  });
});
