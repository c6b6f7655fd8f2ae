/**
 * A bare XState v5 actor lifecycle per task: createActor of a tiny machine with
 * a context, start, three events to a final state. No scheduler, no task
 * function, no awaiting: the floor of any design that gives each task its own
 * actor (taskchart's task machine has more states, guards and actions).
 */
import { assign, createActor, setup } from 'xstate';

export const tinyMachine = setup({
  types: {
    context: /** @type {{ id: number, priority: number, attempts: number }} */ ({}),
    input: /** @type {{ id: number, priority: number }} */ ({}),
  },
}).createMachine({
  id: 'tiny',
  initial: 'pending',
  context: ({ input }) => ({ id: input.id, priority: input.priority, attempts: 0 }),
  states: {
    pending: { on: { START: 'queued' } },
    queued: { on: { DISPATCH: { target: 'running', actions: assign({ attempts: ({ context }) => context.attempts + 1 }) } } },
    running: { on: { DONE: 'completed' } },
    completed: { type: 'final' },
  },
});

const START = { type: 'START' };
const DISPATCH = { type: 'DISPATCH' };
const DONE = { type: 'DONE' };

/** Runs `count` actor lifecycles; returns how many reached the final state (so nothing is optimised away). */
export function runBareXState(count) {
  let done = 0;
  for (let i = 0; i < count; i++) {
    const actor = createActor(tinyMachine, { input: { id: i, priority: i % 4 } }).start();
    actor.send(START);
    actor.send(DISPATCH);
    actor.send(DONE);
    if (actor.getSnapshot().status === 'done') done++;
  }
  return done;
}
