import { describe, expect, it } from 'vitest';
import { type DeadlineEvent } from '../../src/index.js';
import { deferred, recordEvents, simulatedEngine } from '../helpers.js';

describe('deadlines (simulated clock)', () => {
  it('alerts when a task is not terminal `deadline` ms after startTask, and lets it run on', async () => {
    const { engine, advance, clock } = simulatedEngine();
    const events = recordEvents(engine);
    const gate = deferred<string>();
    const [slow, quick] = engine.registerTasks(
      [
        { id: 'slow', name: 'slow report', fn: () => gate.promise, deadline: 1_000 },
        { id: 'quick', name: 'quick', fn: () => 'done', deadline: 1_000 },
      ],
      { start: true },
    );
    await advance(999);
    expect(events.filter((e) => e.type === 'deadline')).toEqual([]);
    await advance(1);
    const alerts = events.filter((e): e is DeadlineEvent => e.type === 'deadline');
    expect(alerts).toEqual([{ type: 'deadline', taskId: slow, name: 'slow report', timestamp: 1_000, deadline: 1_000 }]);
    expect(engine.getTask(slow as string)).toMatchObject({ status: 'RUNNING', deadlineMissedAt: 1_000 });
    expect(engine.getTask(quick as string).deadlineMissedAt).toBeUndefined();
    expect(engine.getStats().deadlinesMissed).toBe(1);
    await advance(5_000);
    gate.resolve('late but done');
    expect(await engine.waitForTask(slow as string)).toBe('late but done');
    expect(clock.now()).toBe(6_000);
    expect(events.filter((e) => e.type === 'deadline')).toHaveLength(1); // once per task
  });

  it('counts from startTask, through waiting for dependencies and retries, and not for a task that ended (cancelled) before', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    const upstream = deferred<number>();
    const [, down, cancelled] = engine.registerTasks([
      { id: 'up', name: 'up', fn: () => upstream.promise },
      { id: 'down', name: 'down', fn: () => 'ok', dependencies: ['up'], deadline: 300 },
      { id: 'cancelled', name: 'cancelled', fn: () => new Promise(() => {}), deadline: 300 },
    ]);
    engine.startTasks(['down', 'cancelled']);
    await advance(100);
    engine.cancelTask(cancelled as string);
    engine.startTask('up');
    await advance(200);
    expect(events.filter((e) => e.type === 'deadline').map((e) => e.taskId)).toEqual([down]);
    expect(engine.getTask(down as string).status).toBe('WAITING');
    upstream.resolve(1);
    expect(await engine.waitForTask(down as string)).toBe('ok');
  });

  it('does not keep the process alive by itself, and is cleared by shutdown', async () => {
    const { engine, advance } = simulatedEngine();
    const events = recordEvents(engine);
    engine.registerTasks([{ name: 'never', fn: () => new Promise(() => {}), deadline: 100 }], { start: true });
    await engine.shutdown();
    await advance(1_000);
    expect(events.filter((e) => e.type === 'deadline')).toEqual([]);
  });

  it('checks deadline at registration', () => {
    const { engine } = simulatedEngine();
    expect(() => engine.registerTask({ name: 'x', deadline: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'deadline' }),
    );
    expect(() => engine.registerTask({ name: 'x', deadline: Infinity })).toThrow(expect.objectContaining({ field: 'deadline' }));
    expect(() => engine.registerTask({ name: 'external with a deadline', deadline: 5 })).not.toThrow();
  });
});
