import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { createInspector } from '@statelyai/inspect';
import { TaskEngine } from '../../src/index.js';
import { readInspection, recordInspection, type InspectionLine } from '../../src/inspect/index.js';
import { actorLabel, nameInLabel } from '../../src/runtime/xstate-runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Registers `fetch` (id = name), a task without an id (a generated one) and `parse` (id `parse-2`), runs them, shuts down. */
async function runThree(inspect: NonNullable<ConstructorParameters<typeof TaskEngine>[0]>['inspect']): Promise<string> {
  const engine = new TaskEngine({ inspect });
  engine.registerTask({ id: 'fetch', name: 'fetch', fn: () => 'data' });
  const generated = engine.registerTask({ name: 'extract', dependencies: ['fetch'], fn: () => 1 });
  engine.registerTask({ id: 'parse-2', name: 'parse (csv)', dependencies: [generated], fn: () => 2 });
  for (const id of ['fetch', generated, 'parse-2']) engine.startTask(id);
  await engine.waitForTask('parse-2');
  await engine.shutdown();
  return generated;
}

describe('task actors are named after their task', () => {
  it('in the events an observer gets: the actor id is the task label from its first event on, the systemId the task id', async () => {
    const announced: Array<{ id: string; sessionId: string; machine: string }> = [];
    const actors = new Set<{ readonly systemId?: string }>();
    const generated = await runThree((event: InspectionEvent) => {
      const ref = event.actorRef as AnyActorRef & { logic: { id: string }; systemId?: string };
      // Read synchronously: the @xstate.actor event is sent while the actor is being constructed.
      if (event.type === '@xstate.actor') announced.push({ id: ref.id, sessionId: ref.sessionId, machine: ref.logic.id });
      if (ref.logic.id === 'task') actors.add(ref);
    });
    expect(generated).toMatch(UUID);
    const tasks = announced.filter((a) => a.machine === 'task');
    expect(tasks.map((a) => a.id)).toEqual(['fetch', `extract (${generated})`, 'parse (csv) (parse-2)']);
    // Session ids stay XState's own, one per actor, and differ from every task label.
    expect(new Set(announced.map((a) => a.sessionId)).size).toBe(announced.length);
    expect(announced.find((a) => a.machine === 'supervisor')?.id).toMatch(/^x:\d+$/);
    expect([...actors].map((ref) => ref.systemId)).toEqual(['fetch', generated, 'parse-2']);
  });

  it("in @statelyai/inspect: the name Stately's inspector shows for each task actor is its label", async () => {
    const sent: Array<{ type: string; name?: string; sessionId: string }> = [];
    const inspector = createInspector({ send: (event) => void sent.push(event as never) });
    const generated = await runThree(inspector.inspect);
    // The inspector converts and sends events when the thread is idle (a timer in Node): wait until it has.
    await vi.waitFor(() => expect(sent.filter((e) => e.type === '@xstate.actor')).toHaveLength(4));
    inspector.stop();
    const names = sent.filter((e) => e.type === '@xstate.actor').map((e) => e.name);
    expect(names).toEqual(['supervisor', 'fetch', `extract (${generated})`, 'parse (csv) (parse-2)']);
    expect(names.some((name) => name?.startsWith('x:'))).toBe(false);
  });

  it('in a recording: every line of a task actor has its taskId, taskName and label as actorId, its first line included', async () => {
    const stream = new PassThrough();
    const recorder = recordInspection(stream, { end: true });
    const read = (async () => {
      const lines: InspectionLine[] = [];
      for await (const line of readInspection(stream)) lines.push(line);
      return lines;
    })();
    const generated = await runThree(recorder.inspect);
    await recorder.close();
    const lines = await read;
    const expected = new Map([
      ['fetch', { taskName: 'fetch', actorId: 'fetch' }],
      [generated, { taskName: 'extract', actorId: `extract (${generated})` }],
      ['parse-2', { taskName: 'parse (csv)', actorId: 'parse (csv) (parse-2)' }],
    ]);
    const taskLines = lines.filter((l) => l.machine === 'task');
    expect(taskLines.length).toBeGreaterThan(20);
    for (const line of taskLines) {
      expect(expected.get(line.taskId!), `line ${line.seq}`).toEqual({ taskName: line.taskName, actorId: line.actorId });
    }
    expect(taskLines.filter((l) => l.type === '@xstate.actor').map((l) => l.taskName)).toEqual(['fetch', 'extract', 'parse (csv)']);
    const supervisor = lines.filter((l) => l.machine === 'supervisor');
    expect(supervisor.length).toBeGreaterThan(0);
    expect(supervisor.every((l) => l.taskId === undefined && l.taskName === undefined)).toBe(true);
  });
});

describe('actorLabel and nameInLabel', () => {
  it('label a task by its name, with its id in parentheses when the id differs, and read the name back', () => {
    expect(actorLabel('fetch', 'fetch')).toBe('fetch');
    expect(actorLabel('f-1', 'fetch')).toBe('fetch (f-1)');
    for (const [id, name] of [
      ['fetch', 'fetch'],
      ['f-1', 'fetch'],
      ['x', 'a (x)'],
      ['a b', 'a b (c)'],
    ] as const) {
      expect(nameInLabel(actorLabel(id, name), id)).toBe(name);
    }
  });

  it('read no name from a label made for another id, or from an XState session id', () => {
    expect(nameInLabel('fetch (f-1)', 'f-2')).toBeUndefined();
    expect(nameInLabel('x:3', 'fetch')).toBeUndefined();
    expect(nameInLabel(' (f-1)', 'f-1')).toBeUndefined();
  });
});
