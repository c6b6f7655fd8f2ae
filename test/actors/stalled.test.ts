/**
 * Which WAITING tasks nothing will ever run, and when the engine says so: findStalls walks what each waits on down
 * to the never-started tasks (each named once, depth first, shared sub-chains walked once); the reporter speaks only
 * when someone listens, the engine is idle and not halted, once per idle period, and after a drain nobody awaits
 * only once the caller's synchronous code is over.
 */
import { describe, expect, it } from 'vitest';
import { findStalls, StallReporter, type StallHost } from '../../src/actors/stalled.js';
import type { TaskRecord } from '../../src/actors/task-record.js';
import type { TaskEvent } from '../../src/events.js';
import { EventStream } from '../../src/monitor/event-stream.js';

type State = TaskRecord['state'];

function graph(tasks: Record<string, [State, ...string[]]>): Map<string, TaskRecord> {
  const records = new Map<string, TaskRecord>();
  for (const [id, [state, ...dependencies]] of Object.entries(tasks)) {
    records.set(id, { id, name: `n-${id}`, state, dependencies, stalledPeriod: -1 } as unknown as TaskRecord);
  }
  return records;
}

const none = (_record: TaskRecord) => false;
const summary = (records: Map<string, TaskRecord>, reported = none) =>
  findStalls(records, reported).map(({ record, waitingOn }) => [record.id, waitingOn]);

describe('findStalls', () => {
  it('names the never-started dependencies of each waiting task, through waiting ones, depth first and each once', () => {
    const records = graph({
      p1: ['pending'],
      p2: ['pending'],
      w1: ['waiting', 'p1', 'p2'],
      w2: ['waiting', 'w1', 'p2'],
      w3: ['waiting', 'w2', 'w1'],
    });
    expect(summary(records)).toEqual([
      ['w1', ['p1', 'p2']],
      ['w2', ['p1', 'p2']],
      ['w3', ['p1', 'p2']],
    ]);
  });

  it('keeps declaration order through the walk: a waiting dependency first names what it waits on', () => {
    const records = graph({
      a: ['pending'],
      b: ['pending'],
      c: ['pending'],
      mid: ['waiting', 'b', 'a'],
      top: ['waiting', 'c', 'mid', 'a'],
    });
    expect(summary(records)).toEqual([
      ['mid', ['b', 'a']],
      ['top', ['c', 'b', 'a']],
    ]);
  });

  it('is not stalled when what it waits on is queued, running, in backoff, completed or forgotten', () => {
    const records = graph({
      q: ['queued'],
      r: ['running'],
      b: ['retrying'],
      c: ['completed'],
      w: ['waiting', 'q', 'r', 'b', 'c', 'forgotten'],
      w2: ['waiting', 'w'],
    });
    expect(summary(records)).toEqual([]);
  });

  it('looks only at waiting tasks, and skips those already reported', () => {
    const records = graph({
      p: ['pending'],
      other: ['pending', 'p'],
      w1: ['waiting', 'p'],
      w2: ['waiting', 'p'],
    });
    expect(summary(records, (record) => record.id === 'w1')).toEqual([['w2', ['p']]]);
  });

  it('walks a chain of 100,000 waiting tasks without overflowing the stack, in linear time', () => {
    const tasks: Record<string, [State, ...string[]]> = { t0: ['pending'] };
    for (let i = 1; i <= 100_000; i++) tasks[`t${i}`] = ['waiting', `t${i - 1}`];
    const stalls = findStalls(graph(tasks), none);
    expect(stalls).toHaveLength(100_000);
    expect(stalls.every((stall) => stall.waitingOn.length === 1 && stall.waitingOn[0] === 't0')).toBe(true);
  });
});

function reporter(tasks: Record<string, [State, ...string[]]>, listen = true) {
  const records = graph(tasks);
  const stream = new EventStream();
  const events: string[] = [];
  if (listen)
    stream.observable.subscribe((event: TaskEvent) =>
      events.push(`${event.taskId}:${event.type === 'stalled' ? event.waitingOn.join() : '?'}`),
    );
  const state = { idle: true, halted: false };
  const host: StallHost = {
    records,
    stream,
    now: () => 42,
    waiting: () => [...records.values()].filter((record) => record.state === 'waiting').length,
    isIdle: () => state.idle,
    halted: () => state.halted,
  };
  return { stalls: new StallReporter(host), events, state, records };
}

describe('StallReporter', () => {
  it('reports each stalled task once per idle period, and again after an attempt began', () => {
    const r = reporter({ p: ['pending'], w: ['waiting', 'p'] });
    r.stalls.report();
    r.stalls.report();
    expect(r.events).toEqual(['w:p']);
    r.stalls.attemptBegun();
    r.stalls.report();
    expect(r.events).toEqual(['w:p', 'w:p']);
  });

  it('says nothing with no waiting task, once halted, or with nobody listening', () => {
    const idle = reporter({ p: ['pending'], q: ['queued', 'p'] });
    idle.stalls.report();
    expect(idle.events).toEqual([]);
    const halted = reporter({ p: ['pending'], w: ['waiting', 'p'] });
    halted.state.halted = true;
    halted.stalls.report();
    expect(halted.events).toEqual([]);
    const unheard = reporter({ p: ['pending'], w: ['waiting', 'p'] }, false);
    unheard.stalls.report();
    // Not marked as reported either: a listener who subscribes later hears of it.
    expect(unheard.records.get('w')?.stalledPeriod).toBe(-1);
  });

  it('after a drain, reports once on a microtask, after the synchronous code, and only if still idle', async () => {
    const r = reporter({ p: ['pending'], w: ['waiting', 'p'] });
    r.stalls.check();
    r.stalls.check();
    expect(r.events).toEqual([]);
    await Promise.resolve();
    expect(r.events).toEqual(['w:p']);
    // A later check in a new period reports again: the first one's microtask is over.
    r.stalls.attemptBegun();
    r.stalls.check();
    await Promise.resolve();
    expect(r.events).toEqual(['w:p', 'w:p']);
    // Busy again by the microtask (the caller's loop started the dependency): nothing.
    r.stalls.attemptBegun();
    r.stalls.check();
    r.state.idle = false;
    await Promise.resolve();
    expect(r.events).toEqual(['w:p', 'w:p']);
  });

  it('does not even schedule a check while busy or with nothing waiting', async () => {
    const busy = reporter({ p: ['pending'], w: ['waiting', 'p'] });
    busy.state.idle = false;
    busy.stalls.check();
    busy.state.idle = true;
    await Promise.resolve();
    expect(busy.events).toEqual([]);
    const nothing = reporter({ p: ['pending'] });
    nothing.stalls.check();
    nothing.records.set('w', { id: 'w', name: 'w', state: 'waiting', dependencies: ['p'], stalledPeriod: -1 } as unknown as TaskRecord);
    await Promise.resolve();
    expect(nothing.events).toEqual([]);
  });
});
