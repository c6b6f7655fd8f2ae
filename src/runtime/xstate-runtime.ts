/**
 * The 'xstate' runtime: every task a root XState actor (`createActor`), exactly as XState runs it. An actor
 * is already a `TaskRun`, so this runtime adds nothing per task. It is the default, and the one inspection uses.
 */
import { createActor } from 'xstate';
import type { TaskMachine, TaskMachineInput } from '../machines/task.machine.js';
import type { RuntimeOptions, TaskRun, TaskRuntime } from './task-runtime.js';

export class XStateRuntime implements TaskRuntime {
  readonly kind = 'xstate';
  readonly #machine: TaskMachine;
  readonly #options: RuntimeOptions;

  constructor(machine: TaskMachine, options: RuntimeOptions) {
    this.#machine = machine;
    this.#options = options;
  }

  create(input: TaskMachineInput): TaskRun {
    return createActor(this.#machine, { input, clock: this.#options.clock, inspect: this.#options.inspect });
  }
}
