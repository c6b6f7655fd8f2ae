import { describe, expect, it, vi } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createInspector } from '@statelyai/inspect';
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

  it('works with @statelyai/inspect: its inspector receives each task actor, its events and its snapshots', async () => {
    // The same inspector createWebSocketInspector / createBrowserInspector build, with an adapter that keeps what it is sent.
    const sent: Array<{ type: string; sessionId: string; event?: { type: string }; snapshot?: { value?: unknown } }> = [];
    const inspector = createInspector({ send: (event) => void sent.push(event as never) });
    const engine = new TaskEngine({ inspect: inspector.inspect });
    const id = engine.registerTask({ name: 'seen by the inspector', fn: () => 42 });
    engine.startTask(id);
    await engine.waitForTask(id);
    await engine.shutdown();
    // The inspector converts and sends events when the thread is idle (a timer in Node): wait until it has.
    await vi.waitFor(() =>
      expect(sent.some((e) => e.type === '@xstate.snapshot' && JSON.stringify(e.snapshot?.value) === '"completed"')).toBe(true),
    );
    inspector.stop();
    const actors = sent.filter((e) => e.type === '@xstate.actor');
    expect(actors.length).toBeGreaterThanOrEqual(2); // the supervisor's lifecycle and the task
    const taskEvents = sent.filter((e) => e.type === '@xstate.event').map((e) => e.event?.type);
    expect(taskEvents).toEqual(expect.arrayContaining(['START', 'DISPATCH', 'ATTEMPT_SUCCEEDED']));
    const values = sent.filter((e) => e.type === '@xstate.snapshot').map((e) => JSON.stringify(e.snapshot?.value));
    expect(values).toEqual(expect.arrayContaining(['"queued"', '{"running":"untimed"}', '"completed"']));
  });

  it("accepts an observer object and sends it the task actors' inspection events", async () => {
    const seen: InspectionEvent[] = [];
    const engine = new TaskEngine({ inspect: { next: (event) => seen.push(event) } });
    const id = engine.registerTask({ name: 'observed', fn: () => 1 });
    engine.startTask(id);
    await engine.waitForTask(id);
    const taskEvents = seen.filter((e) => e.type === '@xstate.event' && machineOf(e) === 'task');
    expect(taskEvents.map((e) => (e as { event: { type: string } }).event.type)).toEqual(
      expect.arrayContaining(['START', 'DISPATCH', 'ATTEMPT_SUCCEEDED']),
    );
    expect(seen.some((e) => e.type === '@xstate.snapshot' && machineOf(e) === 'task')).toBe(true);
  });

  it("is off by default: an engine without it sends nothing to another engine's observer", async () => {
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
