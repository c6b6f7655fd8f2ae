/**
 * The supervisor's side of the task events: a task's `registered` event goes out once and before any other event of
 * it, whichever of its events comes first (a subscriber reacting to one task of a batch can change a later one).
 */
import { describe, expect, it } from 'vitest';
import { RecordEvents } from '../../src/actors/record-events.js';
import type { TaskRecord } from '../../src/actors/task-record.js';
import type { TaskEvent } from '../../src/events.js';
import { EventStream } from '../../src/monitor/event-stream.js';
import { TaskStatus } from '../../src/status.js';

function setup() {
  const stream = new EventStream();
  const seen: TaskEvent[] = [];
  stream.observable.subscribe((event) => seen.push(event));
  const events = new RecordEvents(stream, () => 99);
  const record = (id: string) =>
    ({
      id,
      name: `n-${id}`,
      createdAt: 7,
      announced: false,
      status: TaskStatus.RUNNING,
      progress: 0.5,
      message: 'half',
      error: undefined,
      spec: { executor: 'pool' },
    }) as unknown as TaskRecord;
  const kinds = () => seen.map((event) => `${event.type}:${event.taskId}`);
  return { events, seen, record, kinds };
}

describe('RecordEvents', () => {
  it('announces each task of a batch once, at its creation time, marked restored when it was', () => {
    const { events, seen, record, kinds } = setup();
    const a = record('a');
    const b = record('b');
    events.registered([a, b]);
    events.registered([a, b]);
    expect(kinds()).toEqual(['registered:a', 'registered:b']);
    expect(seen[0]).toEqual({ type: 'registered', taskId: 'a', name: 'n-a', timestamp: 7 });
    events.registered([record('c')], true);
    expect(seen[2]).toMatchObject({ type: 'registered', taskId: 'c', restored: true });
  });

  it.each([
    ['status', (events: RecordEvents, r: TaskRecord) => events.status(r, TaskStatus.PENDING)],
    ['retry', (events: RecordEvents, r: TaskRecord) => events.retry(r, 2, 100, new Error('x'))],
    ['progress', (events: RecordEvents, r: TaskRecord) => events.progress(r)],
    ['executor-wait', (events: RecordEvents, r: TaskRecord) => events.executorWait(r, 1, undefined)],
  ])('announces a task before its first %s event, and only once', (type, emit) => {
    const { events, record, kinds } = setup();
    const a = record('a');
    emit(events, a);
    emit(events, a);
    events.registered([a]);
    expect(kinds()).toEqual(['registered:a', `${type}:a`, `${type}:a`]);
  });

  it('reports what the record says: status and previous, retry details, progress and message, the executor', () => {
    const { events, seen, record } = setup();
    const a = record('a');
    events.status(a, TaskStatus.PENDING);
    events.retry(a, 2, 100, 'err');
    events.progress(a);
    events.executorWait(a, 3, new Error('down'));
    expect(seen.slice(1)).toMatchObject([
      { type: 'status', taskId: 'a', name: 'n-a', timestamp: 99, status: TaskStatus.RUNNING, previous: TaskStatus.PENDING },
      { type: 'retry', attempt: 2, delay: 100, error: 'err' },
      { type: 'progress', progress: 0.5, message: 'half' },
      { type: 'executor-wait', attempt: 3, executor: 'pool', waiting: true },
    ]);
  });

  it('reports store and resource errors under the task id and name given (the task may be forgotten)', () => {
    const { events, seen } = setup();
    events.storeError('gone', 'old', 'disk full');
    events.resourceError('gone', 'old', 'close failed');
    expect(seen).toMatchObject([
      { type: 'store-error', taskId: 'gone', name: 'old', error: 'disk full' },
      { type: 'resource-error', taskId: 'gone', name: 'old', error: 'close failed' },
    ]);
  });
});
