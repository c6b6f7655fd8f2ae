import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SimulatedClock } from 'xstate';
import { TaskEngine, type TaskEngineOptions, type TaskEvent } from '../src/index.js';

/** A promise with its settle functions exposed, to decide in a test when a task finishes. */
export function deferred<T = unknown>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (no timers involved). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** An engine on XState's SimulatedClock: time moves only when the test says so. */
export function simulatedEngine(options: TaskEngineOptions = {}): {
  engine: TaskEngine;
  clock: SimulatedClock;
  advance(ms: number): Promise<void>;
} {
  const clock = new SimulatedClock();
  const engine = new TaskEngine({ ...options, clock, now: () => clock.now() });
  return {
    engine,
    clock,
    async advance(ms: number) {
      await flush();
      clock.increment(ms);
      await flush();
    },
  };
}

/** Records every event of the engine. */
export function recordEvents(engine: TaskEngine): TaskEvent[] {
  const events: TaskEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  return events;
}

/** The sequence of statuses a task went through, from its status events. */
export function statusPath(events: readonly TaskEvent[], taskId: string): string[] {
  const path: string[] = [];
  for (const event of events) {
    if (event.taskId !== taskId || event.type !== 'status') continue;
    if (path.length === 0) path.push(event.previous);
    path.push(event.status);
  }
  return path;
}

/** The V8 garbage collector, exposed for this process (as `node --expose-gc` would), for tests that measure memory. */
export function exposeGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as () => void; // a new context sees the flag
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
