/**
 * The view when stdout is not a terminal (a pipe, a file, CI logs): one plain line per
 * status change or retry, prefixed with the elapsed time, and the summary line every `interval` ms.
 * Tasks that finished in an earlier run (restored from a store) are counted, not listed.
 */
import type { Subscription } from 'rxjs';
import { ofType, type TaskEngine } from '../index.js';
import { formatDuration, formatError, rateLimitedLine } from './format.js';
import type { RunProgress } from './run-progress.js';
import { summaryLine } from './summary-line.js';
import type { View, WriteLine } from './view.js';

export interface PlainViewOptions {
  readonly write: WriteLine;
  /** ms between summary lines. @default 10_000 */
  readonly interval?: number;
}

export function startPlainView(engine: TaskEngine, progress: RunProgress, options: PlainViewOptions): View {
  const { write } = options;
  const stamp = (): string => formatDuration(progress.elapsedMs).padStart(7);
  const subscription: Subscription = engine.events.pipe(ofType('status', 'retry', 'rate-limited')).subscribe((event) => {
    if (event.type === 'rate-limited') {
      write(`${stamp()}  rate-limited ${rateLimitedLine(event)}`);
      return;
    }
    if (progress.isReplay(event)) return;
    if (event.type === 'retry') {
      write(`${stamp()}  ${event.name}  retry: attempt ${event.attempt} in ${event.delay}ms after ${formatError(event.error)}`);
      return;
    }
    const why = event.error === undefined ? '' : `  (${formatError(event.error)})`;
    write(`${stamp()}  ${event.name}  ${event.previous} -> ${event.status}${why}`);
  });
  const timer = setInterval(() => write(`${stamp()}  ${summaryLine(progress.snapshot())}`), options.interval ?? 10_000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      subscription.unsubscribe();
    },
  };
}
