import { describe, expect, it } from 'vitest';
import { ErrorCode, TaskEngine } from '../../src/index.js';

/** Calls `verb` and returns what it did: a returned promise (settled later) or a synchronous throw. */
function call(verb: () => Promise<unknown>): { threw: unknown } | { promise: Promise<unknown> } {
  try {
    return { promise: verb() };
  } catch (threw) {
    return { threw };
  }
}

async function rejectsWith(verb: () => Promise<unknown>, code: string): Promise<void> {
  const outcome = call(verb);
  expect(outcome).not.toHaveProperty('threw');
  await expect((outcome as { promise: Promise<unknown> }).promise).rejects.toMatchObject({ code });
}

describe('promise-returning verbs refuse by rejecting, never by throwing', () => {
  it('waitForTask of an unknown id, or of a non-string, rejects', async () => {
    const engine = new TaskEngine();
    await rejectsWith(() => engine.waitForTask('ghost'), ErrorCode.TASK_NOT_FOUND);
    await rejectsWith(() => engine.waitForTask(42 as never), ErrorCode.INVALID_OPTION);
  });

  it('cleanupTask of an unknown id, or of a task not yet terminal, rejects and forgets nothing', async () => {
    const engine = new TaskEngine();
    await rejectsWith(() => engine.cleanupTask('ghost'), ErrorCode.TASK_NOT_FOUND);
    const id = engine.registerTask({ name: 'external' });
    await rejectsWith(() => engine.cleanupTask(id), ErrorCode.INVALID_TRANSITION);
    expect(engine.getTaskStatus(id)).toBe('PENDING');
  });

  it('shutdown with bad options rejects and leaves the engine accepting work', async () => {
    const engine = new TaskEngine();
    await rejectsWith(() => engine.shutdown({ mode: 'later' as never }), ErrorCode.INVALID_OPTION);
    await rejectsWith(() => engine.shutdown({ mode: 'suspend' }), ErrorCode.INVALID_OPTION); // in memory: nothing to suspend into
    const id = engine.registerTask({ name: 'still accepted', fn: () => 1 });
    engine.startTask(id);
    await expect(engine.waitForTask(id)).resolves.toBe(1);
    await engine.shutdown();
  });

  it('restore with bad options, twice, or after registering rejects', async () => {
    const engine = new TaskEngine();
    await rejectsWith(() => engine.restore({ unrunnable: 'maybe' as never }), ErrorCode.INVALID_OPTION);
    engine.registerTask({ name: 'x' });
    await rejectsWith(() => engine.restore(), ErrorCode.INVALID_TRANSITION);
    await engine.shutdown();
    await rejectsWith(() => engine.restore(), ErrorCode.ENGINE_SHUT_DOWN);
  });

  it('synchronous verbs still throw', () => {
    const engine = new TaskEngine();
    expect(() => engine.startTask('ghost')).toThrow(expect.objectContaining({ code: ErrorCode.TASK_NOT_FOUND }));
    expect(() => engine.getTask('ghost')).toThrow(expect.objectContaining({ code: ErrorCode.TASK_NOT_FOUND }));
  });
});
