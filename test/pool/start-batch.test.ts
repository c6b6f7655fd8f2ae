import { afterEach, describe, expect, it } from 'vitest';
import { TaskEngine, TaskPriority } from '../../src/index.js';
import { recordEvents } from '../helpers.js';

const tasks = new URL('../fixtures/pool-tasks.mjs', import.meta.url);
let engine: TaskEngine | undefined;
afterEach(async () => {
  await engine?.shutdown();
  engine = undefined;
});

describe('pool executor: startTasks', () => {
  it('dispatches a started batch to the worker threads in priority order', async () => {
    engine = new TaskEngine({ concurrency: 1, pool: { maxWorkers: 1 } });
    const events = recordEvents(engine);
    const priorities = { a: TaskPriority.LOW, b: TaskPriority.NORMAL, c: TaskPriority.HIGH, d: TaskPriority.CRITICAL };
    const ids = Object.entries(priorities).map(([id, priority]) =>
      engine!.registerTask({ id, name: id, priority, module: tasks, export: 'whereAmI' }),
    );
    engine.startTasks(ids);
    await engine.onIdle();
    const running = events.filter((e) => e.type === 'status' && e.status === 'RUNNING').map((e) => e.taskId);
    expect(running).toEqual(['d', 'c', 'b', 'a']);
    for (const id of ids) expect(engine.getTaskResult(id)).toMatchObject({ isMainThread: false });
  });
});
