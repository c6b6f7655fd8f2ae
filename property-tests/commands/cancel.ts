import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/** cancelTask: allowed from any non-terminal status. */
export class CancelCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  check(): boolean {
    return true;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const { engine, taskId } = system;
    if (!model.terminal) {
      engine.cancelTask(taskId, 'cancelled by the test');
      model.cancel();
    } else {
      system.expectRefused(() => engine.cancelTask(taskId, 'cancelled by the test'));
    }
    await system.verify(model);
  }

  toString(): string {
    return 'cancelTask';
  }
}
