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
  // Bar slots for running tasks, as many as were ever needed at once (and fit on the screen).
  const bars: SingleBar[] = [];

  const redraw = (): void => {
    const snapshot = progress.snapshot();
    const hidden = Math.max(0, progress.running.size - maxBars(stream));
    const more = hidden > 0 ? ` (+${hidden} not shown)` : '';
    summary.setTotal(Math.max(1, snapshot.total));
    // Every line stays shorter than the terminal: a line that fills or wraps it throws off the redraw in place.
    const width = stream.columns ?? 80;
    summary.update(snapshot.done + snapshot.failed + snapshot.cancelled, { line: fit(summaryLine(snapshot) + more, width - 22) });
    syncBars(multibar, bars, progress, maxBars(stream), width - 30);
  };
  const timer = setInterval(redraw, options.interval ?? 200);
  const logs: Subscription = engine.events.pipe(ofType('status', 'retry')).subscribe((event) => {
    if (progress.isReplay(event)) return;
    if (event.type === 'retry') multibar.log(`retry  ${event.name}: attempt ${event.attempt} in ${event.delay}ms after ${formatError(event.error)}\n`);
    else if (event.status === TaskStatus.FAILED) multibar.log(`FAILED ${event.name}: ${formatError(event.error)}\n`);
  });
  redraw();

  return {
    stop() {
      clearInterval(timer);
      logs.unsubscribe();
      for (const bar of bars) multibar.remove(bar);
      bars.length = 0;
      redraw();
      multibar.stop();
    },
  };
}

/** Room for task bars below the summary line, leaving a line for the prompt. */
function maxBars(stream: NodeJS.WriteStream): number {
  return Math.max(1, (stream.rows ?? 24) - 3);
}

/** `text` cut to at most `room` characters (at least 10), with an ellipsis when cut. */
function fit(text: string, room: number): string {
  const max = Math.max(10, room);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Shows the running tasks in a fixed set of bar slots, created as needed and never removed while the
 * view runs (cli-progress's MultiBar.remove() leaves the cursor a line off, so lines drift); a slot
 * with no running task shows as idle.
 */
function syncBars(multibar: MultiBar, slots: SingleBar[], progress: RunProgress, limit: number, room: number): void {
  const running = [...progress.running.values()].slice(0, limit);
  while (slots.length < running.length) slots.push(multibar.create(100, 0, { name: '', message: '' }));
  slots.forEach((slot, i) => {
    const task = running[i];
    if (task === undefined) {
      slot.update(0, { name: '(idle)', message: '' });
      return;
    }
    const name = fit(task.name, room);
    slot.update(Math.round(task.progress * 100), { name, message: fit(task.message ?? '', room - name.length - 1) });
  });
}
