/**
 * The view when stdout is not a terminal (a pipe, a file, CI logs): one plain line per
 * status change, retry (a stalled attempt's named as such), rate limit or missed deadline, prefixed with the elapsed
 * time (a completion from the results cache marked `(cached)`), and the summary line every `interval` ms.
 * Tasks that finished in an earlier run (restored from a store) are counted, not listed.
 */
import type { Subscription } from 'rxjs';
import { ofType, type RetryEvent, type TaskEngine } from '../index.js';
import { deadlineLine, formatDuration, formatError, rateLimitedLine, stallText } from './format.js';
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
  const subscription: Subscription = engine.events.pipe(ofType('status', 'retry', 'rate-limited', 'deadline')).subscribe((event) => {
    if (event.type === 'rate-limited') {
      write(`${stamp()}  rate-limited ${rateLimitedLine(event)}`);
      return;
    }
    if (event.type === 'deadline') {
      write(`${stamp()}  ${deadlineLine(event)}`);
      return;
    }
    if (progress.isReplay(event)) return;
    if (event.type === 'retry') {
      write(`${stamp()}  ${event.name}  ${retryText(event)}`);
      return;
    }
    const why = event.error === undefined ? '' : `  (${formatError(event.error)})`;
    write(`${stamp()}  ${event.name}  ${event.previous} -> ${event.status}${event.cached === true ? ' (cached)' : ''}${why}`);
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

/** `retry: attempt 2 in 1000ms after Error: 503`; after a stalled attempt `stalled: no heartbeat for 500ms; retry: ...`. */
function retryText(event: RetryEvent): string {
  const stall = stallText(event.error);
  const retry = `retry: attempt ${event.attempt} in ${event.delay}ms`;
  return stall === undefined ? `${retry} after ${formatError(event.error)}` : `stalled: ${stall}; ${retry}`;
}
