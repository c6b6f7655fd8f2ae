import type fc from 'fast-check';
import type { TaskModel, TaskSystem } from '../task-model.js';

/** updateTaskProgress with a valid fraction: allowed only while RUNNING. */
export class ProgressCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(readonly fraction: number) {}

  check(): boolean {
    return true;
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const { engine, taskId } = system;
    if (model.isRunning) {
      engine.updateTaskProgress(taskId, this.fraction);
      model.reportProgress(this.fraction);
    } else {
      system.expectRefused(() => engine.updateTaskProgress(taskId, this.fraction));
    }
    await system.verify(model);
  }

  toString(): string {
    return `updateTaskProgress(${this.fraction})`;
  }
}
