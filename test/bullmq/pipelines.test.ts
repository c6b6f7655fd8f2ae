/**
 * Pipelines with remote tasks (a real `taskchart worker` process, real Redis): trigger rules decide in the engine as
 * for any task, and `ctx.dependencies` reaches the worker as JSON (results as they are, errors with their class and
 * code); a dependency result JSON cannot carry fails the remote task with ERR_RESULT_NOT_CLONEABLE, sending nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BullMQExecutor } from '../../src/bullmq/index.js';
import { TaskEngine } from '../../src/index.js';
import { REDIS_URL, probeRedis, startWorld, type RemoteWorld } from './harness.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);
if (unreachable !== undefined) console.log(`test/bullmq skipped: no Redis at ${REDIS_URL} (${unreachable})`);

describe.skipIf(unreachable !== undefined)('remote tasks in pipelines', () => {
  let world: RemoteWorld | undefined;
  let engine: TaskEngine | undefined;

  afterEach(async () => {
    await engine?.shutdown();
    await world?.close();
    engine = undefined;
    world = undefined;
  });

  async function setup(): Promise<TaskEngine> {
    world = await startWorld(1);
    engine = new TaskEngine({ executors: { remote: new BullMQExecutor({ connection: REDIS_URL, queue: world.queueName }) } });
    return engine;
  }

  it('gives a remote all_done fan-in its dependencies as JSON, after one of them failed remotely', async () => {
    const engine = await setup();
    engine.registerTasks([
      { id: 'page', name: 'fetch page', fn: () => ({ title: 'Seville', words: [1, 2] }) },
      { id: 'broken', name: 'fetch broken', executor: 'remote', handler: 'fail', args: ['E_404'] },
      {
        id: 'report',
        name: 'report',
        executor: 'remote',
        handler: 'describeDependencies',
        dependencies: ['page', 'broken'],
        trigger: 'all_done',
      },
    ]);
    engine.startTasks(['page', 'broken', 'report']);
    await expect(engine.waitForTask('report')).resolves.toEqual([
      { id: 'page', name: 'fetch page', status: 'COMPLETED', result: { title: 'Seville', words: [1, 2] }, error: null },
      {
        id: 'broken',
        name: 'fetch broken',
        status: 'FAILED',
        result: null,
        error: { isError: true, name: 'ValidationError', code: 'E_404', message: 'refused broken' },
      },
    ]);
  });

  it('fails a remote task whose dependency result JSON cannot carry, naming the dependency, without sending it', async () => {
    const engine = await setup();
    engine.registerTasks([
      { id: 'when', name: 'when', fn: () => ({ at: new Date(0) }) },
      { id: 'use', name: 'use', executor: 'remote', handler: 'describeDependencies', dependencies: ['when'], maxRetries: 2 },
    ]);
    engine.startTasks(['when', 'use']);
    await expect(engine.waitForTask('use')).rejects.toMatchObject({
      code: 'ERR_RESULT_NOT_CLONEABLE',
      taskId: 'when',
      message: expect.stringContaining('the result.at is a Date'),
    });
    expect(engine.getTask('use').attempts).toBe(1);
    expect(world?.lines.texts().some((line) => line.includes('event start use'))).toBe(false);
  });

  it('pauses the key of a remote task that throws RateLimitedError in its worker, and requeues it without using a retry', async () => {
    world = await startWorld(1);
    engine = new TaskEngine({
      limits: { api: { concurrency: 2 } },
      executors: { remote: new BullMQExecutor({ connection: REDIS_URL, queue: world.queueName }) },
    });
    const limited: unknown[] = [];
    engine.events.subscribe((event) => event.type === 'rate-limited' && limited.push(event));
    engine.registerTask({
      id: 'llm',
      name: 'llm',
      executor: 'remote',
      handler: 'rateLimitedOnce',
      args: [100],
      limits: { api: 'team-a' },
      maxRetries: 0,
    });
    engine.startTask('llm');
    await expect(engine.waitForTask('llm')).resolves.toBe(2);
    expect(limited).toEqual([expect.objectContaining({ taskId: 'llm', limiter: 'api', key: 'team-a' })]);
  });
});
