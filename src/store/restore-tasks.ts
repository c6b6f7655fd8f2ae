/**
 * Opening a store and reading it back into an engine: `restore()`'s I/O half.
 * Each stored task is decoded (spec, result, error) and checked against this
 * process (its handler defined, its executor and resource pools present);
 * the supervisor then brings it back (see actors/restore.ts).
 */
import { isFinalState, reportOf, type RestoreReport, type StoredTask } from '../actors/restore.js';
import type { Supervisor } from '../actors/supervisor.js';
import { InvalidOptionError, StoreError, TaskChartError } from '../errors.js';
import type { ResolvedTaskSpec, SpecEnvironment } from '../task-spec.js';
import { decodeError, decodeResult, decodeSpec } from './codec.js';
import type { Durability } from './durability.js';
import type { TaskRow, TaskStore } from './task-store.js';

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
 * Reads the store back into the supervisor. With `refuseUnrunnable`, a stored unfinished task this
 * process cannot run makes it throw ERR_INVALID_OPTION (listing them) before anything changes.
 */
export function restoreFrom(store: TaskStore, durability: Durability, supervisor: Supervisor, env: SpecEnvironment, refuseUnrunnable = false): RestoreReport {
  const tasks: StoredTask[] = [];
  let lastSeq = 0;
  let rows: Iterable<TaskRow>;
  try {
    rows = store.load();
  } catch (error) {
    throw error instanceof StoreError ? error : new StoreError(`The store could not be read: ${(error as Error)?.message}`, { cause: error });
  }
  for (const row of rows) {
    tasks.push(decode(row, env));
    if (row.seq > lastSeq) lastSeq = row.seq;
  }
  const unrunnable = tasks.filter((task) => task.unrunnable !== undefined);
  if (refuseUnrunnable && unrunnable.length > 0) {
    const reasons = unrunnable.slice(0, 5).map((task) => (task.unrunnable as Error).message);
    const more = unrunnable.length > 5 ? `; and ${unrunnable.length - 5} more` : '';
    throw new InvalidOptionError(
      'unrunnable',
      `restore() found ${unrunnable.length} unfinished stored task(s) this process cannot run, and restored nothing: ${reasons.join('; ')}${more}`,
    );
  }
  durability.continueAfter(lastSeq);
  supervisor.restore(tasks);
  return reportOf(tasks);
}

function decode(row: TaskRow, env: SpecEnvironment): StoredTask {
  let spec: ResolvedTaskSpec;
  try {
    spec = decodeSpec(row.id, row.name, row.spec);
    const terminal = isFinalState(row.state);
    const unrunnable = terminal ? undefined : whyUnrunnable(spec, env);
    return {
      row,
      spec,
      result: row.state === 'completed' ? decodeResult(row.result) : undefined,
      error: decodeError(row.error),
      unrunnable,
      // Its attempt lives on outside this process (a job in a remote queue): the executor re-attaches to it.
      reattach: unrunnable === undefined && (row.state === 'running' || row.state === 'dispatched') && env.startsLater(spec.executor),
    };
  } catch (error) {
    throw new StoreError(`The stored task \`${row.id}\` cannot be read back: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

/** Why this process cannot run the task: its handler, executor or a resource pool is missing here. */
function whyUnrunnable(spec: ResolvedTaskSpec, env: SpecEnvironment): Error | undefined {
  try {
    if (!env.hasExecutor(spec.executor)) {
      return new InvalidOptionError('executor', `Task \`${spec.id}\` runs on executor \`${spec.executor}\`, which this engine does not have (restored from the store)`);
    }
    for (const [name, units] of spec.resources) {
      const capacity = env.resourceCapacity(name);
      if (capacity === undefined || capacity < units) {
        return new InvalidOptionError(
          `resources.${name}`,
          `Task \`${spec.id}\` needs ${units} unit(s) of resource pool \`${name}\`, which this engine ${capacity === undefined ? 'does not have' : `has only ${capacity} of`} (restored from the store)`,
        );
      }
    }
    env.validateForExecutor(spec.executor, spec);
    return undefined;
  } catch (error) {
    if (!(error instanceof TaskChartError)) throw error;
    if (error instanceof InvalidOptionError && error.field === 'handler') {
      return new InvalidOptionError(
        'handler',
        `Task \`${spec.id}\` names handler \`${spec.handler}\`, which this process has not defined with engine.defineTask() before restore()`,
      );
    }
    return error;
  }
}
