import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { TaskEngine } from '../../src/index.js';

describe('inspect option', () => {
  it('passes an XState inspection observer to every task actor and the supervisor', async () => {
    const seen: InspectionEvent[] = [];
    const engine = new TaskEngine({ inspect: (event) => seen.push(event) });
    const id = engine.registerTask({ id: 'inspected', name: 'inspected', fn: () => 1 });
    engine.startTask(id);
    await engine.waitForTask(id);
    const actors = seen.filter((e) => e.type === '@xstate.actor').map((e) => (e.actorRef as unknown as { logic: { id: string } }).logic.id);
    expect(actors).toEqual(expect.arrayContaining(['supervisor', 'task']));
    const events = seen.filter((e) => e.type === '@xstate.event').map((e) => (e as { event: { type: string } }).event.type);
    expect(events).toEqual(expect.arrayContaining(['START', 'DISPATCH', 'ATTEMPT_SUCCEEDED']));
    expect(seen.some((e) => e.type === '@xstate.snapshot')).toBe(true);
  });

  it('is off by default', async () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({ name: 'x', fn: () => 1 });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toBe(1);
  });
});
