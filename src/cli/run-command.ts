/**
 * `taskchart run <graph-module>`: load the module, define its handlers, restore the store (when
 * there is one) or let the module register tasks on a fresh engine, start every task left
 * never-started, watch until all are terminal (or a signal, or a store failure), print the summary.
 */
import { ofType, StoreError, TaskEngine, TaskStatus, type TaskEngineOptions } from '../index.js';
import { serveDashboard, type Dashboard } from '../dashboard/index.js';
import { recordInspection, type InspectionRecorder } from '../inspect/index.js';
import type { RunOptions } from './args.js';
import {
  restoreStore,
  resumeCommand,
  resumeJson,
  resumeLine,
  sqliteStoreOption,
  storeFailedLine,
  storeLabel,
  suspendedLine,
} from './durable-run.js';
import { errorToJson, formatError } from './format.js';
import { CliInputError, ExitCode } from './input-error.js';
import { startJsonView } from './json-view.js';
import { startLiveView } from './live-view.js';
import { buildGraph, defineHandlers, loadGraph, type GraphModule } from './load-graph.js';
import { startPlainView } from './plain-view.js';
import { runToEnd, StoreWatch, type RunEnding } from './run-loop.js';
import { RunProgress } from './run-progress.js';
import { collectOutcome, exitCodeOf, printSummary, summaryToJson, type RunOutcome } from './summary.js';
import { lineGate, type View, type WriteLine } from './view.js';

/** Where the command writes; injected so that tests and other front ends can redirect it. */
export interface RunIo {
  readonly stdout: NodeJS.WriteStream;
  /** Resolves with the exit code to use when the run is interrupted (SIGINT 130, SIGTERM 143). */
  readonly interrupted: Promise<number>;
}

/** Runs the graph and resolves with the exit code. @throws CliInputError on bad input (exit 2). */
export async function runCommand(options: RunOptions, io: RunIo): Promise<number> {
  const module = await loadGraph(options.file);
  const engineOptions: TaskEngineOptions = { ...module.options, ...(options.store !== undefined && sqliteStoreOption(options.store)) };
  const durable = engineOptions.store !== undefined;
  const recorder = openInspectLog(options.inspectLog);
  const engine = createEngine(options, engineOptions, recorder);
  const progress = new RunProgress(engine);
  const store = new StoreWatch(engine);
  const write: WriteLine = (line) => io.stdout.write(`${line}\n`);
  // With --json stdout holds only JSON objects: lines for people go to stderr.
  const say: WriteLine = options.json ? (line) => process.stderr.write(`${line}\n`) : write;
  let dashboard: Dashboard | undefined;
  let view: View | undefined;
  // What a line view prints while the store is restored comes after the line saying what was restored.
  const restoring = lineGate(write, durable);
  try {
    dashboard = await openDashboard(engine, options, say);
    // Line views watch from the first event; the live view starts once the graph is known to be valid.
    view = options.json || !io.stdout.isTTY ? startLineView(engine, progress, options, restoring.write) : undefined;
    defineHandlers(engine, module.handlers, options.file);
    const fresh = !(durable && (await restored(engine, options, engineOptions, write)));
    restoring.open();
    if (fresh) await buildFreshGraph(module, engine, progress, { file: options.file, durable, say, interrupted: io.interrupted });
    view ??= startLiveView(engine, progress, { stream: io.stdout });
    const ending = await runToEnd(engine, progress, { interrupted: io.interrupted, store, mode: durable ? 'suspend' : 'cancel' });
    view.stop();
    view = undefined;
    const code = reportEnd(engine, progress, ending, {
      options,
      durable,
      write,
      say,
      columns: io.stdout.isTTY ? io.stdout.columns : undefined,
    });
    if (dashboard !== undefined && options.keepOpen && ending.kind === 'done') {
      say(`dashboard still at ${dashboard.url} (Ctrl-C to stop)`);
      await io.interrupted;
    }
    return code;
  } finally {
    restoring.open();
    view?.stop();
    progress.stop();
    store.stop();
    // A durable engine is suspended, never cancelled: whatever is unfinished stays for the next run.
    await engine.shutdown({ mode: durable ? 'suspend' : 'cancel' });
    await dashboard?.close();
    await recorder
      ?.close()
      .catch((error: Error) => process.stderr.write(`taskchart: could not write the --inspect-log file: ${error.message}\n`));
  }
}

/** Prints the summary (a table, or the `--json` summary object) and what is left after a stop; returns the exit code. */
function reportEnd(
  engine: TaskEngine,
  progress: RunProgress,
  ending: RunEnding,
  out: { options: RunOptions; durable: boolean; write: WriteLine; say: WriteLine; columns: number | undefined },
): number {
  const outcome = collectOutcome(engine, progress);
  const code = exitCode(ending, outcome);
  const epilogue = epilogueOf(ending, out.durable, progress, out.options);
  if (out.options.json) out.write(JSON.stringify({ ...summaryToJson(outcome, code), ...epilogue.json }));
  else printSummary(outcome, out.write, { results: out.options.results, columns: out.columns });
  if (epilogue.line === undefined) return code;
  if (ending.kind === 'store-failed') process.stderr.write(`taskchart: ${epilogue.line}\n`);
  else out.say(epilogue.line);
  return code;
}

function exitCode(ending: RunEnding, outcome: RunOutcome): number {
  if (ending.kind === 'signal') return ending.code;
  if (ending.kind === 'store-failed') return ExitCode.STORE_FAILED;
  return exitCodeOf(outcome);
}

/** After an interruption or a store failure: what is left, and the command that resumes it. */
function epilogueOf(
  ending: RunEnding,
  durable: boolean,
  progress: RunProgress,
  options: RunOptions,
): { line?: string; json?: Record<string, unknown> } {
  if (ending.kind === 'done' || !durable) return {};
  const lost = progress.unfinishedMemoryOnly();
  const left = progress.unfinished() - lost;
  const resume = resumeCommand(options.argv);
  if (ending.kind === 'store-failed') {
    return { line: storeFailedLine(ending.error, left, resume, lost), json: { storeError: errorToJson(ending.error), left, lost, resume } };
  }
  return { line: suspendedLine(left, progress.ids.length, resume, lost), json: { suspended: true, left, lost, resume } };
}

/**
 * Restores the store; when it held tasks, says so and returns true (the graph is in the store,
 * and the module's function is not called again).
 */
async function restored(engine: TaskEngine, options: RunOptions, engineOptions: TaskEngineOptions, write: WriteLine): Promise<boolean> {
  const report = await restoreStore(engine);
  if (report.restored === 0) return false;
  const label = storeLabel(options.store, engineOptions.store);
  write(options.json ? JSON.stringify(resumeJson(label, report)) : resumeLine(label, report));
  return true;
}

interface BuildContext {
  readonly file: string;
  readonly durable: boolean;
  /** Where a stall while the function runs is reported. */
  readonly say: WriteLine;
  readonly interrupted: Promise<number>;
}

/**
 * Calls the module's function on a fresh engine. When it fails on a durable engine, the tasks it
 * registered are cancelled and cleaned up (deleted from the store), so that the next run starts
 * fresh rather than resume half a graph. The command starts never-started tasks only once the function
 * returns, so a function that waits for a task whose dependency it never started waits forever: each
 * `stalled` event meanwhile is reported; a function still waiting when nothing is left to run or scheduled
 * (Node would exit with 13) is bad input; a signal ends the wait (the run then stops as usual, and the
 * function's outcome is ignored). @throws CliInputError
 */
async function buildFreshGraph(module: GraphModule, engine: TaskEngine, progress: RunProgress, context: BuildContext): Promise<void> {
  const { file, durable } = context;
  const stalls = reportStalls(engine, context.say);
  const drained = eventLoopDrained();
  const built = buildGraph(module.graph, engine, file).then(
    () => 'returned' as const,
    async (error: unknown) => {
      if (durable) await forgetAll(engine, progress.ids);
      throw error;
    },
  );
  try {
    const outcome = await Promise.race([built, drained.promise, context.interrupted.then(() => 'interrupted' as const)]);
    if (outcome === 'interrupted') {
      void built.catch(() => undefined);
      return;
    }
    if (outcome === 'drained') {
      if (durable) await forgetAll(engine, progress.ids);
      throw new CliInputError(neverReturnedMessage(file, stalls.seen));
    }
  } finally {
    stalls.stop();
    drained.cancel();
  }
  if (progress.ids.length === 0) throw new CliInputError(`Graph module \`${file}\` registered no tasks`);
}

/** Says each `stalled` event as a line; `seen` keeps them (`\`report\` waits on never-started \`fetch\``). */
function reportStalls(engine: TaskEngine, say: WriteLine): { readonly seen: string[]; stop(): void } {
  const seen: string[] = [];
  const subscription = engine.events.pipe(ofType('stalled')).subscribe((event) => {
    const what = `\`${event.name}\` waits on never-started ${event.waitingOn.map((id) => `\`${id}\``).join(', ')}`;
    seen.push(what);
    say(
      `stalled: ${what} while the graph module's function has not returned (the command starts never-started tasks only after it returns: start them in the function, or do not wait for them there)`,
    );
  });
  return { seen, stop: () => subscription.unsubscribe() };
}

/** Resolves with `'drained'` when Node's event loop has nothing left to do (`beforeExit`). */
function eventLoopDrained(): { readonly promise: Promise<'drained'>; cancel(): void } {
  let listener = (): void => {};
  const promise = new Promise<'drained'>((resolve) => {
    listener = () => resolve('drained');
    process.once('beforeExit', listener);
  });
  return { promise, cancel: () => void process.off('beforeExit', listener) };
}

function neverReturnedMessage(file: string, stalls: readonly string[]): string {
  const why = stalls.length > 0 ? `the engine is idle, and ${stalls.join('; ')}` : 'nothing is running or scheduled';
  return `Graph module \`${file}\`'s function never returns: it waits for something that cannot happen (${why}); the command starts never-started tasks only after the function returns`;
}

async function forgetAll(engine: TaskEngine, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    try {
      const status = engine.getTaskStatus(id);
      if (status !== TaskStatus.COMPLETED && status !== TaskStatus.FAILED && status !== TaskStatus.CANCELLED) {
        engine.cancelTask(id, 'the graph module failed while registering its tasks');
      }
      await engine.cleanupTask(id);
    } catch {
      // Best effort: the bad-input error being thrown is the one to report.
    }
  }
}

function createEngine(options: RunOptions, engineOptions: TaskEngineOptions, recorder: InspectionRecorder | undefined): TaskEngine {
  try {
    return new TaskEngine({
      ...engineOptions,
      ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
      ...(recorder && { inspect: recorder.inspect }),
    });
  } catch (error) {
    // The store is opened (and locked) by the constructor: held by another run, or not a taskchart store.
    if (error instanceof StoreError) throw new CliInputError(formatError(error), { cause: error });
    throw new CliInputError(`Invalid engine \`options\` exported by \`${options.file}\`: ${(error as Error).message}`, { cause: error });
  }
}

/** Serves the dashboard from before the graph registers anything, so it sees every task. */
async function openDashboard(engine: TaskEngine, options: RunOptions, announce: WriteLine): Promise<Dashboard | undefined> {
  if (options.dashboard === undefined) return undefined;
  let dashboard: Dashboard;
  try {
    dashboard = await serveDashboard(engine, { port: options.dashboard });
  } catch (error) {
    throw new CliInputError(`Cannot serve \`--dashboard\` on port ${options.dashboard}: ${(error as Error).message}`, { cause: error });
  }
  announce(`dashboard: ${dashboard.url}`);
  return dashboard;
}

function openInspectLog(path: string | undefined): InspectionRecorder | undefined {
  if (path === undefined) return undefined;
  try {
    return recordInspection(path);
  } catch (error) {
    throw new CliInputError(`Cannot record to \`--inspect-log\` file \`${path}\`: ${(error as Error).message}`, { cause: error });
  }
}

function startLineView(engine: TaskEngine, progress: RunProgress, options: RunOptions, write: WriteLine): View {
  return options.json ? startJsonView(engine, write) : startPlainView(engine, progress, { write });
}
