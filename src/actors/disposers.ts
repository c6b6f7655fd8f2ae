/**
 * Running a task's disposers: each exactly once, last registered first, one
 * after another; a disposer's error is reported and never changes the task's
 * outcome or stops the disposers after it.
 */
import type { Disposer } from './task-record.js';

export async function runDisposers(disposers: readonly Disposer[], onError: (error: unknown) => void): Promise<void> {
  for (let i = disposers.length - 1; i >= 0; i--) {
    try {
      await (disposers[i] as Disposer)();
    } catch (error) {
      onError(error);
    }
  }
}
