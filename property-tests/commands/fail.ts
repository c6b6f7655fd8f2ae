import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/** failTask from outside: allowed only while RUNNING, and never retried. */
export class FailCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  check(): boolean {
    return true;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const { engine, taskId } = system;
    const error = new Error('failed from outside');
    if (model.isRunning) {
      engine.failTask(taskId, error);
      model.fail(error);
    } else {
      system.expectRefused(() => engine.failTask(taskId, error));
    }
    await system.verify(model);
  }

  toString(): string {
    return 'failTask';
  }
}
