/**
 * `taskchart run <graph-module>`: load the module, define its handlers, restore the store (when
 * there is one) or let the module register tasks on a fresh engine, start every task left
 * never-started, watch until all are terminal (or a signal, or a store failure), print the summary.
 */
import { StoreError, TaskEngine, TaskStatus, type TaskEngineOptions } from '../index.js';
import { serveDashboard, type Dashboard } from '../dashboard/index.js';
import { recordInspection, type InspectionRecorder } from '../inspect/index.js';
import type { RunOptions } from './args.js';
import { restoreStore, resumeCommand, resumeJson, resumeLine, sqliteStoreOption, storeFailedLine, storeLabel, suspendedLine } from './durable-run.js';
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
    if (fresh) await buildFreshGraph(module, engine, progress, options.file, durable);
    view ??= startLiveView(engine, progress, { stream: io.stdout });
    const ending = await runToEnd(engine, progress, { interrupted: io.interrupted, store, mode: durable ? 'suspend' : 'cancel' });
    view.stop();
    view = undefined;
    const code = reportEnd(engine, progress, ending, { options, durable, write, say, columns: io.stdout.isTTY ? io.stdout.columns : undefined });
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
    await recorder?.close().catch((error: Error) => process.stderr.write(`taskchart: could not write the --inspect-log file: ${error.message}\n`));
  }
}

/** Prints the summary (a table, or the `--json` summary object) and what is left after a stop; returns the exit code. */
function reportEnd(engine: TaskEngine, progress: RunProgress, ending: RunEnding, out: { options: RunOptions; durable: boolean; write: WriteLine; say: WriteLine; columns: number | undefined }): number {
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
function epilogueOf(ending: RunEnding, durable: boolean, progress: RunProgress, options: RunOptions): { line?: string; json?: Record<string, unknown> } {
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

/**
 * Calls the module's function on a fresh engine. When it fails on a durable engine, the tasks it
 * registered are cancelled and cleaned up (deleted from the store), so that the next run starts
 * fresh rather than resume half a graph. @throws CliInputError
 */
async function buildFreshGraph(module: GraphModule, engine: TaskEngine, progress: RunProgress, file: string, durable: boolean): Promise<void> {
  try {
    await buildGraph(module.graph, engine, file);
  } catch (error) {
    if (durable) await forgetAll(engine, progress.ids);
    throw error;
  }
  if (progress.ids.length === 0) throw new CliInputError(`Graph module \`${file}\` registered no tasks`);
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
