import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { TaskEngine } from '../../src/index.js';
import { exposeGc, simulatedEngine } from '../helpers.js';

describe('memory: finished tasks are compact and can be forgotten', () => {
  it('forgets a task on cleanupTask; only terminal tasks can be cleaned up', async () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({ name: 'x', fn: () => 1 });
    await expect(engine.cleanupTask(id)).rejects.toMatchObject({ code: 'ERR_INVALID_TRANSITION' });
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
    expect(ids.map((id) => safeStatus(engine, id))).toEqual(['gone', 'gone', 'gone', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(engine.getStats()).toMatchObject({ total: 3, finished: 6 });
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

  it("lets a finished task's actor be garbage-collected while the task is still remembered", async () => {
    const gc = exposeGc();
    const actors = new Map<string, WeakRef<object>>(); // task id -> its actor, held weakly
    const engine = new TaskEngine({
      inspect: (event: InspectionEvent) => {
        const actor = event.actorRef as unknown as { logic: { id: string }; getSnapshot(): { context?: { id?: string } } };
        const id = event.type === '@xstate.snapshot' && actor.logic.id === 'task' ? actor.getSnapshot().context?.id : undefined;
        if (id !== undefined && !actors.has(id)) actors.set(id, new WeakRef(event.actorRef));
      },
    });
    const finished = Array.from({ length: 20 }, (_, i) => engine.registerTask({ name: `done-${i}`, fn: () => ({ payload: i }) }));
    const live = engine.registerTask({ name: 'still running' }); // external: stays RUNNING, its actor must stay
    for (const id of [...finished, live]) engine.startTask(id);
    await Promise.all(finished.map((id) => engine.waitForTask(id)));
    expect(actors.size).toBe(21);
    const collected = async () => {
      for (let round = 0; round < 10; round++) {
        await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets are kept until the current job ends
        gc();
        if (finished.every((id) => actors.get(id)?.deref() === undefined)) break;
      }
      return [...actors].filter(([, ref]) => ref.deref() === undefined).map(([id]) => id);
    };
    expect((await collected()).sort()).toEqual([...finished].sort());
    expect(actors.get(live)?.deref()).toBeDefined();
    expect(engine.getTask(finished[0] as string)).toMatchObject({ status: 'COMPLETED', result: { payload: 0 } });
    engine.completeTask(live, 'done');
    expect(engine.getTaskStatus(live)).toBe('COMPLETED');
  });

  it("stays flat over 20,000 tasks with retention: forgotten tasks' results are collected and the heap does not grow", async () => {
    const gc = exposeGc();
    const engine = new TaskEngine({ concurrency: 64, retention: { maxFinished: 100 } });
    const results: Array<WeakRef<object>> = []; // every task's result, held weakly: only the engine can keep one alive
    const heapAfter = new Map<number, number>();
    for (let batch = 0; batch < 20; batch++) {
      const ids = Array.from({ length: 1000 }, (_, i) =>
        engine.registerTask({
          name: 'noop',
          fn: () => {
            const result = { batch, i, payload: `${batch}:${i}:`.padEnd(1024, '.') }; // about 2 KB each
            results.push(new WeakRef(result));
            return result;
          },
        }),
      );
      for (const id of ids) engine.startTask(id);
      await engine.onIdle();
      if (batch === 4 || batch === 19) heapAfter.set(batch, await collectedHeap(gc));
    }
    expect(engine.getStats()).toMatchObject({ total: 100, finished: 20_000 });
    expect(results).toHaveLength(20_000);
    // Exactly the 100 remembered tasks' results are still reachable; the other 19,900 were let go.
    const alive = results.flatMap((ref, index) => (ref.deref() === undefined ? [] : [index]));
    expect(alive).toEqual(Array.from({ length: 100 }, (_, i) => 19_900 + i));
    // 15,000 more tasks ran between the two measures; kept, they would hold over 30 MB of results alone.
    const growth = (heapAfter.get(19) as number) - (heapAfter.get(4) as number);
    expect(growth, `heap grew by ${(growth / 1e6).toFixed(1)} MB`).toBeLessThan(5e6);
    await engine.shutdown();
  });
});

/** heapUsed once garbage collection has run (WeakRef targets are kept until the current job ends, hence the turns). */
async function collectedHeap(gc: () => void): Promise<number> {
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

function safeStatus(engine: TaskEngine, id: string): string {
  try {
    return engine.getTaskStatus(id);
  } catch {
    return 'gone';
  }
}
