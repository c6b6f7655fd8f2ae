/**
 * `taskchart run <graph-module>`: load the module, let it register tasks on a fresh engine,
 * start every task it left never-started, watch until all are terminal, print the summary.
 */
import { InvalidTransitionError, TaskEngine, TaskStatus, type TaskEngineOptions } from '../index.js';
import { serveDashboard, type Dashboard } from '../dashboard/index.js';
import { recordInspection, type InspectionRecorder } from '../inspect/index.js';
import type { RunOptions } from './args.js';
import { CliInputError } from './input-error.js';
import { startJsonView } from './json-view.js';
import { startLiveView } from './live-view.js';
import { buildGraph, loadGraph } from './load-graph.js';
import { startPlainView } from './plain-view.js';
import { RunProgress } from './run-progress.js';
import { collectOutcome, exitCodeOf, printSummary, summaryToJson } from './summary.js';
import type { View, WriteLine } from './view.js';

/** Where the command writes; injected so that tests and other front ends can redirect it. */
export interface RunIo {
  readonly stdout: NodeJS.WriteStream;
  /** Resolves with the exit code to use when the run is interrupted (SIGINT 130, SIGTERM 143). */
  readonly interrupted: Promise<number>;
}

/** Runs the graph and resolves with the exit code. @throws CliInputError on bad input (exit 2). */
export async function runCommand(options: RunOptions, io: RunIo): Promise<number> {
  const { graph, options: engineOptions } = await loadGraph(options.file);
  const recorder = openInspectLog(options.inspectLog);
  const engine = createEngine(options, engineOptions, recorder);
  const progress = new RunProgress(engine);
  const write: WriteLine = (line) => io.stdout.write(`${line}\n`);
  const dashboard = await openDashboard(engine, options, options.json ? (line) => process.stderr.write(`${line}\n`) : write);
  const live = !options.json && io.stdout.isTTY;
  // Line views watch from the first event; the live view starts once the graph is known to be valid.
  let view: View | undefined = live ? undefined : startLineView(engine, progress, options, write);
  try {
    await buildGraph(graph, engine, options.file);
    if (progress.ids.length === 0) throw new CliInputError(`Graph module \`${options.file}\` registered no tasks`);
    view ??= startLiveView(engine, progress, { stream: io.stdout });
    const interruption = await runToEnd(engine, progress, io.interrupted);
    view.stop();
    view = undefined;
    const outcome = collectOutcome(engine, progress.ids, progress.elapsedMs);
    const code = interruption ?? exitCodeOf(outcome);
    if (options.json) write(JSON.stringify(summaryToJson(outcome, code)));
    else printSummary(outcome, write);
    if (dashboard !== undefined && options.keepOpen && interruption === undefined) {
      (options.json ? (line: string) => process.stderr.write(`${line}\n`) : write)(`dashboard still at ${dashboard.url} (Ctrl-C to stop)`);
      await io.interrupted;
    }
    return code;
  } finally {
    view?.stop();
    progress.stop();
    await engine.shutdown({ mode: 'cancel' });
    await dashboard?.close();
    await recorder?.close().catch((error: Error) => process.stderr.write(`taskchart: could not write the --inspect-log file: ${error.message}\n`));
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
    await engine.shutdown();
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

/**
 * Starts never-started tasks and waits for idleness, again while tasks registered meanwhile
 * (by running tasks) are left to start. Resolves with the interruption's exit code, if any.
 */
async function runToEnd(engine: TaskEngine, progress: RunProgress, interrupted: Promise<number>): Promise<number | undefined> {
  let signalCode: number | undefined;
  void interrupted.then((code) => {
    signalCode = code;
    void engine.shutdown({ mode: 'cancel' });
  });
  let checked = 0;
  while (signalCode === undefined) {
    startNeverStarted(engine, progress.ids.slice(checked));
    checked = progress.ids.length;
    await Promise.race([engine.onIdle(), interrupted]);
    if (progress.ids.length === checked) break;
  }
  if (signalCode !== undefined) await engine.onIdle();
  return signalCode;
}

/** `startTask` on each PENDING task; a task already started (queued, retrying) refuses with ERR_INVALID_TRANSITION. */
function startNeverStarted(engine: TaskEngine, ids: readonly string[]): void {
  for (const id of ids) {
    if (engine.getTaskStatus(id) !== TaskStatus.PENDING) continue;
    try {
      engine.startTask(id);
    } catch (error) {
      if (!(error instanceof InvalidTransitionError)) throw error;
    }
  }
}
