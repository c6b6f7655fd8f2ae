/**
 * The 'compiled' runtime: the task machine compiled once into a transition table (compile.ts), and per task a
 * small object holding its leaf state, its context and its timers. It runs an event the way an XState actor
 * does, step for step (property-tests/differential.test.ts proves the table equal to XState's own transitions):
 * - the first candidate whose guard passes is taken; its steps run in order, named actions at once with the
 *   context as it stands at that step, `assign` making a new context object (never changing one an action saw);
 * - the new state and context are committed when the event is done; then the timers it cancelled and started
 *   (`after`), in order, as XState defers them;
 * - an event sent while one is processed waits its turn (XState's mailbox); a run that reached a final state,
 *   or was stopped, drops events and has no timers;
 * - an action or a guard that throws stops the run and the error is reported as XState reports it (thrown on a later
 *   tick; XState wraps a guard's error in one naming the guard and the state, this reports the guard's own).
 * Actions get `{ context, event }` (no `self` or `system`: the task machine's implementations use neither).
 */
import type { EventObject, StateValue } from 'xstate';
import type { TaskMachine, TaskMachineContext, TaskMachineEvent, TaskMachineInput } from '../machines/task.machine.js';
import type { Clock } from '../options.js';
import { compileMachine, paramsOf, type ActionArgs, type Candidate, type CompiledMachine, type Leaf, type Step } from './compile.js';
import type { TaskRun, TaskRuntime, TaskSnapshotView } from './task-runtime.js';

/** The table compiled for each provided machine, so engines sharing one pay for the compilation once. */
const compiled = new WeakMap<TaskMachine, CompiledMachine>();

export class CompiledRuntime implements TaskRuntime {
  readonly kind = 'compiled';
  readonly #env: RunEnv;

  constructor(machine: TaskMachine, clock: Clock) {
    let table = compiled.get(machine);
    if (table === undefined) {
      table = compileMachine(machine);
      compiled.set(machine, table);
    }
    this.#env = { table, clock };
  }

  create(input: TaskMachineInput): TaskRun {
    return new CompiledRun(this.#env, input);
  }
}

interface RunEnv {
  readonly table: CompiledMachine;
  readonly clock: Clock;
}

const NOT_STARTED = 0;
const ACTIVE = 1;
/** Reached a top-level final state. */
const DONE = 2;
const STOPPED = 3;

/** A timer operation, carried out once the event's new state is committed. */
type TimerOp = { readonly id: string; readonly event: EventObject | undefined; readonly delay: number };

/** One task's run of the compiled machine; it is its own snapshot view (fields change only at a commit). */
class CompiledRun implements TaskRun, TaskSnapshotView {
  readonly #env: RunEnv;
  #leaf: Leaf;
  context: TaskMachineContext;
  #status = NOT_STARTED;
  #busy = false;
  /** Events sent while one is processed (and before start), in order. */
  #inbox: TaskMachineEvent[] | undefined = undefined;
  #stopRequested = false;
  /** The one running `after` timer (the common case), and any more in a map. */
  #timerId: string | undefined = undefined;
  #timer: unknown = undefined;
  #timers: Map<string, unknown> | undefined = undefined;

  constructor(env: RunEnv, input: TaskMachineInput) {
    this.#env = env;
    this.#leaf = env.table.initial;
    this.context = env.table.context(input) as unknown as TaskMachineContext;
  }

  get value(): StateValue {
    return this.#leaf.value;
  }

  getSnapshot(): TaskSnapshotView {
    return this;
  }

  /** As XState's snapshot answers, also once stopped (the run then drops the event); a final state takes nothing. */
  can(event: TaskMachineEvent): boolean {
    const chosen = select(this.#leaf.on.get(event.type), this.context as unknown as ActionArgs['context'], event);
    return chosen !== undefined && chosen.counts;
  }

  start(): void {
    if (this.#status !== NOT_STARTED) return;
    this.#status = ACTIVE;
    this.#busy = true;
    try {
      const steps = this.#env.table.initialSteps;
      if (steps.length > 0) this.#run(steps, -1, { type: 'xstate.init' } as EventObject);
      this.#settleInbox();
    } finally {
      this.#busy = false;
    }
  }

  send(event: TaskMachineEvent): void {
    if (this.#status === DONE || this.#status === STOPPED) return;
    if (this.#busy || this.#status === NOT_STARTED) {
      (this.#inbox ??= []).push(event);
      return;
    }
    this.#busy = true;
    try {
      this.#process(event);
      this.#settleInbox();
    } finally {
      this.#busy = false;
    }
  }

  stop(): void {
    if (this.#status === STOPPED) return;
    this.#inbox = undefined;
    if (this.#busy) {
      this.#stopRequested = true; // after the event being processed, as XState's mailbox does
      return;
    }
    this.#halt(STOPPED);
  }

  #settleInbox(): void {
    for (;;) {
      if (this.#stopRequested) {
        this.#stopRequested = false;
        this.#halt(STOPPED);
        return;
      }
      const inbox = this.#inbox;
      if (inbox === undefined || inbox.length === 0 || this.#status !== ACTIVE) return;
      this.#process(inbox.shift() as TaskMachineEvent);
    }
  }

  #process(event: TaskMachineEvent): void {
    let chosen: Candidate | undefined;
    try {
      chosen = select(this.#leaf.on.get(event.type), this.context as unknown as ActionArgs['context'], event);
    } catch (error) {
      this.#fail(error); // a guard that throws stops the run as an action that throws does (XState: status 'error')
      return;
    }
    if (chosen !== undefined) this.#run(chosen.steps, chosen.target, event);
  }

  /** Runs a microstep's steps and commits its outcome; `target` -1 stays in the same leaf. */
  #run(steps: readonly Step[], target: number, event: EventObject): void {
    let context = this.context as unknown as Record<string, unknown>;
    let timerOps: TimerOp[] | undefined;
    try {
      for (const step of steps) {
        switch (step.kind) {
          case 'assign': {
            const args: ActionArgs = { context, event };
            // A new object every time, as XState makes one: whoever saw the old one (an action, an assignment that
            // kept it) never sees it change. A spread clones through V8's fast path (several times cheaper than
            // Object.assign into `{}`), and keeps every context of the machine one shape.
            const next = { ...context };
            assignInto(next, step.assignment, args, paramsOf(step.params, step.dynamic, args));
            context = next;
            break;
          }
          case 'exec': {
            const args: ActionArgs = { context, event };
            step.exec?.(args, paramsOf(step.params, step.dynamic, args));
            break;
          }
          case 'schedule':
            (timerOps ??= []).push({ id: step.id, event: step.event, delay: this.#delayOf(step.delay, { context, event }) });
            break;
          case 'cancel':
            (timerOps ??= []).push({ id: step.id, event: undefined, delay: 0 });
            break;
        }
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    // Commit, then the deferred timer operations, as an XState actor does after its snapshot is updated.
    this.context = context as unknown as TaskMachineContext;
    if (target >= 0) this.#leaf = this.#env.table.leaves[target] as Leaf;
    if (timerOps !== undefined) {
      for (const op of timerOps) {
        if (op.event === undefined) this.#cancel(op.id);
        else this.#schedule(op.id, op.event, op.delay);
      }
    }
    if (this.#leaf.final) this.#halt(DONE);
  }

  #delayOf(delay: Extract<Step, { kind: 'schedule' }>['delay'], args: ActionArgs): number {
    const resolved = typeof delay === 'string' ? this.#env.table.delays[delay] : delay;
    const ms = typeof resolved === 'function' ? (resolved as (args: ActionArgs, params: unknown) => unknown)(args, undefined) : resolved;
    if (typeof ms !== 'number') throw new TypeError(`The delay \`${String(delay)}\` gave ${String(ms)}, not a number of ms`);
    return ms;
  }

  #schedule(id: string, event: EventObject, delay: number): void {
    this.#cancel(id);
    const handle = this.#env.clock.setTimeout(() => this.#fire(id, event), delay);
    if (this.#timerId === undefined) {
      this.#timerId = id;
      this.#timer = handle;
    } else {
      (this.#timers ??= new Map()).set(id, handle);
    }
  }

  #cancel(id: string): void {
    if (this.#timerId === id) {
      this.#env.clock.clearTimeout(this.#timer);
      this.#timerId = undefined;
      this.#timer = undefined;
      return;
    }
    const handle = this.#timers?.get(id);
    if (handle === undefined) return;
    this.#timers?.delete(id);
    this.#env.clock.clearTimeout(handle);
  }

  #fire(id: string, event: EventObject): void {
    if (this.#timerId === id) {
      this.#timerId = undefined;
      this.#timer = undefined;
    } else {
      this.#timers?.delete(id);
    }
    this.send(event as TaskMachineEvent);
  }

  #fail(error: unknown): void {
    this.#halt(STOPPED);
    reportUnhandledError(error);
  }

  #halt(status: typeof DONE | typeof STOPPED): void {
    this.#status = status;
    this.#inbox = undefined;
    if (this.#timerId !== undefined) this.#cancel(this.#timerId);
    if (this.#timers !== undefined) for (const id of [...this.#timers.keys()]) this.#cancel(id);
  }
}

/** The first candidate whose guard passes, as XState selects it. */
function select(candidates: readonly Candidate[] | undefined, context: ActionArgs['context'], event: EventObject): Candidate | undefined {
  if (candidates === undefined) return undefined;
  let args: ActionArgs | undefined;
  for (const candidate of candidates) {
    if (candidate.guard === undefined) return candidate;
    args ??= { context, event };
    if (candidate.guard(args, paramsOf(candidate.guardParams, candidate.guardDynamic, args))) return candidate;
  }
  return undefined;
}

/**
 * Writes what an `assign` produces into `next` (a copy of the context): a function's partial result, or each
 * property's value, every value computed from `args` (the context before this assignment), as XState does.
 */
function assignInto(next: Record<string, unknown>, assignment: unknown, args: ActionArgs, params: unknown): void {
  if (typeof assignment === 'function') {
    Object.assign(next, (assignment as (args: ActionArgs, params: unknown) => Record<string, unknown>)(args, params));
    return;
  }
  for (const key of Object.keys(assignment as object)) {
    const value = (assignment as Record<string, unknown>)[key];
    next[key] = typeof value === 'function' ? (value as (args: ActionArgs, params: unknown) => unknown)(args, params) : value;
  }
}

/** As XState reports an error thrown inside an actor with no error observer: thrown on a later tick. */
function reportUnhandledError(error: unknown): void {
  setTimeout(() => {
    throw error;
  });
}
