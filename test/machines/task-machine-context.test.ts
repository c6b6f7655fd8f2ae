import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { taskMachine } from '../../src/machines/task.machine.js';

describe("the task machine's context", () => {
  it('has fewer than 20 fields, so that the copies XState makes of it stay fast objects (a dictionary costs about 750 B per task)', () => {
    // XState copies the context with Object.assign({}, context, update); V8 turns such a copy of 20 or more
    // properties into a dictionary. Every field added to the context costs every task while it is live.
    const actor = createActor(taskMachine, {
      input: { id: 't', maxRetries: 0, retryDelay: 0, maxRetryDelay: 0, jitter: 0, timeout: undefined },
    });
    actor.start();
    const fields = Object.keys(actor.getSnapshot().context);
    actor.stop();
    expect(fields.length, fields.join(', ')).toBeLessThan(20);
  });
});
