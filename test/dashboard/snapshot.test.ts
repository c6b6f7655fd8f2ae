/**
 * What the dashboard sends the page, without a server: each event type as the SSE stream serialises it (the newer
 * `rate-limited`, `deadline` and `cache-skipped`, and a cached completion), a task with the fields of long and
 * repeated work, and the attempt history's stalled attempts and skipped cache.
 */
import { describe, expect, it } from 'vitest';
import { RateLimitedError, TaskPriority, TaskStalledError, TaskStatus, type TaskEvent } from '../../src/index.js';
import { TaskHistories } from '../../src/dashboard/history.js';
import { eventToJson, taskToJson, type TaskInfoLike } from '../../src/dashboard/snapshot.js';

const base = { taskId: 'fetch-1', name: 'fetch', timestamp: 1_700_000_000_000 } as const;

/** The event as the page receives it: serialised by the server, parsed by the browser. */
const sent = (event: TaskEvent): unknown => JSON.parse(JSON.stringify([eventToJson(event)]))[0];

describe('events as the SSE stream sends them', () => {
  it('a rate-limited event carries its limiter, key and the time the key pauses until', () => {
    expect(sent({ ...base, type: 'rate-limited', limiter: 'llm', key: 'team-a', until: base.timestamp + 30_000 })).toEqual({
      ...base,
      type: 'rate-limited',
      limiter: 'llm',
      key: 'team-a',
      until: base.timestamp + 30_000,
    });
  });

  it('a deadline event carries the deadline that passed (ms after start)', () => {
    expect(sent({ ...base, type: 'deadline', deadline: 500 })).toEqual({ ...base, type: 'deadline', deadline: 500 });
  });

  it('a cache-skipped event carries its error as JSON', () => {
    const error = new TypeError('Cannot compute the cache key of `fetch`: argument 0 is a function');
    expect(sent({ ...base, type: 'cache-skipped', error })).toEqual({
      ...base,
      type: 'cache-skipped',
      error: { name: 'TypeError', message: 'Cannot compute the cache key of `fetch`: argument 0 is a function' },
    });
  });

  it('a completion from the results cache says `cached`; any other status event does not', () => {
    const cached: TaskEvent = { ...base, type: 'status', status: TaskStatus.COMPLETED, previous: TaskStatus.PENDING, cached: true };
    expect(sent(cached)).toEqual({ ...base, type: 'status', status: 'COMPLETED', previous: 'PENDING', error: null, cached: true });
    const ran: TaskEvent = { ...base, type: 'status', status: TaskStatus.COMPLETED, previous: TaskStatus.RUNNING };
    expect(sent(ran)).not.toHaveProperty('cached');
  });

  it("a stalled attempt's retry carries the stall's error code", () => {
    const error = new TaskStalledError({ id: 'fetch-1', name: 'fetch' }, 500, 1);
    expect(sent({ ...base, type: 'retry', attempt: 2, delay: 100, error })).toMatchObject({
      type: 'retry',
      attempt: 2,
      error: { name: 'TaskStalledError', code: 'ERR_TASK_STALLED' },
    });
  });
});

const info = (over: Partial<TaskInfoLike> = {}): TaskInfoLike => ({
  id: 'fetch-1',
  name: 'fetch',
  status: TaskStatus.RUNNING,
  priority: TaskPriority.NORMAL,
  progress: 0,
  message: undefined,
  attempts: 1,
  dependencies: [],
  createdAt: base.timestamp,
  startedAt: base.timestamp,
  finishedAt: undefined,
  error: undefined,
  ...over,
});

describe('a task as /api/state lists it', () => {
  it('gives its last heartbeat, its missed deadline, whether it came from the cache and its free re-runs', () => {
    const json = taskToJson(
      info({ cached: false, lastHeartbeatAt: base.timestamp + 40, deadlineMissedAt: base.timestamp + 500, interruptions: 1, crashes: 2 }),
    );
    expect(json).toMatchObject({
      cached: false,
      lastHeartbeatAt: base.timestamp + 40,
      deadlineMissedAt: base.timestamp + 500,
      interruptions: 1,
      crashes: 2,
    });
    expect(taskToJson(info({ status: TaskStatus.COMPLETED, cached: true, attempts: 0 }))).toMatchObject({ cached: true, attempts: 0 });
  });

  it('gives none of them for an engine that does not say', () => {
    expect(taskToJson(info())).toMatchObject({
      cached: false,
      lastHeartbeatAt: null,
      deadlineMissedAt: null,
      interruptions: 0,
      crashes: 0,
    });
  });
});

describe('the attempt history', () => {
  const status = (status: TaskStatus, timestamp: number, error?: unknown): TaskEvent => ({
    ...base,
    type: 'status',
    status,
    previous: TaskStatus.PENDING,
    timestamp,
    error,
  });

  it('says an attempt stalled, and for how long it sent no heartbeat, from its retry event', () => {
    const histories = new TaskHistories();
    histories.record(status(TaskStatus.RUNNING, 1000));
    histories.record({ ...base, type: 'retry', attempt: 2, delay: 10, timestamp: 1500, error: new TaskStalledError('fetch-1', 500, 1) });
    histories.record(status(TaskStatus.RUNNING, 1510));
    histories.record(status(TaskStatus.COMPLETED, 1600));
    const { attempts } = histories.get('fetch-1');
    expect(attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'failed', stalled: { heartbeatTimeout: 500 }, endedAt: 1500 }),
      expect.objectContaining({ attempt: 2, outcome: 'completed', stalled: null }),
    ]);
    expect(attempts[0]?.error).toMatchObject({ code: 'ERR_TASK_STALLED' });
  });

  it('says the last attempt stalled when the task failed with ERR_TASK_STALLED, and not for other failures', () => {
    const histories = new TaskHistories();
    histories.record(status(TaskStatus.RUNNING, 1000));
    histories.record(status(TaskStatus.FAILED, 1500, new TaskStalledError('fetch-1', 250, 1)));
    expect(histories.get('fetch-1').attempts[0]).toMatchObject({ outcome: 'failed', stalled: { heartbeatTimeout: 250 } });

    // An error that names the code but not the timeout (one decoded from elsewhere) is still a stall.
    histories.record({ ...base, taskId: 'b', type: 'status', status: TaskStatus.RUNNING, previous: TaskStatus.PENDING });
    histories.record({
      ...base,
      taskId: 'b',
      type: 'retry',
      attempt: 2,
      delay: 0,
      error: Object.assign(new Error('stalled'), { code: 'ERR_TASK_STALLED' }),
    });
    expect(histories.get('b').attempts[0]?.stalled).toEqual({ heartbeatTimeout: null });

    histories.record({ ...base, taskId: 'c', type: 'status', status: TaskStatus.RUNNING, previous: TaskStatus.PENDING });
    histories.record({ ...base, taskId: 'c', type: 'retry', attempt: 2, delay: 0, error: new RateLimitedError({ retryAfter: 10 }) });
    expect(histories.get('c').attempts[0]).toMatchObject({ outcome: 'failed', stalled: null });
  });

  it('keeps why a task with `cache` ran uncached', () => {
    const histories = new TaskHistories();
    expect(histories.get('fetch-1').cacheSkipped).toBeNull();
    histories.record({ ...base, type: 'cache-skipped', error: new TypeError('argument 0 is a function') });
    expect(histories.get('fetch-1').cacheSkipped).toEqual({ name: 'TypeError', message: 'argument 0 is a function' });
  });
});
