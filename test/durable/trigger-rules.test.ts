/**
 * Trigger rules on a durable engine: the rule is stored with the task, and a restored task decides again from its
 * dependencies as the store kept them (a WAITING fan-in whose dependency failed before the process stopped still
 * runs after the restore; a never-started one decides when it is started), under either runtime.
 */
import { describe, expect, it } from 'vitest';
import { RateLimitedError, TaskStatus, TriggerRuleError, type TaskContext } from '../../src/index.js';
import { flush } from '../helpers.js';
import { durableEngine, tempDbPath } from './helpers.js';

describe('trigger rules on a durable engine', () => {
  it('restores the rule: a WAITING all_done fan-in runs after a restore, on dependencies that failed before it', async () => {
    const path = tempDbPath();
    const first = durableEngine(path, { concurrency: 1 });
    first.engine.defineTask('fetch', (_ctx: TaskContext, ok: boolean) => (ok ? 'page' : Promise.reject(new Error('404'))));
    first.engine.defineTask('hang', () => new Promise(() => {}));
    first.engine.defineTask('report', () => 'report');
    first.engine.registerTasks([
      { id: 'bad', name: 'bad', handler: 'fetch', args: [false] },
      { id: 'slow', name: 'slow', handler: 'hang' },
      { id: 'report', name: 'report', handler: 'report', dependencies: ['bad', 'slow'], trigger: 'all_done' },
      { id: 'alert', name: 'alert', handler: 'report', dependencies: ['bad', 'slow'], trigger: 'all_failed' },
      { id: 'later', name: 'later', handler: 'report', dependencies: ['bad'], trigger: 'one_success' },
    ]);
    first.engine.startTasks(['bad', 'report', 'alert']);
    await first.engine.onIdle();
    expect(first.engine.getTaskStatus('bad')).toBe(TaskStatus.FAILED);
    first.engine.startTask('slow');
    await flush();
    expect(first.engine.getTaskStatus('report')).toBe(TaskStatus.WAITING);
    await first.engine.shutdown({ mode: 'suspend' });

    const second = durableEngine(path, { concurrency: 1 });
    second.engine.defineTask('fetch', () => 'unused');
    second.engine.defineTask('hang', () => Promise.reject(new Error('gave up')));
    second.engine.defineTask('report', () => 'report');
    await second.engine.restore();
    expect(second.engine.getTask('report').settings.trigger).toBe('all_done');
    // Never started, but its rule could no longer be met once `bad` failed: skipped then, and stored so.
    expect(second.engine.getTaskError('later')).toBeInstanceOf(TriggerRuleError);
    await second.engine.onIdle();
    expect(second.engine.getTaskStatus('slow')).toBe(TaskStatus.FAILED);
    expect(second.engine.getTaskResult('report')).toBe('report');
    expect(second.engine.getTaskStatus('alert')).toBe(TaskStatus.COMPLETED); // both failed
    await second.engine.shutdown();
  });

  it('commits a skip with the dependency that caused it, and a restore sees it', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('ok', () => 'ok');
    first.engine.registerTasks([
      { id: 'a', name: 'a', handler: 'ok' },
      { id: 'b', name: 'b', handler: 'ok', dependencies: ['a'], trigger: 'all_failed' },
    ]);
    first.engine.startTasks(['a', 'b']);
    await first.engine.onIdle();
    await first.engine.shutdown({ mode: 'suspend' });
    const second = durableEngine(path);
    second.engine.defineTask('ok', () => 'ok');
    await second.engine.restore();
    expect(second.engine.getTaskStatus('b')).toBe(TaskStatus.CANCELLED);
    expect(second.engine.getTaskError('b')).toMatchObject({ code: 'ERR_TRIGGER_RULE', rule: 'all_failed' });
    await second.engine.shutdown();
  });
});

describe('dependencies forgotten before a restore', () => {
  it('keeps how a cleaned-up dependency ended with its live dependents: their rule and ctx.dependencies after a restore', async () => {
    const path = tempDbPath();
    const first = durableEngine(path);
    first.engine.defineTask('fail', () => Promise.reject(new Error('no data')));
    first.engine.defineTask('hang', () => new Promise(() => {}));
    first.engine.defineTask('join', (ctx: TaskContext) =>
      ctx.dependencies.map((d) => `${d.id} ${d.status} ${(d.error as Error | undefined)?.message}`),
    );
    first.engine.registerTasks([
      { id: 'a', name: 'a', handler: 'fail' },
      { id: 'b', name: 'b', handler: 'hang' },
      { id: 'join', name: 'join', handler: 'join', dependencies: ['a', 'b'], trigger: 'all_failed' },
    ]);
    first.engine.startTasks(['a', 'b', 'join']);
    await flush();
    expect(first.engine.getTaskStatus('a')).toBe(TaskStatus.FAILED);
    await first.engine.cleanupTask('a'); // its row is deleted; join keeps what it ended as
    await first.engine.shutdown({ mode: 'suspend' });

    const second = durableEngine(path);
    second.engine.defineTask('fail', () => Promise.reject(new Error('no data')));
    second.engine.defineTask('hang', () => Promise.reject(new Error('gave up')));
    second.engine.defineTask('join', (ctx: TaskContext) =>
      ctx.dependencies.map((d) => `${d.id} ${d.status} ${(d.error as Error | undefined)?.message}`),
    );
    await second.engine.restore();
    expect(() => second.engine.getTask('a')).toThrow(expect.objectContaining({ code: 'ERR_TASK_NOT_FOUND' }));
    // Counted as the failure it was (not as a success, which would skip all_failed), with its error.
    await expect(second.engine.waitForTask('join')).resolves.toEqual(['a FAILED no data', 'b FAILED gave up']);
    await second.engine.shutdown();
  });
});

describe('limits on a durable engine', () => {
  it('keeps a rate-limited attempt free of maxRetries across a restore', async () => {
    const path = tempDbPath();
    const handler = (ctx: TaskContext) => {
      if (ctx.attempt === 1) throw new RateLimitedError({ retryAfter: 60_000 });
      if (ctx.attempt === 2) throw new Error('flaky');
      return `attempt ${ctx.attempt}`;
    };
    const first = durableEngine(path, { limits: { llm: { concurrency: 1 } } });
    first.engine.defineTask('call', handler);
    first.engine.registerTask({ id: 'call', name: 'call', handler: 'call', limits: { llm: 'team-a' }, maxRetries: 1, retryDelay: 1 });
    first.engine.startTask('call');
    await flush();
    expect(first.engine.getTask('call')).toMatchObject({ state: 'retrying', attempts: 1 });
    await first.engine.shutdown({ mode: 'suspend' });

    const second = durableEngine(path, { limits: { llm: { concurrency: 1 } } });
    second.engine.defineTask('call', handler);
    await second.engine.restore();
    // The backoff left from the first process is waited out; then attempt 2 fails and, one retry left, attempt 3 runs.
    second.advance(60_000);
    await flush();
    expect(second.engine.getTask('call')).toMatchObject({ state: 'retrying', attempts: 2 });
    second.advance(1);
    await expect(second.engine.waitForTask('call')).resolves.toBe('attempt 3');
    await second.engine.shutdown();
  });
});
