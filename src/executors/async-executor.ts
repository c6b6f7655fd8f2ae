/**
 * The default executor: calls the task function in this thread with its
 * context. Cancellation is cooperative: the function should watch
 * `ctx.signal`; one that ignores it is abandoned and its late result ignored.
 */
import type { AttemptRequest, Executor } from './executor.js';

export class AsyncExecutor implements Executor {
  execute(request: AttemptRequest): Promise<unknown> {
    const fn = request.fn;
    if (fn === undefined) return Promise.reject(new Error(`Task \`${request.taskId}\` has no function to run`));
    try {
      return Promise.resolve(fn(request.context, ...request.args));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
