/**
 * What a durable store adds to a run (`--store <file>`, or a module's `options.store`): opening it,
 * restoring what it holds, and the lines that say what was resumed and what is left for the next run.
 * A run that stops on a signal suspends: nothing is cancelled, and the same command resumes it.
 */
import { basename, resolve } from 'node:path';
import { InvalidOptionError, StoreError, type RestoreReport, type TaskEngine, type TaskEngineOptions } from '../index.js';
import { SqliteStore } from '../sqlite/index.js';
import { formatError, shellQuote } from './format.js';
import { CliInputError } from './input-error.js';

/** The store options for `--store <path>`: a SqliteStore on the file (opened by the engine). */
export function sqliteStoreOption(path: string): Pick<TaskEngineOptions, 'store'> {
  try {
    return { store: new SqliteStore({ path }) };
  } catch (error) {
    throw new CliInputError(`Cannot use \`--store\` \`${path}\`: ${formatError(error)}`, { cause: error });
  }
}

/** How the lines name the store: the `--store` path as given, else the store's own `path`, else `the store`. */
export function storeLabel(flag: string | undefined, store: unknown): string {
  if (flag !== undefined) return flag;
  const path = (store as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : 'the store';
}

/**
 * `engine.restore({ unrunnable: 'refuse' })`. A store that cannot be read back (a stored task this
 * version cannot decode) is bad input, like one that cannot be opened; so is a module that cannot run
 * some stored unfinished task (a missing handler: the wrong module, or a renamed handler): then nothing
 * is restored or changed, and the right module can resume the store. @throws CliInputError
 */
export async function restoreStore(engine: TaskEngine): Promise<RestoreReport> {
  try {
    return await engine.restore({ unrunnable: 'refuse' });
  } catch (error) {
    if (!(error instanceof StoreError) && !(error instanceof InvalidOptionError)) throw error;
    throw new CliInputError(formatError(error), { cause: error });
  }
}

/** `resuming from tasks.db: 12 finished, 30 left (3 interrupted attempts counted)` */
export function resumeLine(label: string, report: RestoreReport): string {
  // (No unrunnable tasks here: the command restores with `unrunnable: 'refuse'`.)
  const notes = report.interrupted > 0 ? [`${plural(report.interrupted, 'interrupted attempt')} counted`] : [];
  if (report.reattached > 0) notes.push(`${plural(report.reattached, 'remote attempt')} re-attached`);
  const left = report.restored - report.finished;
  return `resuming from ${label}: ${report.finished} finished, ${left} left${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
}

/** The `--json` line for the same: `{ "type": "restore", "store": ..., ...report }`. */
export function resumeJson(label: string, report: RestoreReport): Record<string, unknown> {
  return { type: 'restore', store: label, ...report };
}

/** Where and how this process was started: what {@link resumeCommand} needs to say it again. */
export interface Invocation {
  /** The script node runs (`process.argv[1]`): a `node_modules/.bin/taskchart` link, or a path to dist/cli/main.js. */
  readonly script: string;
  readonly cwd: string;
  /** The directory `npm run` was started in (npm's `INIT_CWD`), when it differs from `cwd`. */
  readonly initCwd?: string | undefined;
}

const thisProcess = (): Invocation => ({ script: process.argv[1] ?? 'taskchart', cwd: process.cwd(), initCwd: process.env.INIT_CWD });

/**
 * The command that resumes this run, as a POSIX shell runs it: `npx taskchart <the same arguments>` when
 * taskchart runs from an installed package (a `node_modules` path or a `taskchart` bin link), else
 * `node <absolute path of the script>`, which works from anywhere; prefixed with `cd <dir> &&` when an
 * npm script ran it from another directory than the shell's, so that relative paths still resolve.
 */
export function resumeCommand(argv: readonly string[], invocation: Invocation = thisProcess()): string {
  const { script, cwd, initCwd } = invocation;
  const installed = /[\\/]node_modules[\\/]/.test(script) || basename(script) === 'taskchart';
  const words = [...(installed ? ['npx', 'taskchart'] : ['node', resolve(cwd, script)]), ...argv].map(shellQuote).join(' ');
  return initCwd && resolve(initCwd) !== resolve(cwd) ? `cd ${shellQuote(cwd)} && ${words}` : words;
}

/** `interrupted: 30 of 42 tasks left for the next run (stopping cancelled nothing); to resume, run: npx taskchart run ...` */
export function suspendedLine(left: number, total: number, command: string, lost = 0): string {
  if (left === 0) return `interrupted: nothing the store keeps is left to resume${lostNote(lost)}`;
  return `interrupted: ${left} of ${plural(total, 'task')} left for the next run (stopping cancelled nothing)${lostNote(lost)}; to resume, run: ${command}`;
}

/** Unfinished `durable: false` tasks: the store does not keep them, so the resumed run will not have them. */
function lostNote(lost: number): string {
  return lost === 0 ? '' : `; ${plural(lost, 'memory-only task')} (durable: false) will not run again`;
}

/** `the task store failed and the run stopped: ERR_STORE: ...; 30 tasks unfinished: fix the cause, then resume with: ...` */
export function storeFailedLine(error: unknown, left: number, command: string, lost = 0): string {
  return (
    `the task store failed and the run stopped: ${formatError(error)}; ${plural(left, 'task')} unfinished${lostNote(lost)}. ` +
    `The counts above are what this process saw; the store keeps its last commit: fix the cause, then resume with: ${command}`
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
