/**
 * The default executor: calls the task function in this thread with its
 * context. Cancellation is cooperative: the function should watch
 * `ctx.signal`; one that ignores it is abandoned and its late result ignored.
 * The function's own error (or rejection) is the attempt's error, unchanged.
 */
import { ExecutorFailedError, UnknownHandlerError } from '../errors.js';
import { attemptLabel, type AttemptRequest, type Executor } from './executor.js';

export class AsyncExecutor implements Executor {
  execute(request: AttemptRequest): Promise<unknown> {
    const fn = request.fn;
    if (fn === undefined) return Promise.reject(nothingToRun(request));
    try {
      return Promise.resolve(fn(request.context, ...request.args));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/** A handler task whose handler this engine lacks (it is checked at registration, so only a forgotten one gets here). */
function nothingToRun(request: AttemptRequest): Error {
  const task = { id: request.taskId, name: request.name };
  if (request.handler !== undefined) return new UnknownHandlerError(task, request.handler, 'this engine (engine.defineTask())');
  return new ExecutorFailedError(`${attemptLabel(request)} has nothing to run in this thread (no \`fn\`, no \`handler\`)`);
}
