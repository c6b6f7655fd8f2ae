import { describe, expect, it } from 'vitest';
import { TaskEngine, TaskPriority, ErrorCode, ofType } from '../../src/index.js';
import { deferred, recordEvents } from '../helpers.js';

/** Eight tasks, priorities LOW, NORMAL, LOW, HIGH, LOW, NORMAL, LOW, HIGH (t3 and t7 are HIGH). */
const PRIORITIES = [0, 1, 0, 2, 0, 1, 0, 2] as const;

function register(engine: TaskEngine, ran: string[], gate: Promise<unknown>): string[] {
  return PRIORITIES.map((priority, i) =>
    engine.registerTask({ id: `t${i}`, name: `t${i}`, priority: priority as TaskPriority, fn: () => (ran.push(`t${i}`), gate) }),
  );
}

describe('startTasks and registerTasks({ start: true })', () => {
  it('queues the whole batch before dispatching any of it, so the HIGH tasks take the free slots', async () => {
    const engine = new TaskEngine({ concurrency: 2 });
    const ran: string[] = [];
    const gate = deferred();
    const ids = register(engine, ran, gate.promise);
    engine.startTasks(ids);
    expect(ran).toEqual(['t3', 't7']);
    gate.resolve(undefined);
    await engine.onIdle();
    expect(ran).toEqual(['t3', 't7', 't1', 't5', 't0', 't2', 't4', 't6']);
  });

  it('a loop of startTask calls lets the first tasks take the slots (what startTasks is for)', async () => {
    const engine = new TaskEngine({ concurrency: 2 });
    const ran: string[] = [];
    const gate = deferred();
    for (const id of register(engine, ran, gate.promise)) engine.startTask(id);
    expect(ran).toEqual(['t0', 't1']);
    gate.resolve(undefined);
    await engine.onIdle();
  });

  it('registerTasks with start: true registers and starts the batch in one step, in priority order', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const ran: string[] = [];
    const ids = engine.registerTasks(
      [
        { id: 'low', name: 'low', priority: TaskPriority.LOW, fn: () => void ran.push('low') },
        { id: 'after', name: 'after', priority: TaskPriority.CRITICAL, dependencies: ['low'], fn: () => void ran.push('after') },
        { id: 'critical', name: 'critical', priority: TaskPriority.CRITICAL, fn: () => void ran.push('critical') },
      ],
      { start: true },
    );
    expect(ids).toEqual(['low', 'after', 'critical']);
    expect(engine.getTaskStatus('after')).toBe('WAITING');
    await engine.onIdle();
    expect(ran).toEqual(['critical', 'low', 'after']);
  });

  it('starts nothing when any id is refused: unknown, already started, or named twice', () => {
    const engine = new TaskEngine({ concurrency: 2 });
    const a = engine.registerTask({ name: 'a' });
    const b = engine.registerTask({ name: 'b' });
    const started = engine.registerTask({ name: 'started' });
    engine.startTask(started);
    expect(() => engine.startTasks([a, 'ghost'])).toThrow(expect.objectContaining({ code: ErrorCode.TASK_NOT_FOUND }));
    expect(() => engine.startTasks([a, started])).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_TRANSITION }));
    expect(() => engine.startTasks([a, b, a])).toThrow(/`ids` to name each task once, but `.*` appears twice/);
    expect(() => engine.startTasks('a' as never)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_OPTION, field: 'ids' }));
    expect(engine.getTaskStatus(a)).toBe('PENDING');
    expect(engine.getTask(a).startedAt).toBeUndefined();
    expect(engine.getTaskStatus(b)).toBe('PENDING');
    engine.startTasks([a, b]);
    expect(engine.getTaskStatus(a)).toBe('RUNNING');
  });

  it('refuses a bad start option before registering anything', () => {
    const engine = new TaskEngine();
    expect(() => engine.registerTasks([{ id: 'x', name: 'x' }], { start: 'yes' as never })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_OPTION, field: 'start' }),
    );
    expect(() => engine.getTask('x')).toThrow(expect.objectContaining({ code: ErrorCode.TASK_NOT_FOUND }));
  });

  it('leaves alone a task of the batch that a subscriber of its registered event already started or cancelled', async () => {
    const engine = new TaskEngine({ concurrency: 4 });
    const ran: string[] = [];
    engine.events.pipe(ofType('registered')).subscribe((event) => {
      if (event.taskId === 'cancelled-early') engine.cancelTask(event.taskId, 'not wanted');
      if (event.taskId === 'started-early') engine.startTask(event.taskId);
    });
    engine.registerTasks(
      [
        { id: 'started-early', name: 'started-early', fn: () => void ran.push('started-early') },
        { id: 'cancelled-early', name: 'cancelled-early', fn: () => void ran.push('cancelled-early') },
        { id: 'plain', name: 'plain', fn: () => void ran.push('plain') },
      ],
      { start: true },
    );
    await engine.onIdle();
    expect(ran.sort()).toEqual(['plain', 'started-early']);
    expect(engine.getTaskStatus('cancelled-early')).toBe('CANCELLED');
    expect(engine.getTask('started-early').attempts).toBe(1);
  });

  it('emits every task of the batch as queued before any runs', () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const events = recordEvents(engine);
    const ids = engine.registerTasks([{ name: 'a' }, { name: 'b', priority: TaskPriority.HIGH }]);
    engine.startTasks(ids);
    const statuses = events.filter((e) => e.type === 'status').map((e) => `${e.name}:${(e as { status: string }).status}`);
    expect(statuses).toEqual(['b:RUNNING']);
    expect(engine.getTaskStatus(ids[0] as string)).toBe('PENDING');
  });
});
