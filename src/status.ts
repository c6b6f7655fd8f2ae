/** The public vocabulary: statuses and priorities. */

/** A task's public status. queued and retrying tasks show as PENDING. */
export const TaskStatus = {
  PENDING: 'PENDING',
  WAITING: 'WAITING',
  RUNNING: 'RUNNING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/** Priority levels; among ready tasks CRITICAL runs first, FIFO within a level. */
export const TaskPriority = { LOW: 0, NORMAL: 1, HIGH: 2, CRITICAL: 3 } as const;
export type TaskPriority = (typeof TaskPriority)[keyof typeof TaskPriority];

export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set([TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]);

export function isTerminal(status: TaskStatus): boolean {
  return status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED';
}
