/**
 * Pool engines for the tests of this folder, each shut down (its worker threads terminated) after its test.
 */
import { afterEach } from 'vitest';
import { TaskEngine } from '../../src/index.js';
import { simulatedEngine } from '../helpers.js';

const engines: TaskEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown()));
});

export function poolEngine(options: ConstructorParameters<typeof TaskEngine>[0] = {}): TaskEngine {
  const engine = new TaskEngine(options);
  engines.push(engine);
  return engine;
}

/** A pool engine on a simulated clock: timeouts, stalls and backoffs happen when the test advances it, whatever the threads do. */
export function simulatedPoolEngine(options: Parameters<typeof simulatedEngine>[0] = {}): ReturnType<typeof simulatedEngine> {
  const sim = simulatedEngine(options);
  engines.push(sim.engine);
  return sim;
}
