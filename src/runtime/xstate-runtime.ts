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

  /**
   * The actor's `id` is the task's label ({@link actorLabel}), which inspectors show as the actor's name
   * (Stately's shows `actorRef.id`), and its `systemId` the task's id, so that inspection events name the task.
   */
  create(input: TaskMachineInput): TaskRun {
    const { clock, inspect } = this.#options;
    const id = actorLabel(input.id, input.name ?? input.id);
    return createActor(this.#machine, { input, clock, inspect, id, systemId: input.id });
  }
}

/** A task actor's id: the task's name, followed by its id in parentheses when the id is not the name. */
export function actorLabel(id: string, name: string): string {
  return id === name ? name : `${name} (${id})`;
}

/** The task's name in a label made by {@link actorLabel} for the task `id`; undefined for any other string. */
export function nameInLabel(label: string, id: string): string | undefined {
  if (label === id) return id;
  const suffix = ` (${id})`;
  return label.endsWith(suffix) && label.length > suffix.length ? label.slice(0, -suffix.length) : undefined;
}
