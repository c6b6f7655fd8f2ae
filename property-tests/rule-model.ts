/**
 * The model's own statement of the trigger rules, written apart from src/machines/trigger-rules.ts: each rule is a
 * condition on how all the dependencies end, and what the task may do now is read off every way the dependencies
 * still running could end (brute force; a property's task has at most three dependencies).
 * - ready: the rule is met now (`one_success` and `one_failed` as soon as their witness ended; the others once every
 *   dependency ended and the condition holds);
 * - doomed: no way the others could end makes the condition hold;
 * - open: neither.
 */
import { TaskStatus } from '../src/index.js';
import type { TriggerRule } from '../src/machines/trigger-rules.js';

type End = 'S' | 'F' | 'C';

const CONDITION: Readonly<Record<TriggerRule, (ends: readonly End[]) => boolean>> = {
  all_success: (ends) => ends.every((e) => e === 'S'),
  all_done: () => true,
  all_failed: (ends) => ends.every((e) => e === 'F'),
  one_success: (ends) => ends.length === 0 || ends.includes('S'),
  one_failed: (ends) => ends.length === 0 || ends.includes('F'),
  none_failed: (ends) => !ends.includes('F'),
  none_failed_min_one_success: (ends) => !ends.includes('F') && (ends.length === 0 || ends.includes('S')),
};

function endOf(status: TaskStatus): End | undefined {
  if (status === TaskStatus.COMPLETED) return 'S';
  if (status === TaskStatus.FAILED) return 'F';
  if (status === TaskStatus.CANCELLED) return 'C';
  return undefined;
}

/** Every way the dependencies could end, given how those that ended did. */
function completions(statuses: readonly TaskStatus[]): End[][] {
  let ways: End[][] = [[]];
  for (const status of statuses) {
    const end = endOf(status);
    const options: End[] = end === undefined ? ['S', 'F', 'C'] : [end];
    ways = ways.flatMap((way) => options.map((option) => [...way, option]));
  }
  return ways;
}

export type RuleState = 'ready' | 'doomed' | 'open';

export function ruleState(rule: TriggerRule, statuses: readonly TaskStatus[]): RuleState {
  const ended = statuses.map(endOf);
  const condition = CONDITION[rule];
  if (!completions(statuses).some(condition)) return 'doomed';
  if (rule === 'one_success' && (ended.includes('S') || statuses.length === 0)) return 'ready';
  if (rule === 'one_failed' && (ended.includes('F') || statuses.length === 0)) return 'ready';
  if (rule !== 'one_success' && rule !== 'one_failed' && ended.every((e) => e !== undefined) && condition(ended as End[])) return 'ready';
  return 'open';
}

/** The rules under which a failed dependency dooms a task with ERR_DEPENDENCY_FAILED (the others skip it). */
export const FAILS_ON_FAILURE: ReadonlySet<TriggerRule> = new Set(['all_success', 'none_failed', 'none_failed_min_one_success']);
