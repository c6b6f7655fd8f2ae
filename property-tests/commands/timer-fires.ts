import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/**
 * Moves the simulated clock to `target`, stopping at every timer the model has due on the way so each is checked
 * at its time (an attempt's timeout and its stall due at one instant: the engine's error says which fired). A
 * timer set with no delay while another fires (a zero backoff) is due at once: the clock is nudged by 0 ms to fire
 * it (SimulatedClock may or may not have fired it already) before the engine is compared with the model.
 */
export async function advanceTo(model: TaskModel, system: TaskSystem, target: number): Promise<void> {
  for (let next = model.due; next !== undefined && next <= target; next = model.due) {
    await system.advance(next - model.now);
    model.fireNextTimer(() => system.lastEnding());
    if (model.due !== model.now) await system.verify(model);
  }
  await system.advance(target - model.now);
  model.advanceTo(target);
  await system.verify(model);
}

/**
 * Moves the simulated clock to the model's next due timer (`'next'`), to 1 ms before it (`'before-next'`: a timer
 * the engine fires early shows), or by `ms`.
 */
export class TimerFiresCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(readonly ms: number | 'next' | 'before-next') {}

  check(model: Readonly<TaskModel>): boolean {
    return typeof this.ms === 'number' || model.due !== undefined;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const due = model.due as number;
    const target = this.ms === 'next' ? due : this.ms === 'before-next' ? Math.max(model.now, due - 1) : model.now + this.ms;
    await advanceTo(model, system, target);
  }

  toString(): string {
    return typeof this.ms === 'number' ? `timer-fires(+${this.ms} ms)` : `timer-fires(${this.ms})`;
  }
}
