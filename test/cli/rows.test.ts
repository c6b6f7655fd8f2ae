/** The live view's rows at a terminal's width: what is kept, what goes, and that no row reaches the last column. */
import { describe, expect, it } from 'vitest';
import { summaryRow, taskRow } from '../../src/cli/rows.js';
import type { ProgressSnapshot } from '../../src/cli/run-progress.js';
import { summaryLine } from '../../src/cli/summary-line.js';

const snapshot = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  total: 40,
  done: 7,
  failed: 0,
  cancelled: 0,
  running: 6,
  queued: 27,
  limited: 0,
  earlier: 0,
  cacheHits: 0,
  deadlinesMissed: 0,
  stalledAttempts: 0,
  rate: 16.6,
  elapsedMs: 421,
  etaMs: 2000,
  ...over,
});

describe('the summary row', () => {
  it('says how many of the queued tasks a per-key limit holds back', () => {
    expect(summaryLine(snapshot({ limited: 5 }))).toContain('| 27 queued (5 held by limits) |');
    expect(summaryLine(snapshot())).toContain('| 27 queued |');
  });

  it('counts missed deadlines, stalled attempts and cache hits when there are some', () => {
    expect(summaryLine(snapshot({ deadlinesMissed: 2, stalledAttempts: 1, cacheHits: 3 }))).toBe(
      '7/40 done | 3 cached | 0 failed | 2 deadlines missed | 1 stalled attempt | 6 running | 27 queued | 16.6/s | 421ms elapsed | ~2.0s left',
    );
    expect(summaryLine(snapshot({ deadlinesMissed: 1, stalledAttempts: 2 }))).toContain('| 1 deadline missed | 2 stalled attempts |');
    expect(summaryLine(snapshot())).not.toMatch(/cached|deadline|stalled/);
  });

  it('keeps a missed deadline longer than the running and queued counts, and drops cache hits and stalled attempts first', () => {
    const late = snapshot({ deadlinesMissed: 2, stalledAttempts: 1, cacheHits: 3 });
    expect(summaryRow(late, 100)).toBe('7/40 done | 0 failed | 2 deadlines missed | 6 running | 27 queued | 421ms elapsed | ~2.0s left');
    expect(summaryRow(late, 75)).toBe('7/40 done | 0 failed | 2 deadlines missed | 421ms elapsed | ~2.0s left');
    for (const columns of [40, 50, 60, 70, 80, 100, 120, 160]) expect(summaryRow(late, columns).length).toBeLessThan(columns);
  });

  it('at 120 columns shows a 20-character bar and the whole line', () => {
    expect(summaryRow(snapshot(), 120)).toBe(
      '====---------------- 7/40 done | 0 failed | 6 running | 27 queued | 16.6/s | 421ms elapsed | ~2.0s left',
    );
  });

  it('at 80 columns drops the bar and the rate, and keeps the time elapsed and the estimate', () => {
    expect(summaryRow(snapshot(), 80)).toBe('7/40 done | 0 failed | 6 running | 27 queued | 421ms elapsed | ~2.0s left');
  });

  it('drops the least useful counts next (queued, then running), never done, elapsed or left, and stays under the width', () => {
    const busy = snapshot({
      done: 1200,
      total: 10_000,
      failed: 31,
      cancelled: 12,
      running: 16,
      queued: 8700,
      elapsedMs: 3_725_000,
      etaMs: 27_000_000,
    });
    const row = summaryRow(busy, 80, 4);
    expect(row).toBe('1200/10000 done | 31 failed | 12 cancelled | 1h 02m elapsed | ~7h 30m left');
    expect(summaryRow(busy, 110, 4)).toBe(
      '1200/10000 done | 31 failed | 12 cancelled | 16 running (+4 not shown) | 1h 02m elapsed | ~7h 30m left',
    );
    expect(summaryRow(busy, 60, 4)).toBe('1200/10000 done | 31 failed | 1h 02m elapsed | ~7h 30m left');
    for (const columns of [40, 50, 60, 70, 80, 100, 120, 160]) expect(summaryRow(busy, columns, 4).length).toBeLessThan(columns);
  });

  it('says when time left is unknown (nothing finished yet)', () => {
    expect(summaryRow(snapshot({ done: 0, etaMs: undefined }), 80)).toMatch(/\| 421ms elapsed \| time left unknown$/);
  });

  it("the plain view's line is the whole line, whatever the width", () => {
    expect(summaryLine(snapshot({ cancelled: 2 }))).toBe(
      '7/40 done | 0 failed | 2 cancelled | 6 running | 27 queued | 16.6/s | 421ms elapsed | ~2.0s left',
    );
  });
});

describe("a running task's row", () => {
  const task = { id: 'x', name: 'extract:helsinki', progress: 0.5, message: 'bootstrap 2000/4000' };

  it('shows the bar, the percentage, the name and the message', () => {
    expect(taskRow(task, 120)).toBe('  ==========----------  50% extract:helsinki bootstrap 2000/4000');
    expect(taskRow(task, 80)).toBe('  =====-----  50% extract:helsinki bootstrap 2000/4000');
  });

  it('cuts the message before the name, with an ellipsis, to stay under the width', () => {
    const long = {
      ...task,
      name: 'a-task-with-a-rather-long-name',
      message: 'copying reports/2026/12/quarterly-summary-with-a-long-name.csv',
    };
    const row = taskRow(long, 80);
    expect(row).toBe('  =====-----  50% a-task-with-a-rather-long-name copying reports/2026/12/quart…');
    expect(row.length).toBe(79);
    expect(taskRow({ ...long, name: 'n'.repeat(100) }, 80)).toBe(`  =====-----  50% ${'n'.repeat(60)}…`);
  });
});
