/**
 * The live view's rows, drawn for the terminal's width at each redraw: a row never reaches the last column
 * (with line wrap off, a longer one would overwrite it; with it on, it would wrap and throw off the redraw).
 */
import { fit, formatDuration } from './format.js';
import type { ProgressSnapshot, RunningTask } from './run-progress.js';
import { shortSummaryLine, summaryLine } from './summary-line.js';

/** `=====---------------`: `fraction` of `size` characters done. */
export function drawBar(fraction: number, size: number): string {
  const done = Math.round(Math.min(1, Math.max(0, fraction)) * size);
  return '='.repeat(done) + '-'.repeat(size - done);
}

/** Bar widths by terminal width: a full bar from 100 columns, a short one below. */
const barSize = (columns: number): number => (columns >= 100 ? 20 : 10);

/**
 * The summary row: a bar of finished tasks and the summary line, in fewer than `columns` characters. A narrow
 * terminal loses the bar, then the least useful counts ({@link shortSummaryLine}), never the time elapsed and left.
 */
export function summaryRow(s: ProgressSnapshot, columns: number, hidden = 0): string {
  const max = columns - 1;
  const full = summaryLine(s, hidden);
  const finished = s.total === 0 ? 0 : (s.done + s.failed + s.cancelled) / s.total;
  for (const size of [20, 10]) if (size + 1 + full.length <= max) return `${drawBar(finished, size)} ${full}`;
  return shortSummaryLine(s, max, hidden) ?? fit(`${s.done}/${s.total} done | ${formatDuration(s.elapsedMs)} elapsed`, max);
}

/** `  ==========----------  50% extract:helsinki bootstrap 2000/4000`, the name kept before the message. */
export function taskRow(task: RunningTask, columns: number): string {
  const percent = Math.round(task.progress * 100);
  const head = `  ${drawBar(task.progress, barSize(columns))} ${String(percent).padStart(3)}% `;
  const room = columns - 1 - head.length;
  const name = fit(task.name, room);
  const left = room - name.length - 1;
  return left < 2 || !task.message ? `${head}${name}` : `${head}${name} ${fit(task.message, left)}`;
}
