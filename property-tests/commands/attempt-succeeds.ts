import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/**
 * The promise of a call of the task's function resolves: the running attempt's
 * (age 0 while RUNNING) completes the task; an earlier, abandoned attempt's is ignored.
 */
export class AttemptSucceedsCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(readonly age: number) {}

  check(model: Readonly<TaskModel>): boolean {
    return model.config.kind === 'fn' && model.attempts > this.age;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const current = this.age === 0 && model.isRunning;
    const result = { call: model.attempts - this.age };
    system.settleCall(this.age, { result });
    if (current) model.attemptSucceeded(result);
    await system.verify(model);
  }

  toString(): string {
    return `attempt-succeeds(age ${this.age})`;
  }
}
