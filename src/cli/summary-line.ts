/** The one-line run summary shared by the live and plain views, and its shorter forms for narrow terminals. */
import { formatDuration } from './format.js';
import type { ProgressSnapshot } from './run-progress.js';

/** A part of the summary line; when the line does not fit, parts are dropped lowest `keep` first. */
interface Part {
  readonly text: string;
  readonly keep: number;
}

const ALWAYS = Number.POSITIVE_INFINITY;

/**
 * What to drop from the full line, in order, to make it shorter: the rate first, then the cache hits, stalled attempts,
 * queued, running, missed deadlines, cancelled, failed.
 */
const DROP_LEVELS = [0, 1, 2, 3, 4, 5, 6, 7, 8] as const;

/** `1 stalled attempt`, `2 stalled attempts`: a part shown only when its count is not zero. */
function counted(n: number, one: string, many: string, keep: number): Part[] {
  return n > 0 ? [{ text: `${n} ${n === 1 ? one : many}`, keep }] : [];
}

function parts(s: ProgressSnapshot, hidden: number): Part[] {
  return [
    { text: `${s.done}/${s.total} done`, keep: ALWAYS },
    ...counted(s.cacheHits, 'cached', 'cached', 2),
    { text: `${s.failed} failed`, keep: 8 },
    ...counted(s.cancelled, 'cancelled', 'cancelled', 7),
    ...counted(s.deadlinesMissed, 'deadline missed', 'deadlines missed', 6),
    ...counted(s.stalledAttempts, 'stalled attempt', 'stalled attempts', 3),
    { text: `${s.running} running${hidden > 0 ? ` (+${hidden} not shown)` : ''}`, keep: 5 },
    { text: `${s.queued} queued${s.limited > 0 ? ` (${s.limited} held by limits)` : ''}`, keep: 4 },
    { text: `${s.rate.toFixed(1)}/s`, keep: 1 },
    { text: `${formatDuration(s.elapsedMs)} elapsed`, keep: ALWAYS },
    { text: s.etaMs === undefined ? 'time left unknown' : `~${formatDuration(s.etaMs)} left`, keep: ALWAYS },
  ];
}

const join = (kept: readonly Part[]): string => kept.map((part) => part.text).join(' | ');

/** `12/40 done | 1 failed | 4 running | 23 queued | 2.1/s | 5.7s elapsed | ~13.1s left` */
export function summaryLine(s: ProgressSnapshot, hidden = 0): string {
  return join(parts(s, hidden));
}

/**
 * The summary line in at most `max` characters: the full line when it fits, else without the parts that matter least
 * (the rate, then the cache hits, stalled attempts, queued, running, missed deadlines, cancelled and failed counts).
 * Done, elapsed time and the estimate are kept; `undefined` when even they do not fit.
 */
export function shortSummaryLine(s: ProgressSnapshot, max: number, hidden = 0): string | undefined {
  const all = parts(s, hidden);
  for (const level of DROP_LEVELS) {
    const line = join(all.filter((part) => part.keep > level));
    if (line.length <= max) return line;
  }
  return undefined;
}
