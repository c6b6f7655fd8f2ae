/**
 * A run of long and repeated work for the views' tests, on a simulated clock: a cached pair (`sum`, then `sum-again`
 * from the cache), a task that misses its deadline (`approve`, external: it stays RUNNING), and one whose first
 * attempt stalls and whose retry completes (`crawl`, with a deadline of its own when asked).
 */
import type { TaskEngine } from '../../src/index.js';

export async function runLongWork(
  engine: TaskEngine,
  advance: (ms: number) => Promise<void>,
  options: { readonly approveName?: string; readonly crawlDeadline?: number } = {},
): Promise<void> {
  const sum = (_ctx: unknown, x: number, y: number) => x + y;
  engine.registerTasks(
    [
      { id: 'sum', name: 'sum', args: [1, 2], cache: true, fn: sum },
      { id: 'approve', name: options.approveName ?? 'approve', deadline: 100 },
      {
        id: 'crawl',
        name: 'crawl',
        heartbeatTimeout: 50,
        maxRetries: 1,
        retryDelay: 10,
        ...(options.crawlDeadline !== undefined && { deadline: options.crawlDeadline }),
        fn: (ctx) => (ctx.attempt === 1 ? new Promise(() => {}) : 'crawled'),
      },
    ],
    { start: true },
  );
  await engine.waitForTask('sum');
  engine.registerTask({ id: 'sum-again', name: 'sum', args: [1, 2], cache: true, fn: sum });
  engine.startTask('sum-again');
  await engine.waitForTask('sum-again');
  await advance(60); // crawl's first attempt stalls
  await advance(10); // its retry runs and completes (and, with a deadline of 65, crawl misses it first)
  await advance(40); // approve's deadline passes (100)
  await engine.waitForTask('crawl');
}
