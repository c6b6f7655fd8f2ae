/**
 * Opening a store and reading it back: `restore()`'s I/O half. Each stored
 * row is decoded (spec, result, error); what it means for this process
 * (whether it can run here, how it comes back) is decided in actors/restore.ts.
 */
import { StoreError } from '../errors.js';
import type { ResolvedTaskSpec } from '../task-spec.js';
import { decodeError, decodeResult, decodeSpec } from './codec.js';
import type { RerunDefaults } from '../long-running.js';
import type { TaskRow, TaskStore } from './task-store.js';

/** A stored task, decoded. */
export interface DecodedTask {
  readonly row: TaskRow;
  readonly spec: ResolvedTaskSpec;
  /** The stored result (undefined when the row has none). */
  readonly result: unknown;
  readonly error: Error | undefined;
}

/** Opens the store; returns how many tasks it holds. @throws StoreError */
export function openStore(store: TaskStore): number {
  try {
    return store.open().tasks;
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`The store could not be opened: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

/**
 * Every stored task, decoded, in registration order, and the last registration number. `reruns`: the restoring
 * engine's `maxInterruptions` and `maxCrashes`, for specs stored before they existed.
 * @throws StoreError when the store cannot be read or a row cannot be decoded.
 */
export function readStore(store: TaskStore, reruns: RerunDefaults): { readonly tasks: DecodedTask[]; readonly lastSeq: number } {
  let rows: Iterable<TaskRow>;
  try {
    rows = store.load();
  } catch (error) {
    throw error instanceof StoreError
      ? error
      : new StoreError(`The store could not be read: ${(error as Error)?.message}`, { cause: error });
  }
  const tasks: DecodedTask[] = [];
  let lastSeq = 0;
  for (const row of rows) {
    tasks.push(decode(row, reruns));
    if (row.seq > lastSeq) lastSeq = row.seq;
  }
  return { tasks, lastSeq };
}

function decode(row: TaskRow, reruns: RerunDefaults): DecodedTask {
  try {
    return { row, spec: decodeSpec(row.id, row.name, row.spec, reruns), result: decodeResult(row.result), error: decodeError(row.error) };
  } catch (error) {
    throw new StoreError(`The stored task \`${row.id}\` cannot be read back: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
}
