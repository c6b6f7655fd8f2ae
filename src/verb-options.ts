/**
 * The options of the verbs that take some (`registerTasks`, `restore`, `shutdown`) and their validation: each
 * resolves what it was given into what the engine uses, or throws ERR_INVALID_OPTION naming the field.
 */
import { InvalidOptionError } from './errors.js';
import { invalid, isPlainObject } from './validate.js';

/** Options of `registerTasks()`. */
export interface RegisterTasksOptions {
  /**
   * Start the whole batch once it is registered, as `startTasks(ids)` does.
   * @default false
   */
  start?: boolean;
}

/** Options of `restore()`. */
export interface RestoreOptions {
  /**
   * A stored unfinished task that this process cannot run (its handler is not defined, its executor or
   * resource pool is missing): `'fail'` fails it with ERR_INVALID_OPTION, as the store's semantics say;
   * `'refuse'` restores nothing and throws ERR_INVALID_OPTION listing them, so that a process started
   * with the wrong code does not fail a whole store's work (the `taskchart` command uses this).
   * @default 'fail'
   */
  unrunnable?: 'fail' | 'refuse';
}

/** Options of `shutdown()`. */
export interface ShutdownOptions {
  /**
   * `'cancel'` cancels every non-terminal task, running ones included;
   * `'drain'` refuses new work, lets started tasks finish, then cancels what never started;
   * `'suspend'` (engines with a `store`) aborts running attempts without counting them, records no
   * cancellation, and leaves every unfinished task to the next process's `restore()`.
   * @default 'cancel'
   */
  mode?: 'cancel' | 'drain' | 'suspend';
}

export type ShutdownMode = NonNullable<ShutdownOptions['mode']>;

export function resolveRegisterOptions(options: unknown): boolean {
  if (options === undefined) return false;
  if (!isPlainObject(options)) throw invalid('options', 'a plain object', options);
  const start = options.start ?? false;
  if (typeof start !== 'boolean') throw invalid('start', 'a boolean', start);
  return start;
}

export function resolveRestoreOptions(options: unknown): boolean {
  if (options === undefined) return false;
  if (!isPlainObject(options)) throw invalid('options', 'a plain object', options);
  const unrunnable = options.unrunnable ?? 'fail';
  if (unrunnable !== 'fail' && unrunnable !== 'refuse') throw invalid('unrunnable', "'fail' or 'refuse'", unrunnable);
  return unrunnable === 'refuse';
}

export function resolveShutdownMode(options: unknown, durable: boolean): ShutdownMode {
  if (options === undefined) return 'cancel';
  if (!isPlainObject(options)) throw invalid('options', 'a plain object', options);
  const mode = options.mode ?? 'cancel';
  if (mode !== 'cancel' && mode !== 'drain' && mode !== 'suspend') {
    throw invalid('mode', "'cancel', 'drain' or 'suspend'", mode);
  }
  if (mode === 'suspend' && !durable) {
    throw new InvalidOptionError(
      'mode',
      "Expected `mode` 'suspend' only on an engine with a durable `store`; this engine keeps tasks in memory",
    );
  }
  return mode;
}
