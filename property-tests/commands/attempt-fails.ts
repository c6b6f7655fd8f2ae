import type fc from 'fast-check';
import { NonRetryableError, WorkerCrashedError } from '../../src/index.js';
import type { Failure, TaskModel, TaskSystem } from '../task-model.js';

/** The error an attempt's function throws for each kind of failure. */
function errorOf(failure: Failure, message: string): Error {
  switch (failure) {
    case 'non-retryable':
      return new NonRetryableError(message);
    case 'process-crash':
      return new WorkerCrashedError(`${message}: its worker process died`, { worker: 'process' });
    case 'thread-crash':
      return new WorkerCrashedError(`${message}: its worker thread died`, { worker: 'thread' });
    default:
      return new Error(message);
  }
}

/**
 * The promise of a call of the task's function rejects: the running attempt's
 * (age 0 while RUNNING) fails; an earlier, abandoned attempt's is ignored.
 */
export class AttemptFailsCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(
    readonly age: number,
    readonly failure: Failure,
  ) {}

  check(model: Readonly<TaskModel>): boolean {
    return model.config.kind === 'fn' && model.attempts > this.age;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const current = this.age === 0 && model.isRunning;
    const error = errorOf(this.failure, `call ${model.attempts - this.age} failed`);
    system.settleCall(this.age, { error });
    if (current) model.attemptFailed(error, this.failure);
    await system.verify(model);
  }

  toString(): string {
    return `attempt-fails(age ${this.age}${this.failure === 'retryable' ? '' : `, ${this.failure}`})`;
  }
}
