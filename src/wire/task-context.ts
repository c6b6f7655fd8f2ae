/**
 * The rules of a task's context that every place an attempt runs applies the same way: the engine's thread,
 * a pool worker thread (src/pool/worker.ts) and a remote `taskchart worker` (src/bullmq/worker-context.ts).
 * One check of `progress(fraction, message)`, one of `registerResource(dispose)`, one disposer runner.
 */
import { InvalidOptionError } from '../errors.js';
import { invalid } from '../validate.js';
import { findUncloneable } from './cloneable.js';

export type Disposer = () => void | Promise<void>;

/**
 * Checks `progress(fraction, message)` arguments, from a task (in any runtime) or from `updateTaskProgress`.
 * @throws InvalidOptionError (ERR_INVALID_OPTION) naming `fraction` or `message`.
 */
export function checkProgress(fraction: unknown, message: unknown): asserts fraction is number {
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
    throw invalid('fraction', 'a number from 0 to 1', fraction);
  }
  if (message !== undefined && typeof message !== 'string') throw invalid('message', 'a string or undefined', message);
}

/**
 * A heartbeat's `details` as the checkpoint keeps them: a structured clone, so that the task changing its object
 * afterwards does not change the checkpoint (and a pool thread or a store could carry it).
 * @throws InvalidOptionError (ERR_INVALID_OPTION) naming `details` and what in it cannot be cloned.
 */
export function checkpointOf(details: unknown): unknown {
  if (details === undefined || details === null || typeof details !== 'object') {
    if (typeof details === 'function' || typeof details === 'symbol') throw uncloneableDetails(details, undefined);
    return details;
  }
  try {
    return structuredClone(details);
  } catch (error) {
    throw uncloneableDetails(details, error);
  }
}

function uncloneableDetails(details: unknown, cause: unknown): InvalidOptionError {
  const where = findUncloneable(details, 'details') ?? `structuredClone refused it (${(cause as Error)?.message ?? String(cause)})`;
  return new InvalidOptionError('details', `Expected heartbeat \`details\` to be structured-cloneable data, but ${where}`, { cause });
}

/**
 * Checks `registerResource(dispose)`'s argument.
 * @throws InvalidOptionError (ERR_INVALID_OPTION) naming `dispose`.
 */
export function checkDisposer(dispose: unknown): asserts dispose is Disposer {
  if (typeof dispose !== 'function') throw invalid('dispose', 'a function', dispose);
}

/**
 * Runs disposers each once, last registered first, one after another; a disposer's error goes to `onError` and
 * never changes the attempt's outcome or stops the disposers after it.
 */
export async function runDisposers(disposers: readonly Disposer[], onError: (error: unknown) => void): Promise<void> {
  for (let i = disposers.length - 1; i >= 0; i--) {
    try {
      await (disposers[i] as Disposer)();
    } catch (error) {
      onError(error);
    }
  }
}
