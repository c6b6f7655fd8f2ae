/** The one-line run summary shared by the live and plain views. */
import { formatDuration } from './format.js';
import type { ProgressSnapshot } from './run-progress.js';

/** `12/40 done | 1 failed | 4 running | 23 queued | 2.1/s | 5.7s elapsed | ~13.1s left` */
export function summaryLine(s: ProgressSnapshot): string {
  const parts = [
    `${s.done}/${s.total} done`,
    `${s.failed} failed`,
    ...(s.cancelled > 0 ? [`${s.cancelled} cancelled`] : []),
    `${s.running} running`,
    `${s.queued} queued`,
    `${s.rate.toFixed(1)}/s`,
    `${formatDuration(s.elapsedMs)} elapsed`,
    s.etaMs === undefined ? 'time left unknown' : `~${formatDuration(s.etaMs)} left`,
  ];
  return parts.join(' | ');
}
