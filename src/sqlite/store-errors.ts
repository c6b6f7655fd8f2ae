/** The messages of the StoreErrors a SqliteStore throws; every one names the file. */
import { StoreError } from '../errors.js';

/** The message of an unknown thrown value, with SQLite's code when it has one. */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? `${message} (${code})` : message;
}

/** `open()` refused the file, or could not open it. */
export function cannotOpen(path: string, reason: string, cause?: unknown): StoreError {
  return new StoreError(`Cannot open the task store \`${path}\`: ${reason}`, cause === undefined ? undefined : { cause });
}

/** Another SqliteStore, here or in another process, has the file open. */
export function heldElsewhere(path: string, where: 'in this process' | 'in another process', cause?: unknown): StoreError {
  return cannotOpen(
    path,
    `the file is held by another engine (${where}); a store file serves one engine at a time, so close that store or use another file`,
    cause,
  );
}

/** A verb called before `open()` or after `close()`. */
export function notOpen(path: string, verb: string, state: 'new' | 'closed'): StoreError {
  return new StoreError(
    state === 'new'
      ? `Cannot ${verb} the task store \`${path}\`: it is not open yet (call open() first)`
      : `Cannot ${verb} the task store \`${path}\`: it is closed`,
  );
}
