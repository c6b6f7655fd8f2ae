/**
 * The supervisor's own lifecycle: accepting -> draining -> stopped. While
 * accepting it takes new tasks and starts; while draining it refuses them and
 * lets started work finish (or cancels it); stopped is final.
 */
import { assign, setup } from 'xstate';

export type SupervisorEvent = { type: 'SHUTDOWN'; mode: 'cancel' | 'drain' | 'suspend' } | { type: 'STOPPED' };

export const supervisorMachine = setup({
  types: {} as { events: SupervisorEvent; context: { mode: 'cancel' | 'drain' | 'suspend' | undefined } },
}).createMachine({
  id: 'supervisor',
  initial: 'accepting',
  context: { mode: undefined },
  states: {
    accepting: {
      on: {
        SHUTDOWN: {
          target: 'draining',
          actions: assign({ mode: ({ event }) => (event.type === 'SHUTDOWN' ? event.mode : undefined) }),
        },
      },
    },
    draining: {
      on: { STOPPED: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});
