import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/**
 * `ctx.heartbeat(details)` from a call of the task's function: the running attempt's (age 0 while RUNNING) is
 * alive again, and its details (when given) are the next attempt's `ctx.lastHeartbeat`; an earlier, abandoned
 * attempt's beat is not the task's.
 */
export class HeartbeatCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(
    readonly age: number,
    readonly details: unknown,
  ) {}

  check(model: Readonly<TaskModel>): boolean {
    return model.config.kind === 'fn' && model.attempts > this.age;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    system.beat(this.age, this.details);
    model.heartbeat(this.age, this.details);
    await system.verify(model);
  }

  toString(): string {
    return `heartbeat(age ${this.age}${this.details === undefined ? '' : `, ${JSON.stringify(this.details)}`})`;
  }
}
