import { describe, expect, it } from 'vitest';
import { TaskChartError, TaskEngine } from '../../src/index.js';

function errorOf(fn: () => unknown): TaskChartError {
  try {
    fn();
  } catch (error) {
    return error as TaskChartError;
  }
  throw new Error('expected a throw');
}

describe('validation at the boundary', () => {
  it.each([
    [{ concurrency: 0 }, /Expected `concurrency` to be an integer >= 1, got `0` \(number\)/],
    [{ concurrency: 1.5 }, /`concurrency`.*`1.5`/],
    [{ resources: { db: -1 } }, /`resources.db`.*`-1`/],
    [{ retention: { maxFinished: 'lots' } }, /`retention.maxFinished`.*`lots` \(string\)/],
    [{ pool: { maxWorkers: 0 } }, /`pool.maxWorkers`/],
    [{ inspect: [] }, /`inspect` to be an XState inspection observer/],
    [{ inspect: new Map() }, /`inspect` to be an XState inspection observer/],
    [{ pool: { minWorkers: -1 } }, /`pool.minWorkers` to be an integer >= 0, got `-1`/],
    [{ pool: { maxWorkers: 2, minWorkers: 3 } }, /`pool.minWorkers` to be an integer <= pool.maxWorkers \(2\), got `3`/],
    [{ concurency: 3 }, /Unknown field `concurency`/],
    [
      { executors: { async: { execute: () => Promise.resolve() } } },
      /`executors.async` to have another name: `async` is a built-in executor/,
    ],
  ])('refuses engine option %j with a message naming the field', (options, message) => {
    const error = errorOf(() => new TaskEngine(options as never));
    expect(error).toBeInstanceOf(TaskChartError);
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(message);
  });

  it.each([
    [{}, /`name`.*non-empty string.*`undefined`/],
    [{ name: '' }, /`name`/],
    [{ name: 'x', timeout: -5 }, /Expected `timeout` to be a finite number > 0 and <= 2147483647, got `-5` \(number\)/],
    [{ name: 'x', timeout: NaN }, /`timeout`.*`NaN`/],
    [{ name: 'x', maxRetries: -1 }, /`maxRetries`.*integer >= 0/],
    [{ name: 'x', retryDelay: Infinity }, /`retryDelay`/],
    [{ name: 'x', priority: 7 }, /`priority`.*`7`/],
    [{ name: 'x', args: 'no' }, /`args`.*array/],
    [{ name: 'x', dependencies: [1] }, /`dependencies\[0\]`/],
    [{ name: 'x', fn: () => 1, handler: 'h' }, /at most one of `fn`, `handler` and `module`/],
    [{ name: 'x', executor: 'pool', handler: 'h' }, /`module` or `fn` with `executor: 'pool'`/],
    [{ name: 'x', executor: 'nowhere' }, /`executor`/],
    [{ name: 'x', maxRetry: 3 }, /Unknown field `maxRetry`/],
    [{ name: 'x', jitter: 2 }, /`jitter`.*<= 1/],
    [JSON.parse('{"name":"x","__proto__":{"polluted":true}}'), /Unknown field `__proto__`/],
  ])('refuses spec %j with a message naming the field', (spec, message) => {
    const engine = new TaskEngine();
    const error = errorOf(() => engine.registerTask(spec as never));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toMatch(message);
    expect(engine.getStats().total).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('checks verb arguments', () => {
    const engine = new TaskEngine();
    const id = engine.registerTask({ name: 'x' });
    engine.startTask(id);
    expect(() => engine.updateTaskProgress(id, 1.5)).toThrow(/`fraction`.*`1.5`/);
    expect(() => engine.updateTaskProgress(id, 0.5, 42 as never)).toThrow(/`message`/);
    expect(() => engine.registerResource(id, 'close' as never)).toThrow(/`dispose`.*function/);
    expect(() => engine.getTask(42 as never)).toThrow(/`id`/);
    expect(engine.getTaskStatus(id)).toBe('RUNNING');
  });

  it.each([
    [
      'an invalid spec in the middle',
      [
        { id: 'a', name: 'a' },
        { id: 'b', name: 'b', timeout: -1 },
        { id: 'c', name: 'c' },
      ],
      'ERR_INVALID_OPTION',
    ],
    [
      'two specs sharing an id',
      [
        { id: 'a', name: 'a' },
        { id: 'b', name: 'b' },
        { id: 'a', name: 'a again' },
      ],
      'ERR_DUPLICATE_TASK',
    ],
  ])('registers nothing of a batch with %s', (_case, specs, code) => {
    const engine = new TaskEngine();
    const registered: string[] = [];
    engine.events.subscribe((event) => registered.push(event.taskId));
    expect(() => engine.registerTasks(specs)).toThrow(expect.objectContaining({ code }));
    expect(engine.getStats().total).toBe(0);
    for (const id of ['a', 'b', 'c']) expect(() => engine.getTask(id)).toThrow(expect.objectContaining({ code: 'ERR_TASK_NOT_FOUND' }));
    expect(registered).toEqual([]);
    expect(
      engine.registerTasks([
        { id: 'a', name: 'a' },
        { id: 'b', name: 'b', dependencies: ['a'] },
      ]),
    ).toEqual(['a', 'b']);
  });
});
