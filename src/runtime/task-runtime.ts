/**
 * The seam between the supervisor and whatever runs a task's statechart. The supervisor creates one `TaskRun`
 * per task, sends it events, asks whether an event is allowed, reads its state and context, and stops it;
 * nothing else in the engine knows which runtime runs. Two implement it:
 * - `'xstate'` (xstate-runtime.ts): every task a root XState actor; inspection sees real actors;
 * - `'compiled'` (compiled-runtime.ts): the same machine compiled once into a transition table (compile.ts),
 *   proven equal to XState by a differential property test (property-tests/differential.test.ts).
 * Both take the machine with the supervisor's implementations already provided, and the supervisor's clock.
 */
import type { InspectionEvent, Observer, StateValue } from 'xstate';
import type { TaskMachine, TaskMachineContext, TaskMachineEvent, TaskMachineInput } from '../machines/task.machine.js';
import type { Clock } from '../options.js';
import { CompiledRuntime } from './compiled-runtime.js';
import { XStateRuntime } from './xstate-runtime.js';

/** Which runtime runs the tasks' statecharts (the engine option `runtime`). */
export type RuntimeKind = 'xstate' | 'compiled';

/** Every runtime, for validating the option. */
export const RUNTIME_KINDS: readonly RuntimeKind[] = ['xstate', 'compiled'];

/** What a task's run shows of its current state (an XState snapshot fits). */
export interface TaskSnapshotView {
  readonly value: StateValue;
  readonly context: TaskMachineContext;
  /** Whether the machine takes `event` in this state: a transition whose guard passes and that has a target or actions. */
  can(event: TaskMachineEvent): boolean;
}

/**
 * One task's statechart, running (an XState actor fits). Events sent while the run is processing one
 * are handled after it, in order; events sent to a run that reached a final state, or was stopped, are dropped.
 */
export interface TaskRun {
  /** Enters the initial state (runs its entry actions and timers). */
  start(): void;
  send(event: TaskMachineEvent): void;
  /** The state as of the last event fully processed. */
  getSnapshot(): TaskSnapshotView;
  /** Stops it where it stands: its timers are cleared and later events dropped. */
  stop(): void;
}

export interface TaskRuntime {
  readonly kind: RuntimeKind;
  /** A new run of the machine for one task, not yet started (its input's `name` labels it for inspection). */
  create(input: TaskMachineInput): TaskRun;
}

export interface RuntimeOptions {
  /** Timers for `after` transitions. */
  readonly clock: Clock;
  /** XState inspection: only the 'xstate' runtime supports it (it has real actors to inspect). */
  readonly inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
}

/** The runtime of `kind` for `machine` (the task machine with its implementations provided). */
export function createTaskRuntime(kind: RuntimeKind, machine: TaskMachine, options: RuntimeOptions): TaskRuntime {
  return kind === 'compiled' ? new CompiledRuntime(machine, options.clock) : new XStateRuntime(machine, options);
}
