/**
 * Trigger rules (Airflow's vocabulary): when a task's dependencies let it run. Pure: the task statechart's guards
 * ask `verdictOf` what the dependencies that have ended so far mean for the task. COMPLETED counts as success, FAILED
 * as failed, CANCELLED as skipped. A task without dependencies is ready under every rule.
 */

export const TRIGGER_RULES = [
  'all_success',
  'all_done',
  'all_failed',
  'one_success',
  'one_failed',
  'none_failed',
  'none_failed_min_one_success',
] as const;

export type TriggerRule = (typeof TRIGGER_RULES)[number];

export const DEFAULT_TRIGGER: TriggerRule = 'all_success';

/** How a task's dependencies have ended so far. */
export interface DependencyCounts {
  /** The task's dependencies (distinct ids). */
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
}

/**
 * What the rule says:
 * - `met`: the task may run now (the `one_*` rules do not wait for the other dependencies);
 * - `open`: not yet decided, it waits;
 * - `failed`: a failure makes the rule unmeetable (`all_success`, `none_failed`, `none_failed_min_one_success`):
 *   the task FAILS with ERR_DEPENDENCY_FAILED;
 * - `cancelled`: under `all_success`, a cancelled dependency cancels it (ERR_TASK_CANCELLED), as it always did;
 * - `skipped`: the rule can no longer be met otherwise: CANCELLED with ERR_TRIGGER_RULE.
 */
export type RuleVerdict = 'met' | 'open' | 'failed' | 'cancelled' | 'skipped';

/** The verdict on the counts themselves (the machine's guards call it on every dependency's end, allocating nothing). */
export function verdictOf(rule: TriggerRule, total: number, succeeded: number, failed: number, skipped: number): RuleVerdict {
  const done = succeeded + failed + skipped === total;
  switch (rule) {
    case 'all_success':
      return failed > 0 ? 'failed' : skipped > 0 ? 'cancelled' : done ? 'met' : 'open';
    case 'all_done':
      return done ? 'met' : 'open';
    case 'all_failed':
      return succeeded + skipped > 0 ? 'skipped' : done ? 'met' : 'open';
    case 'one_success':
      return succeeded > 0 || total === 0 ? 'met' : done ? 'skipped' : 'open';
    case 'one_failed':
      return failed > 0 || total === 0 ? 'met' : done ? 'skipped' : 'open';
    case 'none_failed':
      return failed > 0 ? 'failed' : done ? 'met' : 'open';
    case 'none_failed_min_one_success':
      return failed > 0 ? 'failed' : !done ? 'open' : succeeded > 0 || total === 0 ? 'met' : 'skipped';
  }
}

/** The counts after one more dependency ended as `outcome`. */
export function withOutcome(counts: DependencyCounts, outcome: 'succeeded' | 'failed' | 'skipped'): DependencyCounts {
  return { ...counts, [outcome]: counts[outcome] + 1 };
}

/** How the dependencies ended, for a message: "2 completed, 1 failed, 0 cancelled of 3". */
export function describeCounts(counts: DependencyCounts): string {
  return `${counts.succeeded} completed, ${counts.failed} failed, ${counts.skipped} cancelled of ${counts.total}`;
}
