import { describe, expect, it } from 'vitest';
import { DependencyFailedError, InvalidTransitionError, TaskEngine, TaskTimeoutError } from '../../src/index.js';
import { simulatedEngine } from '../helpers.js';

const UUID_PREFIX = /`parse` \([0-9a-f]{8}…\)/;

describe('error messages name tasks as a person knows them', () => {
  it('names a task registered without an id by its name, with a short id', async () => {
    const engine = new TaskEngine();
    const fetch = engine.registerTask({ name: 'fetch', fn: () => Promise.reject(new Error('404')) });
    const parse = engine.registerTask({ name: 'parse', dependencies: [fetch], fn: () => 1 });
    engine.startTasks([fetch, parse]);
    await engine.onIdle();
    const error = engine.getTaskError(parse) as DependencyFailedError;
    expect(error.message).toMatch(UUID_PREFIX);
    expect(error.message).toMatch(/its dependency `fetch` \([0-9a-f]{8}…\) failed: Error: 404$/);
    expect(error.taskId).toBe(parse); // the whole id stays on the error for code
    expect(error.dependencyId).toBe(fetch);
    expect(() => engine.startTask(parse)).toThrow(UUID_PREFIX);
  });

  it("names a task by its name alone when the id is the name, and shows an id of the caller's choosing whole", () => {
    const engine = new TaskEngine();
    engine.registerTask({ id: 'load', name: 'load' });
    engine.registerTask({ id: 'load-2', name: 'load' });
    engine.startTasks(['load', 'load-2']);
    const same = (() => {
      try {
        engine.startTask('load');
      } catch (error) {
        return error as InvalidTransitionError;
      }
    })();
    expect(same?.message).toMatch(/^Cannot startTask task `load`: it is RUNNING/);
    expect(() => engine.startTask('load-2')).toThrow(/^Cannot startTask task `load` \(load-2\): it is RUNNING/);
  });

  it('names the direct dependency and the root cause once, however deep the chain; the cause chain stays for code', async () => {
    const { engine, advance } = simulatedEngine();
    engine.registerTasks(
      [
        { id: 'fetch:seville', name: 'fetch:seville', timeout: 15, fn: () => new Promise(() => {}) },
        { id: 'extract:seville', name: 'extract:seville', dependencies: ['fetch:seville'], fn: () => 1 },
        { id: 'summarise', name: 'summarise', dependencies: ['extract:seville'], fn: () => 1 },
        { id: 'report', name: 'report', dependencies: ['summarise'], fn: () => 1 },
      ],
      { start: true },
    );
    await advance(15);
    const report = engine.getTaskError('report') as DependencyFailedError;
    expect(report.message).toBe(
      'Task `report` did not run: its dependency `summarise` failed; root cause: `fetch:seville` ERR_TASK_TIMEOUT: Task `fetch:seville` timed out after 15 ms (attempt 1)',
    );
    expect(report.message).not.toMatch(/\n/);
    expect(report).toMatchObject({ rootTaskId: 'fetch:seville', rootTaskName: 'fetch:seville' });
    const summarise = report.cause as DependencyFailedError;
    expect(summarise.dependencyId).toBe('extract:seville');
    expect((summarise.cause as DependencyFailedError).cause).toBeInstanceOf(TaskTimeoutError);
    expect(engine.getTaskError('extract:seville')).toMatchObject({
      message:
        'Task `extract:seville` did not run: its dependency `fetch:seville` failed: ERR_TASK_TIMEOUT: Task `fetch:seville` timed out after 15 ms (attempt 1)',
    });
  });
});
