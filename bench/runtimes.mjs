/**
 * The two task runtimes every taskchart scenario measures side by side (src/runtime/): 'compiled' (the task
 * machine compiled to a transition table) and 'xstate' (one root XState actor per task). Every engine a scenario
 * creates names its runtime explicitly, so TASKCHART_RUNTIME in the environment changes nothing here.
 */
import { TaskEngine } from '../dist/index.js';

/** In the order the rows appear: the runtime the targets are set for first. */
export const RUNTIMES = ['compiled', 'xstate'];

/** The row name of taskchart under `runtime`. */
export const peerName = (runtime) => `taskchart (${runtime})`;

/** `new TaskEngine({ ...options, runtime })`, checked to run the runtime asked for (an `inspect` option would force 'xstate'). */
export function engineOf(runtime, options = {}) {
  const engine = new TaskEngine({ ...options, runtime });
  if (engine.runtime !== runtime) throw new Error(`asked for the ${runtime} runtime, the engine runs ${engine.runtime}`);
  return engine;
}
