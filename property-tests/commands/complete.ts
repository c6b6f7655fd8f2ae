import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/** completeTask from outside: allowed only while RUNNING. */
export class CompleteCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  check(): boolean {
    return true;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const { engine, taskId } = system;
    const result = { from: 'completeTask' };
    if (model.isRunning) {
      engine.completeTask(taskId, result);
      model.complete(result);
    } else {
      system.expectRefused(() => engine.completeTask(taskId, result));
    }
    await system.verify(model);
  }

  toString(): string {
    return 'completeTask';
  }
}
