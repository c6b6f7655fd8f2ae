import { describe, expect, it } from 'vitest';
import { TaskEngine } from '../../src/index.js';
import { simulatedEngine } from '../helpers.js';

describe('memory: finished tasks are compact and can be forgotten', () => {
  it('forgets a task on cleanupTask; only terminal tasks can be cleaned up', async () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({ name: 'x', fn: () => 1 });
    expect(() => engine.cleanupTask(id)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TRANSITION' }));
    engine.startTask(id);
    await engine.waitForTask(id);
    await engine.cleanupTask(id);
    expect(() => engine.getTask(id)).toThrow(expect.objectContaining({ code: 'ERR_TASK_NOT_FOUND' }));
    expect(engine.getStats().total).toBe(0);
    expect(() => engine.registerTask({ id, name: 'id reusable after cleanup' })).not.toThrow();
  });

  it('keeps at most retention.maxFinished finished tasks, forgetting the oldest', async () => {
    const engine = new TaskEngine({ retention: { maxFinished: 3 } });
    const ids = Array.from({ length: 6 }, (_, i) => engine.registerTask({ name: `t${i}`, fn: () => i }));
    for (const id of ids) {
      engine.startTask(id);
      await engine.waitForTask(id);
    }
    expect(ids.map((id) => engine.getStats() && safeStatus(engine, id))).toEqual([
      'gone', 'gone', 'gone', 'COMPLETED', 'COMPLETED', 'COMPLETED',
    ]);
  });

  it('forgets finished tasks after retention.finishedTtl with a single timer', async () => {
    const { engine, advance, clock } = simulatedEngine({ retention: { finishedTtl: 1000 } });
    const first = engine.registerTask({ name: 'first', fn: () => 1 });
    engine.startTask(first);
    await advance(600);
    const second = engine.registerTask({ name: 'second', fn: () => 2 });
    engine.startTask(second);
    await advance(0);
    expect((clock as unknown as { timeouts: Map<unknown, unknown> }).timeouts.size).toBe(1);
    await advance(400);
    expect(safeStatus(engine, first)).toBe('gone');
    expect(safeStatus(engine, second)).toBe('COMPLETED');
    await advance(600);
    expect(safeStatus(engine, second)).toBe('gone');
  });

  it('stays flat over 20,000 tasks with retention', async () => {
    const engine = new TaskEngine({ concurrency: 64, retention: { maxFinished: 100 } });
    for (let batch = 0; batch < 20; batch++) {
      const ids = Array.from({ length: 1000 }, () => engine.registerTask({ name: 'noop', fn: () => undefined }));
      for (const id of ids) engine.startTask(id);
      await engine.onIdle();
    }
    expect(engine.getStats().total).toBe(100);
    expect(engine.getStats().finished).toBe(20_000);
  });
});

function safeStatus(engine: TaskEngine, id: string): string {
  try {
    return engine.getTaskStatus(id);
  } catch {
    return 'gone';
  }
}
