/**
 * Trigger rules as a pipeline sees them: a fan-in that runs on whatever its dependencies produced, a task that runs
 * on the first success or failure without waiting for the rest, one that is skipped (CANCELLED, ERR_TRIGGER_RULE) as
 * soon as its rule can no longer be met, dependents that follow their own rules after that, and a shutdown that
 * never starts a task because it cancelled its dependencies.
 */
import { describe, expect, it } from 'vitest';
import { DependencyFailedError, TaskCancelledError, TaskEngine, TaskStatus, TriggerRuleError, type TaskSpec } from '../../src/index.js';
import { TRIGGER_RULES, type TriggerRule } from '../../src/machines/trigger-rules.js';
import { recordEvents, statusPath } from '../helpers.js';

type End = 'completed' | 'failed' | 'cancelled';

/** Ends an external task as `end`. */
function finish(engine: TaskEngine, id: string, end: End): void {
  if (end === 'cancelled') {
    engine.cancelTask(id, 'not needed');
    return;
  }
  engine.startTask(id);
  if (end === 'completed') engine.completeTask(id, `${id} done`);
  else engine.failTask(id, new Error(`${id} broke`));
}

/** Two external dependencies and a dependent under `trigger`, started; returns what the dependent's function saw. */
function fanIn(trigger: TriggerRule) {
  const engine = new TaskEngine();
  let ran = 0;
  engine.registerTasks([
    { id: 'a', name: 'a' },
    { id: 'b', name: 'b' },
    { id: 'join', name: 'join', dependencies: ['a', 'b'], trigger, fn: () => ++ran },
  ]);
  engine.startTask('join');
  return { engine, ran: () => ran };
}

/**
 * Airflow's meaning of each rule for each way two dependencies can end: `runs`, `failed` (ERR_DEPENDENCY_FAILED),
 * `cancelled` (ERR_TASK_CANCELLED: all_success after a cancellation) or `skipped` (CANCELLED, ERR_TRIGGER_RULE).
 */
const EXPECTED: Record<TriggerRule, Record<string, 'runs' | 'failed' | 'cancelled' | 'skipped'>> = {
  all_success: {
    'completed,completed': 'runs',
    'completed,failed': 'failed',
    'failed,failed': 'failed',
    'completed,cancelled': 'cancelled',
    'cancelled,cancelled': 'cancelled',
    'failed,cancelled': 'failed',
  },
  all_done: {
    'completed,completed': 'runs',
    'completed,failed': 'runs',
    'failed,failed': 'runs',
    'completed,cancelled': 'runs',
    'cancelled,cancelled': 'runs',
    'failed,cancelled': 'runs',
  },
  all_failed: {
    'completed,completed': 'skipped',
    'completed,failed': 'skipped',
    'failed,failed': 'runs',
    'completed,cancelled': 'skipped',
    'cancelled,cancelled': 'skipped',
    'failed,cancelled': 'skipped',
  },
  one_success: {
    'completed,completed': 'runs',
    'completed,failed': 'runs',
    'failed,failed': 'skipped',
    'completed,cancelled': 'runs',
    'cancelled,cancelled': 'skipped',
    'failed,cancelled': 'skipped',
  },
  one_failed: {
    'completed,completed': 'skipped',
    'completed,failed': 'runs',
    'failed,failed': 'runs',
    'completed,cancelled': 'skipped',
    'cancelled,cancelled': 'skipped',
    'failed,cancelled': 'runs',
  },
  none_failed: {
    'completed,completed': 'runs',
    'completed,failed': 'failed',
    'failed,failed': 'failed',
    'completed,cancelled': 'runs',
    'cancelled,cancelled': 'runs',
    'failed,cancelled': 'failed',
  },
  none_failed_min_one_success: {
    'completed,completed': 'runs',
    'completed,failed': 'failed',
    'failed,failed': 'failed',
    'completed,cancelled': 'runs',
    'cancelled,cancelled': 'skipped',
    'failed,cancelled': 'failed',
  },
};

describe('trigger rules', () => {
  const cases = TRIGGER_RULES.flatMap((trigger) =>
    Object.entries(EXPECTED[trigger]).flatMap(([ends, expected]) => {
      const [first, second] = ends.split(',') as [End, End];
      // Both orders: the outcome does not depend on which dependency ends first, except under all_success, where
      // the first failure or cancellation ends the task at once (FAILED, or CANCELLED).
      const reversed = trigger === 'all_success' && ends === 'failed,cancelled' ? 'cancelled' : expected;
      return [[trigger, first, second, expected] as const, ...(first === second ? [] : [[trigger, second, first, reversed] as const])];
    }),
  );

  it.each(cases)('%s with dependencies %s then %s: %s', async (trigger, first, second, expected) => {
    const { engine, ran } = fanIn(trigger);
    finish(engine, 'a', first);
    finish(engine, 'b', second);
    const status = engine.getTaskStatus('join');
    if (expected === 'runs') {
      await expect(engine.waitForTask('join')).resolves.toBe(1);
      return;
    }
    await engine.onIdle();
    expect(ran()).toBe(0);
    const error = engine.getTaskError('join');
    if (expected === 'failed') {
      expect(status).toBe(TaskStatus.FAILED);
      expect(error).toBeInstanceOf(DependencyFailedError);
      expect(error).toMatchObject({ code: 'ERR_DEPENDENCY_FAILED', dependencyId: first === 'failed' ? 'a' : 'b' });
    } else {
      expect(status).toBe(TaskStatus.CANCELLED);
      expect(error).toBeInstanceOf(expected === 'skipped' ? TriggerRuleError : TaskCancelledError);
      expect(error).toMatchObject({ code: expected === 'skipped' ? 'ERR_TRIGGER_RULE' : 'ERR_TASK_CANCELLED' });
    }
    expect(engine.getTask('join').attempts).toBe(0);
  });

  it('runs a one_success task on the first success, without waiting for the other dependencies', async () => {
    const { engine, ran } = fanIn('one_success');
    finish(engine, 'a', 'completed');
    await expect(engine.waitForTask('join')).resolves.toBe(1);
    expect(engine.getTaskStatus('b')).toBe(TaskStatus.PENDING);
    expect(ran()).toBe(1);
  });

  it('runs a one_failed task on the first failure, and skips it at once when the rule can no longer be met', async () => {
    const early = fanIn('one_failed');
    finish(early.engine, 'b', 'failed');
    await expect(early.engine.waitForTask('join')).resolves.toBe(1);

    const skipped = fanIn('all_failed');
    finish(skipped.engine, 'a', 'completed');
    // b has not ended: all_failed cannot be met any more, so the task ends now.
    expect(skipped.engine.getTaskStatus('join')).toBe(TaskStatus.CANCELLED);
    const error = skipped.engine.getTaskError('join') as TriggerRuleError;
    expect(error.message).toBe(
      'Task `join` was skipped: its trigger rule all_failed can no longer be met (dependencies: 1 completed, 0 failed, 0 cancelled of 2)',
    );
    expect(error).toMatchObject({ rule: 'all_failed', taskId: 'join' });
  });

  it('keeps the default: all_success fails dependents transitively and cancels them after a cancellation', async () => {
    const engine = new TaskEngine();
    engine.registerTasks([
      { id: 'a', name: 'a' },
      { id: 'b', name: 'b', dependencies: ['a'], fn: () => 'b' },
      { id: 'c', name: 'c', dependencies: ['b'], fn: () => 'c' },
    ]);
    engine.startTasks(['b', 'c']);
    finish(engine, 'a', 'failed');
    expect(engine.getTaskError('c')).toMatchObject({ code: 'ERR_DEPENDENCY_FAILED', dependencyId: 'b' });
  });

  it("lets a skipped task's dependents follow their own rules", async () => {
    const engine = new TaskEngine();
    const ran: string[] = [];
    const spec = (id: string, dependencies: string[], trigger?: TriggerRule): TaskSpec => ({
      id,
      name: id,
      dependencies,
      ...(trigger && { trigger }),
      fn: () => void ran.push(id),
    });
    engine.registerTasks([
      { id: 'fetch', name: 'fetch' },
      spec('parse', ['fetch'], 'one_success'), // skipped: its only dependency failed
      spec('report', ['parse'], 'all_done'), // runs: parse ended (skipped counts as done)
      spec('publish', ['parse']), // all_success: cancelled, as after any cancelled dependency
      spec('alert', ['fetch'], 'one_failed'), // runs on the failure
    ]);
    engine.startTasks(['parse', 'report', 'publish', 'alert']);
    finish(engine, 'fetch', 'failed');
    await engine.onIdle();
    expect(engine.getTaskError('parse')).toBeInstanceOf(TriggerRuleError);
    expect(engine.getTaskStatus('report')).toBe(TaskStatus.COMPLETED);
    expect(engine.getTaskError('publish')).toMatchObject({ code: 'ERR_TASK_CANCELLED' });
    expect(ran.sort()).toEqual(['alert', 'report']);
  });

  it('runs an all_done fan-in after one of its fetches is cancelled by hand', async () => {
    const engine = new TaskEngine();
    const fetches = Array.from({ length: 5 }, (_, i) => engine.registerTask({ name: `fetch-${i}` }));
    const summary = engine.registerTask({ name: 'summary', dependencies: fetches, trigger: 'all_done', fn: () => 'summarised' });
    engine.startTask(summary);
    engine.cancelTask(fetches[2] as string, 'too slow');
    for (const id of fetches) if (engine.getTaskStatus(id) !== TaskStatus.CANCELLED) finish(engine, id, 'completed');
    await expect(engine.waitForTask(summary)).resolves.toBe('summarised');
  });

  it('leaves a not-yet-started all_done task PENDING when a dependency fails, and runs it when started', async () => {
    const engine = new TaskEngine();
    engine.registerTasks([
      { id: 'a', name: 'a' },
      { id: 'late', name: 'late', dependencies: ['a'], trigger: 'all_done', fn: () => 'ran' },
      { id: 'strict', name: 'strict', dependencies: ['a'], fn: () => 'ran' },
    ]);
    finish(engine, 'a', 'failed');
    expect(engine.getTaskStatus('late')).toBe(TaskStatus.PENDING);
    expect(engine.getTaskStatus('strict')).toBe(TaskStatus.FAILED);
    engine.startTask('late');
    await expect(engine.waitForTask('late')).resolves.toBe('ran');
  });

  it('decides at start for a task registered after its dependencies ended', async () => {
    const engine = new TaskEngine();
    engine.registerTasks([
      { id: 'ok', name: 'ok' },
      { id: 'bad', name: 'bad' },
    ]);
    finish(engine, 'ok', 'completed');
    finish(engine, 'bad', 'failed');
    const events = recordEvents(engine);
    const ids = engine.registerTasks([
      { name: 'any', dependencies: ['ok', 'bad'], trigger: 'one_success', fn: () => 'any' },
      { name: 'failures', dependencies: ['ok', 'bad'], trigger: 'all_failed', fn: () => 'failures' },
      { name: 'clean', dependencies: ['ok', 'bad'], trigger: 'none_failed', fn: () => 'clean' },
    ]);
    for (const id of ids) expect(engine.getTaskStatus(id)).toBe(TaskStatus.PENDING);
    engine.startTasks(ids);
    await engine.onIdle();
    const [any, failures, clean] = ids as [string, string, string];
    expect(engine.getTaskResult(any)).toBe('any');
    expect(statusPath(events, failures)).toEqual(['PENDING', 'CANCELLED']);
    expect(engine.getTaskError(failures)).toBeInstanceOf(TriggerRuleError);
    expect(engine.getTaskError(clean)).toMatchObject({ code: 'ERR_DEPENDENCY_FAILED', dependencyId: 'bad' });
  });

  it('never starts a task because a shutdown cancelled its dependencies, whatever its rule', async () => {
    const engine = new TaskEngine({ concurrency: 1 });
    const ran: string[] = [];
    const fetches = ['f1', 'f2'].map((id) => engine.registerTask({ id, name: id }));
    const report = engine.registerTask({ name: 'report', dependencies: fetches, trigger: 'all_done', fn: () => void ran.push('report') });
    const alert = engine.registerTask({ name: 'alert', dependencies: fetches, trigger: 'one_failed', fn: () => void ran.push('alert') });
    engine.startTasks([report, alert, ...fetches]);
    await engine.shutdown({ mode: 'cancel' });
    expect(ran).toEqual([]);
    for (const id of [report, alert]) {
      expect(engine.getTaskStatus(id)).toBe(TaskStatus.CANCELLED);
      expect(engine.getTask(id).attempts).toBe(0);
    }
  });

  it('refuses an unknown rule at registration, naming the field and the rules', () => {
    const engine = new TaskEngine();
    expect(() => engine.registerTask({ name: 'x', trigger: 'any_success' as TriggerRule })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        field: 'trigger',
        message: expect.stringContaining(
          'one of all_success, all_done, all_failed, one_success, one_failed, none_failed, none_failed_min_one_success',
        ),
      }),
    );
  });

  it('shows the rule in getTask().settings', () => {
    const engine = new TaskEngine();
    expect(engine.getTask(engine.registerTask({ name: 'x', trigger: 'all_done' })).settings.trigger).toBe('all_done');
    expect(engine.getTask(engine.registerTask({ name: 'y' })).settings.trigger).toBe('all_success');
  });
});
