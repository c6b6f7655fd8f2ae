import { it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { TaskEngine } from '../../src/index.js';

it('scratch', async () => {
  const clock = new SimulatedClock();
  const base = 1_700_000_000_000;
  const engine = new TaskEngine({ clock, now: () => base + clock.now() });
  const events: unknown[] = [];
  engine.events.subscribe((e) => events.push({ ...e, error: e.type && 'error' in e ? String((e as any).error?.code) : undefined }));
  engine.registerTasks([
    { id: 'a', name: 'sum', args: [1, 2], cache: true, fn: (_c, x: number, y: number) => x + y },
    { id: 'b', name: 'sum', args: [1, 2], cache: true, fn: (_c, x: number, y: number) => x + y, dependencies: ['a'] },
    { id: 'late', name: 'late', deadline: 100 },
    { id: 'hb', name: 'hb', heartbeatTimeout: 50, maxRetries: 1, retryDelay: 10, fn: (ctx) => ctx.attempt === 1 ? new Promise(() => {}) : 'ok' },
  ], { start: true });
  await engine.waitForTask('b');
  clock.increment(60);
  await new Promise((r) => setImmediate(r));
  clock.increment(20);
  await new Promise((r) => setImmediate(r));
  clock.increment(30);
  await new Promise((r) => setImmediate(r));
  console.log(JSON.stringify(events, null, 0).replace(/\},\{/g, '},\n{'));
  for (const id of ['a', 'b', 'late', 'hb']) { const t = engine.getTask(id); console.log(id, t.status, t.cached, t.lastHeartbeatAt, t.deadlineMissedAt, t.interruptions, t.crashes, t.attempts); }
  console.log(engine.getStats());
  engine.completeTask('late', 1);
  await engine.shutdown();
});
