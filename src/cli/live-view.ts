/**
 * The terminal view for a TTY: a cli-progress MultiBar redrawn in place, with one summary
 * bar on top and one bar per running task; failures and retries are logged above the bars.
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import type { Subscription } from 'rxjs';
import { ofType, TaskStatus, type TaskEngine } from '../index.js';
import { formatError } from './format.js';
import type { RunProgress } from './run-progress.js';
import { summaryLine } from './summary-line.js';
import type { View } from './view.js';

const TASK_FORMAT = '  {bar} {percentage}% {name} {message}';

export interface LiveViewOptions {
  readonly stream: NodeJS.WriteStream;
  /** ms between redraws. @default 200 */
  readonly interval?: number;
}

export function startLiveView(engine: TaskEngine, progress: RunProgress, options: LiveViewOptions): View {
  const { stream } = options;
  const multibar = new MultiBar({
    stream,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    barsize: 20,
    fps: 10,
    autopadding: true,
    format: TASK_FORMAT,
  });
  const summary = multibar.create(1, 0, { line: '' }, { format: '{bar} {line}', barsize: 20 });
  // A task has a bar here exactly while it is running and there is room for it on the screen.
  const bars = new Map<string, SingleBar>();

  const redraw = (): void => {
    const snapshot = progress.snapshot();
    const hidden = Math.max(0, progress.running.size - maxBars(stream));
    const more = hidden > 0 ? ` (+${hidden} not shown)` : '';
    summary.setTotal(Math.max(1, snapshot.total));
    summary.update(snapshot.done + snapshot.failed + snapshot.cancelled, { line: summaryLine(snapshot) + more });
    syncBars(multibar, bars, progress, maxBars(stream));
  };
  const timer = setInterval(redraw, options.interval ?? 200);
  const logs: Subscription = engine.events.pipe(ofType('status', 'retry')).subscribe((event) => {
    if (event.type === 'retry') multibar.log(`retry  ${event.name}: attempt ${event.attempt} in ${event.delay}ms after ${formatError(event.error)}\n`);
    else if (event.status === TaskStatus.FAILED) multibar.log(`FAILED ${event.name}: ${formatError(event.error)}\n`);
  });
  redraw();

  return {
    stop() {
      clearInterval(timer);
      logs.unsubscribe();
      for (const bar of bars.values()) multibar.remove(bar);
      bars.clear();
      redraw();
      multibar.stop();
    },
  };
}

/** Room for task bars below the summary line, leaving a line for the prompt. */
function maxBars(stream: NodeJS.WriteStream): number {
  return Math.max(1, (stream.rows ?? 24) - 3);
}

function syncBars(multibar: MultiBar, bars: Map<string, SingleBar>, progress: RunProgress, limit: number): void {
  for (const [id, bar] of bars) {
    if (!progress.running.has(id)) {
      multibar.remove(bar);
      bars.delete(id);
    }
  }
  for (const task of progress.running.values()) {
    const payload = { name: task.name, message: task.message ?? '' };
    const bar = bars.get(task.id);
    if (bar) bar.update(Math.round(task.progress * 100), payload);
    else if (bars.size < limit) bars.set(task.id, multibar.create(100, Math.round(task.progress * 100), payload));
  }
}
