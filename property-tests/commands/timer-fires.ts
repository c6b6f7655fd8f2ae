import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/**
 * Moves the simulated clock to the model's next due timer (`'next'`) or by
 * `ms`, stopping at every timer due on the way so each is checked at its time.
 * A timer set with no delay while another fires (a zero backoff) is due at
 * once: the clock is nudged by 0 ms to fire it (SimulatedClock may or may not
 * have fired it already) before the engine is compared with the model.
 */
export class TimerFiresCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(readonly ms: number | 'next') {}

  check(model: Readonly<TaskModel>): boolean {
    return this.ms !== 'next' || model.due !== undefined;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const target = this.ms === 'next' ? (model.due as number) : model.now + this.ms;
    for (let due = model.due; due !== undefined && due <= target; due = model.due) {
      await system.advance(due - model.now);
      model.fireNextTimer();
      if (model.due !== model.now) await system.verify(model);
    }
    await system.advance(target - model.now);
    model.advanceTo(target);
    await system.verify(model);
  }

  toString(): string {
    return this.ms === 'next' ? 'timer-fires(next)' : `timer-fires(+${this.ms} ms)`;
  }
}
