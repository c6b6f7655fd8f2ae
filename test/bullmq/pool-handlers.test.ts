/** poolHandlers (taskchart/bullmq): handlers of a `taskchart worker --pool`, run in worker threads. No Redis needed. */
import { describe, expect, it } from 'vitest';
import { poolHandlers } from '../../src/bullmq/index.js';
import type { TaskContext } from '../../src/index.js';
import { LIFECYCLE_HANDLERS } from './processes.js';

function context(id: string, signal = new AbortController().signal): TaskContext {
  return {
    id,
    name: id,
    attempt: 1,
    dependencies: [],
    signal,
    progress: () => {},
    heartbeat: () => {},
    lastHeartbeat: undefined,
    registerResource: () => {},
  };
}

describe('poolHandlers', () => {
  it('runs a named export of the module in a worker thread', async () => {
    const pool = poolHandlers(LIFECYCLE_HANDLERS, ['spin'], 1);
    try {
      const result = (await pool.handlers.get('spin')?.(context('cpu'), 10)) as { threadId: number };
      expect(result.threadId).toBeGreaterThan(0); // 0 is the main thread
    } finally {
      await pool.close();
    }
  });

  it('stops the thread when the signal aborts', async () => {
    const pool = poolHandlers(LIFECYCLE_HANDLERS, ['spin'], 1);
    try {
      const controller = new AbortController();
      const running = pool.handlers.get('spin')?.(context('stuck', controller.signal), 60_000);
      setTimeout(() => controller.abort(new Error('stop')), 100);
      await expect(running).rejects.toThrow('stop');
    } finally {
      await pool.close();
    }
  });

  it.each([
    ['', 1, 'module'],
    [LIFECYCLE_HANDLERS, 0, 'threads'],
  ])('refuses module %j with %j threads, naming `%s`', (module, threads, field) => {
    expect(() => poolHandlers(module, ['spin'], threads)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', field }));
  });
});
