import { describe, expect, it } from 'vitest';
import { TaskEngine, ofType, type StalledEvent } from '../../src/index.js';
import { deferred } from '../helpers.js';

function stalledEvents(engine: TaskEngine): StalledEvent[] {
  const events: StalledEvent[] = [];
  engine.events.pipe(ofType('stalled')).subscribe((event) => events.push(event));
  return events;
}

describe('a forgotten start is reported', () => {
  it('emits one stalled event per started task that waits on a never-started dependency, before onIdle resolves', async () => {
    const engine = new TaskEngine();
    const stalled = stalledEvents(engine);
    engine.registerTasks([
      { id: 'fetch', name: 'fetch', fn: () => 'page' },
      { id: 'parse', name: 'parse', dependencies: ['fetch'], fn: () => 'parsed' },
      { id: 'report', name: 'report', dependencies: ['parse'], fn: () => 'report' },
      { id: 'other', name: 'other', fn: () => 'other' },
    ]);
    engine.startTasks(['parse', 'report', 'other']); // `fetch` forgotten
    await engine.onIdle();
    expect(stalled.map((e) => [e.taskId, e.name, e.waitingOn])).toEqual([
      ['parse', 'parse', ['fetch']],
      ['report', 'report', ['fetch']],
    ]);
    expect(engine.getTaskStatus('other')).toBe('COMPLETED');
    expect(engine.getTaskStatus('report')).toBe('WAITING');
  });

  it('reports without anyone awaiting onIdle, after the synchronous code that started the tasks', async () => {
    const engine = new TaskEngine();
    const stalled = stalledEvents(engine);
    const a = engine.registerTask({ id: 'a', name: 'a', fn: () => 1 });
    const b = engine.registerTask({ id: 'b', name: 'b', dependencies: [a], fn: () => 2 });
    engine.startTask(b);
    engine.startTask(a); // started in the same synchronous run: nothing stalled
    await engine.waitForTask(b);
    const c = engine.registerTask({ id: 'c', name: 'c' });
    const d = engine.registerTask({ id: 'd', name: 'd', dependencies: [c], fn: () => 3 });
    engine.startTask(d);
    expect(stalled).toEqual([]); // not yet: the caller may still start `c` in this synchronous run
    await Promise.resolve();
    expect(stalled.map((e) => [e.taskId, e.waitingOn])).toEqual([['d', ['c']]]);
  });

  it('reports a task once per idle period, and again after the engine was busy and idle again', async () => {
    const engine = new TaskEngine();
    const stalled = stalledEvents(engine);
    const never = engine.registerTask({ id: 'never', name: 'never' });
    engine.registerTask({ id: 'waits', name: 'waits', dependencies: [never], fn: () => 1 });
    engine.startTask('waits');
    await engine.onIdle();
    await engine.onIdle();
    expect(stalled.map((e) => e.taskId)).toEqual(['waits']);
    const gate = deferred();
    const busy = engine.registerTask({ name: 'busy', fn: () => gate.promise });
    engine.startTask(busy);
    gate.resolve(undefined);
    await engine.waitForTask(busy);
    await engine.onIdle();
    expect(stalled.map((e) => e.taskId)).toEqual(['waits', 'waits']);
  });

  it('names every never-started task behind a chain of waiting ones, each once', async () => {
    const engine = new TaskEngine();
    const stalled = stalledEvents(engine);
    engine.registerTasks([
      { id: 'x', name: 'x' },
      { id: 'y', name: 'y' },
      { id: 'left', name: 'left', dependencies: ['x'], fn: () => 1 },
      { id: 'right', name: 'right', dependencies: ['x', 'y'], fn: () => 1 },
      { id: 'top', name: 'top', dependencies: ['left', 'right'], fn: () => 1 },
    ]);
    engine.startTasks(['left', 'right', 'top']);
    await engine.onIdle();
    expect(Object.fromEntries(stalled.map((e) => [e.taskId, e.waitingOn]))).toEqual({
      left: ['x'],
      right: ['x', 'y'],
      top: ['x', 'y'],
    });
  });

  it('reports nothing when every waiting task waits on work that is running', async () => {
    const engine = new TaskEngine();
    const stalled = stalledEvents(engine);
    const gate = deferred();
    const a = engine.registerTask({ name: 'a', fn: () => gate.promise });
    const b = engine.registerTask({ name: 'b', dependencies: [a], fn: () => 1 });
    engine.startTasks([a, b]);
    await Promise.resolve();
    gate.resolve(undefined);
    await engine.onIdle();
    expect(engine.getTaskStatus(b)).toBe('COMPLETED');
    expect(stalled).toEqual([]);
  });
});
