/**
 * The terminal view for a TTY: a cli-progress MultiBar redrawn in place, with one summary row on top and
 * one row per running task (none for a free slot); failures, retries (stalled attempts named), cancellations, rate
 * limits and missed deadlines are logged above.
 * Every row and log line is cut to the terminal's width at the time it is drawn (rows.ts).
 */
import { MultiBar, type GenericFormatter, type SingleBar } from 'cli-progress';
import type { Subscription } from 'rxjs';
import { ofType, TaskStatus, type TaskEngine, type TaskEvent } from '../index.js';
import { deadlineLine, fit, formatError, rateLimitedLine, stallText } from './format.js';
import { summaryRow, taskRow } from './rows.js';
import type { ProgressSnapshot, RunningTask, RunProgress } from './run-progress.js';
import type { View } from './view.js';

export interface LiveViewOptions {
  readonly stream: NodeJS.WriteStream;
  /** ms between redraws. @default 200 */
  readonly interval?: number;
}

interface SummaryPayload {
  snapshot: ProgressSnapshot;
  hidden: number;
}

const drawSummary: GenericFormatter = (_options, params, payload: SummaryPayload) =>
  summaryRow(payload.snapshot, params.maxWidth, payload.hidden);
const drawTask: GenericFormatter = (_options, params, payload: { task: RunningTask }) => taskRow(payload.task, params.maxWidth);

export function startLiveView(engine: TaskEngine, progress: RunProgress, options: LiveViewOptions): View {
  const { stream } = options;
  const multibar = new MultiBar({ stream, hideCursor: true, clearOnComplete: false, stopOnComplete: false, fps: 10 });
  const summary = multibar.create(1, 0, { snapshot: progress.snapshot(), hidden: 0 } satisfies SummaryPayload, { format: drawSummary });
  // One row per running task shown, in the order they started running.
  const rows: SingleBar[] = [];

  const redraw = (): void => {
    const snapshot = progress.snapshot();
    const shown = [...progress.running.values()].slice(0, maxRows(stream));
    summary.update(0, { snapshot, hidden: progress.running.size - shown.length } satisfies SummaryPayload);
    syncRows(multibar, rows, shown);
  };
  const timer = setInterval(redraw, options.interval ?? 200);
  const logs: Subscription = engine.events.pipe(ofType('status', 'retry', 'rate-limited', 'deadline')).subscribe((event) => {
    if (progress.isReplay(event)) return;
    const line = logLine(event);
    // The width when the line is written: log lines are not redrawn.
    if (line !== undefined) multibar.log(`${fit(line, (stream.columns ?? 80) - 1)}\n`);
  });
  redraw();

  return {
    stop() {
      clearInterval(timer);
      logs.unsubscribe();
      syncRows(multibar, rows, []);
      redraw();
      multibar.stop();
    },
  };
}

/** The line logged above the rows for a retry, a failure, a cancellation, a rate limit or a missed deadline; nothing for other changes. */
export function logLine(event: Extract<TaskEvent, { type: 'status' | 'retry' | 'rate-limited' | 'deadline' }>): string | undefined {
  if (event.type === 'rate-limited') return `limited   ${rateLimitedLine(event)}`;
  if (event.type === 'deadline') return deadlineLine(event);
  if (event.type === 'retry') {
    const stall = stallText(event.error);
    if (stall !== undefined) return `stalled   ${event.name}: ${stall}; retry: attempt ${event.attempt} in ${event.delay}ms`;
    return `retry     ${event.name}: attempt ${event.attempt} in ${event.delay}ms after ${formatError(event.error)}`;
  }
  if (event.status === TaskStatus.FAILED) return `FAILED    ${event.name}: ${formatError(event.error)}`;
  if (event.status === TaskStatus.CANCELLED)
    return `CANCELLED ${event.name}${event.error === undefined ? '' : `: ${formatError(event.error)}`}`;
  return undefined;
}

/** Room for task rows below the summary row, leaving a line for the prompt. */
function maxRows(stream: NodeJS.WriteStream): number {
  return Math.max(1, (stream.rows ?? 24) - 3);
}

/** One row per shown task: rows are added and removed at the bottom, so that each row keeps its line while its task runs on. */
function syncRows(multibar: MultiBar, rows: SingleBar[], shown: readonly RunningTask[]): void {
  while (rows.length > shown.length) multibar.remove(rows.pop() as SingleBar);
  shown.forEach((task, i) => {
    if (i < rows.length) rows[i]?.update(0, { task });
    else rows.push(multibar.create(1, 0, { task }, { format: drawTask }));
  });
}
