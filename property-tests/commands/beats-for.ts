import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';
import { advanceTo } from './timer-fires.js';

/**
 * Time passes in `gaps` (ms), and after each the latest call of the task's function beats (`ctx.heartbeat()`, no
 * details), as a function that beats while it works does: the running attempt stalls only when a gap since its
 * start or its last beat reaches `heartbeatTimeout`; its timeout fires as ever; a beat after its attempt ended is
 * not the task's.
 */
export class BeatsForCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(readonly gaps: readonly number[]) {}

  check(model: Readonly<TaskModel>): boolean {
    return model.config.kind === 'fn' && model.attempts > 0;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    for (const gap of this.gaps) {
      await advanceTo(model, system, model.now + gap);
      if (model.attempts === 0) continue;
      system.beat(0, undefined);
      model.heartbeat(0, undefined);
      await system.verify(model);
    }
  }

  toString(): string {
    return `beats-for(${this.gaps.join(', ')} ms)`;
  }
}
