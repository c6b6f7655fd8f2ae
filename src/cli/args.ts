/** Parses the command line into a fully resolved {@link RunOptions}, once, at the boundary. */
import { parseArgs } from 'node:util';
import { WORKER_DEFAULTS } from '../bullmq/protocol.js';
import { CliInputError } from './input-error.js';

/** What `taskchart run` was asked to do. */
export interface RunOptions {
  readonly command: 'run';
  /** The graph module's path as given. */
  readonly file: string;
  /** Engine concurrency; absent: the module's `options.concurrency`, else the engine's default (4). */
  readonly concurrency: number | undefined;
  /** Machine-readable events on stdout, one JSON object a line. @default false */
  readonly json: boolean;
  /** List every task with its result (one short line each) in the summary. @default false */
  readonly results: boolean;
  /** Stack traces on bad input. @default false */
  readonly verbose: boolean;
  /** A file to record the run's XState inspection events to, as JSON lines (taskchart/inspect). */
  readonly inspectLog: string | undefined;
  /** Serve the live dashboard while running, on this port (0: any free port). */
  readonly dashboard: number | undefined;
  /** With --dashboard: keep serving after the run until Ctrl-C. @default false */
  readonly keepOpen: boolean;
  /**
   * A durable store file (taskchart/sqlite) for the run: a run that is stopped (Ctrl-C, SIGTERM,
   * a crash) resumes from it when given the same file again. Overrides the module's `options.store`.
   */
  readonly store: string | undefined;
  /** The arguments as given, after `taskchart` (the resume hint repeats them). */
  readonly argv: readonly string[];
}

/** What `taskchart worker` was asked to do. */
export interface WorkerOptions {
  readonly command: 'worker';
  /** The handlers module's path as given. */
  readonly file: string;
  /** The Redis URL (`redis://` or `rediss://`), as given. */
  readonly redis: string;
  /** The BullMQ queue to process. */
  readonly queue: string;
  /** Jobs run at once. @default 1 */
  readonly concurrency: number;
  /** Run every handler in a worker thread of a local pool of `concurrency` threads. @default false */
  readonly pool: boolean;
  /** BullMQ lock of a running job (ms), renewed every half of it: a dead worker is noticed about this long after. @default 4000 */
  readonly lockDuration: number;
  /** How often this worker runs BullMQ's stalled-job check (ms); the same for every worker of a queue. @default 4000 */
  readonly stalledInterval: number;
  /** After SIGTERM / SIGINT, how long running jobs get to finish before they are cancelled and handed back (ms). @default 10000 */
  readonly grace: number;
  /** Stack traces on bad input. @default false */
  readonly verbose: boolean;
}

/** Usage: asked for (`--help`, exit 0), or shown because no command was given (exit 2). */
export interface HelpRequest {
  readonly command: 'help';
  readonly requested: boolean;
}

export type Command = RunOptions | WorkerOptions | HelpRequest;

/** Flags that only one command takes. */
const RUN_ONLY = ['json', 'results', 'inspect-log', 'dashboard', 'keep-open', 'store'] as const;
const WORKER_ONLY = ['redis', 'queue', 'pool', 'lock-duration', 'stalled-interval', 'grace'] as const;

export const USAGE = `Usage: taskchart run <graph-module> [options]
       taskchart worker <handlers-module> --redis <url> --queue <name> [--concurrency <n>] [--pool]

Runs the task graph exported by <graph-module> (export default (engine) => { ... }).
Named task functions exported as \`handlers\` ({ name: fn }) are defined first.

Options:
  --store <file>     keep the tasks in a durable SQLite store <file>: Ctrl-C or SIGTERM
                     stops the run without cancelling anything, and running the same
                     command again resumes it (the graph function is not called again
                     while the store holds tasks; delete <file> to start afresh)
  --concurrency <n>  max running tasks, an integer from 1 and up (default: the
                     module's options.concurrency, else 4)
  --json             machine-readable events on stdout, one JSON object a line; the
                     last line is a summary with every task's result or error
  --results          list every task with its result (one short line each) in the summary
  --inspect-log <f>  record every statechart inspection event to file <f> (JSON lines)
  --dashboard[=port] serve the live dashboard on 127.0.0.1 while running and print its URL
  --keep-open        with --dashboard: keep serving after the run, until Ctrl-C
  --verbose          print stack traces for bad input
  -h, --help         show this help

taskchart worker runs remote tasks (executor BullMQExecutor, entry point taskchart/bullmq)
from BullMQ queue <name> on Redis <url>, with the functions <handlers-module> exports
(named function exports, or an object exported as \`handlers\`). Options:
  --concurrency <n>       jobs run at once (default 1)
  --pool                  run each handler in a worker thread (CPU-bound handlers; the
                          module must load in a worker thread), --concurrency threads
  --lock-duration <ms>    lock of a running job, renewed every half of it; a worker that
                          dies or blocks its event loop longer is seen as crashed (4000)
  --stalled-interval <ms> BullMQ's stalled-job check, the same on every worker (4000)
  --grace <ms>            after SIGTERM / SIGINT, how long running jobs get to finish (10000)
It prints a one-line status (redrawn in place on a terminal). SIGTERM / SIGINT: take no
new jobs, let running ones finish; after --grace, cancel them, which hands them back to
the engine (their attempt fails with ERR_WORKER_CRASHED and is retried if the task has
retries left); then exit 0. A second signal exits at once. Exit 2 on bad input (missing
module, bad URL, no handlers, Redis unreachable).

Exit codes of run: 0 all tasks completed, 1 some failed or were cancelled, 2 bad input
(including a --store file that cannot be opened), 3 the store failed during the
run (disk full, read-only: the run stopped, fix the cause and run again to resume),
130 / 143 interrupted by SIGINT / SIGTERM (with --store: suspended, to be resumed),
141 stdout's reader went away (EPIPE; handled like SIGINT), 70 an internal error
(a crash outside any task).`;

/** @throws CliInputError on an unknown command or flag, a missing file argument, or a bad value. */
export function parseCommandLine(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      // `--dashboard` alone means any free port; parseArgs has no optional values.
      args: argv.map((arg) => (arg === '--dashboard' ? '--dashboard=0' : arg)),
      allowPositionals: true,
      strict: true,
      options: {
        concurrency: { type: 'string' },
        json: { type: 'boolean', default: false },
        results: { type: 'boolean', default: false },
        'inspect-log': { type: 'string' },
        dashboard: { type: 'string' },
        'keep-open': { type: 'boolean', default: false },
        store: { type: 'string' },
        redis: { type: 'string' },
        queue: { type: 'string' },
        pool: { type: 'boolean', default: false },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
        grace: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new CliInputError(`${firstSentence((error as Error).message)} (see taskchart --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help', requested: true };
  if (positionals.length === 0) return { command: 'help', requested: false };
  const [command, file, ...extra] = positionals;
  if (command === 'worker') {
    refuseFlags('worker', RUN_ONLY, values);
    if (file === undefined)
      throw new CliInputError('Expected a handlers module: taskchart worker <handlers-module> --redis <url> --queue <name>');
    if (extra.length > 0) throw new CliInputError(`Expected one handlers module, got also \`${extra.join(' ')}\``);
    return {
      command: 'worker',
      file,
      redis: parseRedisUrl(values.redis),
      queue: parseQueue(values.queue),
      concurrency: parseConcurrency(values.concurrency) ?? 1,
      pool: values.pool,
      lockDuration: parseMilliseconds('--lock-duration', values['lock-duration']) ?? WORKER_DEFAULTS.lockDuration,
      stalledInterval: parseMilliseconds('--stalled-interval', values['stalled-interval']) ?? WORKER_DEFAULTS.stalledInterval,
      grace: parseMilliseconds('--grace', values.grace) ?? GRACE_MS,
      verbose: values.verbose,
    };
  }
  if (command !== 'run') throw new CliInputError(`Unknown command \`${command}\`, expected \`run\` or \`worker\` (see taskchart --help)`);
  refuseFlags('run', WORKER_ONLY, values);
  if (file === undefined) throw new CliInputError('Expected a graph module: taskchart run <graph-module>');
  if (extra.length > 0) throw new CliInputError(`Expected one graph module, got also \`${extra.join(' ')}\``);
  return {
    command: 'run',
    file,
    concurrency: parseConcurrency(values.concurrency),
    json: values.json,
    results: values.results,
    verbose: values.verbose,
    inspectLog: parsePath('--inspect-log', values['inspect-log']),
    dashboard: parseDashboardPort(values.dashboard),
    keepOpen: values['keep-open'],
    store: parsePath('--store', values.store),
    argv: [...argv],
  };
}

function refuseFlags(command: string, flags: readonly string[], values: Record<string, unknown>): void {
  const given = flags.find((flag) => values[flag] !== undefined && values[flag] !== false);
  if (given !== undefined) throw new CliInputError(`\`--${given}\` is not an option of \`taskchart ${command}\` (see taskchart --help)`);
}

function parseRedisUrl(raw: string | undefined): string {
  if (raw === undefined) throw new CliInputError('Expected `--redis <url>`, e.g. `--redis redis://127.0.0.1:6379`');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliInputError(`Expected \`--redis\` to be a redis:// or rediss:// URL, got \`${raw}\``);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new CliInputError(`Expected \`--redis\` to be a redis:// or rediss:// URL, got \`${raw}\``);
  return raw;
}

function parseQueue(raw: string | undefined): string {
  if (raw === undefined) throw new CliInputError("Expected `--queue <name>`: the BullMQ queue the engine's BullMQExecutor sends to");
  if (raw === '' || raw.includes(':')) throw new CliInputError(`Expected \`--queue\` to be a non-empty name without ':', got \`${raw}\``);
  return raw;
}

function parseDashboardPort(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535)
    throw new CliInputError(`Expected \`--dashboard\` port to be an integer from 0 to 65535, got \`${raw}\``);
  return port;
}

/** A file path flag: absent, or a non-empty path. */
function parsePath(flag: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') throw new CliInputError(`Expected \`${flag}\` to be a file path, got an empty string`);
  return raw;
}

function parseConcurrency(raw: string | undefined): number | undefined {
  return parseInteger('--concurrency', raw, 1);
}

/** How long running jobs get to finish after the first SIGTERM / SIGINT of `taskchart worker`, by default. */
const GRACE_MS = 10_000;

/** A duration flag in ms: at least 100 (BullMQ renews a lock every half of it), at most a day. */
function parseMilliseconds(flag: string, raw: string | undefined): number | undefined {
  const value = parseInteger(flag, raw, 100);
  if (value !== undefined && value > 86_400_000)
    throw new CliInputError(`Expected \`${flag}\` to be an integer of ms from 100 to 86400000, got \`${raw}\``);
  return value;
}

function parseInteger(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new CliInputError(`Expected \`${flag}\` to be an integer from ${min} and up, got \`${raw}\``);
  }
  return value;
}

/** parseArgs explains at length how to pass a positional starting with '-'; the first sentence names the problem. */
function firstSentence(message: string): string {
  return message.split(/\.\s/)[0] ?? message;
}
