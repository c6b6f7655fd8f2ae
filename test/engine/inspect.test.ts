import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { TaskEngine } from '../../src/index.js';

/** The id of the machine an inspection event comes from: 'task' for task actors, 'supervisor' for the engine's own. */
const machineOf = (event: InspectionEvent): string => (event.actorRef as unknown as { logic: { id: string } }).logic.id;

describe('inspect option', () => {
  it('passes an XState inspection observer to every task actor and the supervisor', async () => {
    const seen: InspectionEvent[] = [];
    const engine = new TaskEngine({ inspect: (event) => seen.push(event) });
    const id = engine.registerTask({ id: 'inspected', name: 'inspected', fn: () => 1 });
    engine.startTask(id);
    await engine.waitForTask(id);
    const actors = seen.filter((e) => e.type === '@xstate.actor').map(machineOf);
    expect(actors).toEqual(expect.arrayContaining(['supervisor', 'task']));
    const events = seen.filter((e) => e.type === '@xstate.event').map((e) => (e as { event: { type: string } }).event.type);
    expect(events).toEqual(expect.arrayContaining(['START', 'DISPATCH', 'ATTEMPT_SUCCEEDED']));
    expect(seen.some((e) => e.type === '@xstate.snapshot')).toBe(true);
  });

  it('accepts an observer object and sends it the task actors\' inspection events', async () => {
    const seen: InspectionEvent[] = [];
    const engine = new TaskEngine({ inspect: { next: (event) => seen.push(event) } });
    const id = engine.registerTask({ name: 'observed', fn: () => 1 });
    engine.startTask(id);
    await engine.waitForTask(id);
    const taskEvents = seen.filter((e) => e.type === '@xstate.event' && machineOf(e) === 'task');
    expect(taskEvents.map((e) => (e as { event: { type: string } }).event.type)).toEqual(expect.arrayContaining(['START', 'DISPATCH', 'ATTEMPT_SUCCEEDED']));
    expect(seen.some((e) => e.type === '@xstate.snapshot' && machineOf(e) === 'task')).toBe(true);
  });

  it('is off by default: an engine without it sends nothing to another engine\'s observer', async () => {
    const seen: InspectionEvent[] = [];
    const inspected = new TaskEngine({ inspect: (event) => seen.push(event) });
    const before = inspected.registerTask({ name: 'before', fn: () => 1 });
    inspected.startTask(before);
    await inspected.waitForTask(before);
    const seenBefore = seen.length;
    expect(seenBefore).toBeGreaterThan(0);

    const plain = new TaskEngine();
    const id = plain.registerTask({ name: 'x', fn: () => 1 });
    plain.startTask(id);
    await expect(plain.waitForTask(id)).resolves.toBe(1);
    expect(seen.slice(seenBefore)).toEqual([]);
  });
});
