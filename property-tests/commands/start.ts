import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/** startTask: allowed once, from PENDING; refused afterwards. */
export class StartCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  check(): boolean {
    return true;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const { engine, taskId } = system;
    if (model.canStart) {
      engine.startTask(taskId);
      model.start();
    } else {
      system.expectRefused(() => engine.startTask(taskId));
    }
    await system.verify(model);
  }

  toString(): string {
    return 'startTask';
  }
}
