/**
 * Found by property-tests/differential.test.ts: a task function that threw an Error whose `name` getter throws
 * made the retry guard (isNonRetryable) throw inside the task's transition, so the task stayed RUNNING forever
 * (under both runtimes) and an uncaught exception surfaced on a later tick. Such an error is an ordinary failure.
 */
import { describe, expect, it } from 'vitest';
import { TaskEngine, TaskStatus } from '../../src/index.js';

class UnreadableNameError extends Error {
  override get name(): string {
    throw new Error('unreadable name');
  }
}

describe.each(['xstate', 'compiled'] as const)('an error whose name cannot be read (%s)', (runtime) => {
  it('fails the attempt, is retried, and fails the task with that error', async () => {
    const engine = new TaskEngine({ runtime });
    let calls = 0;
    const error = new UnreadableNameError('hostile');
    const id = engine.registerTask({
      name: 'hostile',
      maxRetries: 1,
      retryDelay: 0,
      fn: () => {
        calls++;
        throw error;
      },
    });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).rejects.toBe(error);
    expect({ status: engine.getTaskStatus(id), calls, attempts: engine.getTask(id).attempts }).toEqual({
      status: TaskStatus.FAILED,
      calls: 2,
      attempts: 2,
    });
    await engine.shutdown();
  });
});
