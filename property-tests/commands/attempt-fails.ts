import type fc from 'fast-check';
import { NonRetryableError } from '../../src/index.js';
import type { TaskModel, TaskSystem } from '../task-model.js';

/**
 * The promise of a call of the task's function rejects: the running attempt's
 * (age 0 while RUNNING) fails; an earlier, abandoned attempt's is ignored.
 */
export class AttemptFailsCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(
    readonly age: number,
    readonly nonRetryable: boolean,
  ) {}

  check(model: Readonly<TaskModel>): boolean {
    return model.config.kind === 'fn' && model.attempts > this.age;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const current = this.age === 0 && model.isRunning;
    const message = `call ${model.attempts - this.age} failed`;
    const error = this.nonRetryable ? new NonRetryableError(message) : new Error(message);
    system.settleCall(this.age, { error });
    if (current) model.attemptFailed(error, !this.nonRetryable);
    await system.verify(model);
  }

  toString(): string {
    return `attempt-fails(age ${this.age}${this.nonRetryable ? ', NonRetryableError' : ''})`;
  }
}
