import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { taskMachine, topState, type TaskMachineInput } from '../../src/machines/task.machine.js';

const input = (overrides: Partial<TaskMachineInput> = {}): TaskMachineInput => ({
  id: 't',
  maxRetries: 0,
  retryDelay: 100,
  maxRetryDelay: Infinity,
  jitter: 0,
  timeout: undefined,
  ...overrides,
});

function start(overrides: Partial<TaskMachineInput> = {}) {
  const clock = new SimulatedClock();
  const actor = createActor(taskMachine, { input: input(overrides), clock }).start();
  const state = () => topState(actor.getSnapshot().value as string);
  return { actor, clock, state };
}

describe('task machine (pure, on a simulated clock)', () => {
  it('waits for dependencies, then queues when the last one completes', () => {
    const { actor, state } = start({ upstream: { total: 2, succeeded: 0, failed: 0, skipped: 0 } });
    actor.send({ type: 'START' });
    expect(state()).toBe('waiting');
    actor.send({ type: 'DEPENDENCY_COMPLETED' });
    expect(state()).toBe('waiting');
    actor.send({ type: 'DEPENDENCY_COMPLETED' });
    expect(state()).toBe('queued');
  });

  it('counts attempts and ignores the outcome of an earlier attempt', () => {
    const { actor, clock, state } = start({ maxRetries: 1 });
    actor.send({ type: 'START' });
    actor.send({ type: 'DISPATCH' });
    actor.send({ type: 'ATTEMPT_FAILED', attempt: 1, error: new Error('first') });
    expect(state()).toBe('retrying');
    expect(actor.getSnapshot().context.backoff).toBe(100);
    clock.increment(99);
    expect(state()).toBe('retrying');
    clock.increment(1);
    expect(state()).toBe('queued');
    actor.send({ type: 'DISPATCH' });
    actor.send({ type: 'ATTEMPT_SUCCEEDED', attempt: 1, result: 'stale' });
    expect(state()).toBe('running');
    actor.send({ type: 'ATTEMPT_SUCCEEDED', attempt: 2, result: 'fresh' });
    expect(state()).toBe('completed');
    expect(actor.getSnapshot().context.result).toBe('fresh');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('times out a running attempt only when a timeout is set', () => {
    const timed = start({ timeout: 50 });
    timed.actor.send({ type: 'START' });
    timed.actor.send({ type: 'DISPATCH' });
    expect(timed.clock['timeouts'].size).toBe(1);
    timed.clock.increment(50);
    expect(timed.state()).toBe('failed');
    expect((timed.actor.getSnapshot().context.error as { code: string }).code).toBe('ERR_TASK_TIMEOUT');

    const untimed = start();
    untimed.actor.send({ type: 'START' });
    untimed.actor.send({ type: 'DISPATCH' });
    expect(untimed.clock['timeouts'].size).toBe(0);
  });

  it('refuses verbs the current state does not allow', () => {
    const { actor } = start();
    const snapshot = actor.getSnapshot();
    expect(snapshot.can({ type: 'COMPLETE', result: 1 })).toBe(false);
    expect(snapshot.can({ type: 'CANCEL', error: new Error('x') })).toBe(true);
    actor.send({ type: 'CANCEL', error: new Error('x') });
    expect(actor.getSnapshot().can({ type: 'CANCEL', error: new Error('x') })).toBe(false);
  });

  it('does not retry a NonRetryableError', async () => {
    const { NonRetryableError } = await import('../../src/errors.js');
    const { actor, state } = start({ maxRetries: 5 });
    actor.send({ type: 'START' });
    actor.send({ type: 'DISPATCH' });
    actor.send({ type: 'ATTEMPT_FAILED', attempt: 1, error: new NonRetryableError('no') });
    expect(state()).toBe('failed');
  });
});
