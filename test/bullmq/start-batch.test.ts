/**
 * startTasks on the remote executor: a batch is handed to the queue in priority order. Needs the Redis at
 * 127.0.0.1:6379 and dist/ (`npm run build`); skipped without Redis, except under CI, where it fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BullMQExecutor } from '../../src/bullmq/index.js';
import { TaskEngine, TaskPriority } from '../../src/index.js';
import { recordEvents } from '../helpers.js';
import { REDIS_URL, probeRedis, startWorld, type RemoteWorld } from './harness.js';

const unreachable = await probeRedis();
if (unreachable !== undefined && process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required under CI: ${unreachable}`);

describe.skipIf(unreachable !== undefined)('BullMQExecutor: startTasks', () => {
  let world: RemoteWorld | undefined;
  let engine: TaskEngine | undefined;
  afterEach(async () => {
    await engine?.shutdown();
    await world?.close();
  });

  it('queues a started batch for the workers in priority order', async () => {
    world = await startWorld(1);
    engine = new TaskEngine({
      concurrency: 1,
      executors: { remote: new BullMQExecutor({ connection: REDIS_URL, queue: world.queueName }) },
    });
    const events = recordEvents(engine);
    const ids = engine.registerTasks(
      [
        { id: 'low', name: 'low', executor: 'remote', handler: 'echo', args: ['low'], priority: TaskPriority.LOW },
        { id: 'high', name: 'high', executor: 'remote', handler: 'echo', args: ['high'], priority: TaskPriority.HIGH },
        { id: 'normal', name: 'normal', executor: 'remote', handler: 'echo', args: ['normal'] },
      ],
      { start: true },
    );
    await engine.onIdle();
    expect(events.filter((e) => e.type === 'status' && e.status === 'RUNNING').map((e) => e.taskId)).toEqual(['high', 'normal', 'low']);
    for (const id of ids) expect(engine.getTaskStatus(id)).toBe('COMPLETED');
  });
});
