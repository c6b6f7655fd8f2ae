import type fc from 'fast-check';
import { isTerminal, type TaskModel, type TaskSystem } from '../task-model.js';

export type DependencyVerb = 'start' | 'complete' | 'fail' | 'cancel';

/** A verb the dependency (an external task) allows, and its effect on the task. */
export class DependencyCommand implements fc.AsyncCommand<TaskModel, TaskSystem> {
  constructor(readonly verb: DependencyVerb) {}

  check(model: Readonly<TaskModel>): boolean {
    const status = model.dependency;
    if (status === undefined) return false;
    if (this.verb === 'start') return status === 'PENDING';
    if (this.verb === 'cancel') return !isTerminal(status);
    return status === 'RUNNING';
  }

  async run(model: TaskModel, system: TaskSystem): Promise<void> {
    const { engine } = system;
    const id = system.dependencyId as string;
    if (this.verb === 'start') {
      engine.startTask(id);
      model.dependencyStarted();
    } else if (this.verb === 'complete') {
      engine.completeTask(id, 'dependency result');
      model.dependencyEnded('COMPLETED');
    } else if (this.verb === 'fail') {
      const error = new Error('dependency failed');
      engine.failTask(id, error);
      model.dependencyEnded('FAILED', error);
    } else {
      engine.cancelTask(id, 'dependency cancelled by the test');
      model.dependencyEnded('CANCELLED');
    }
    await system.verify(model);
  }

  toString(): string {
    return `dependency-${this.verb}`;
  }
}
